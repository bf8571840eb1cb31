"""Optuna define-by-run search spaces over the CenterIR hyperparameters.

A :class:`SearchSpace` is called with an Optuna trial, as Optuna's define-by-run API and
Ray Tune's ``OptunaSearch(space=...)`` expect: it only calls ``trial.suggest_*`` and
returns the chosen k set under the config key ``"k"``.

The k set is a categorical over named sets ("1-3-5-15", ...; strings, so any Optuna storage
keeps them). Which sets are valid depends on the sampled ``boundaries`` (and, under
``remainder="strict"``, on how many label bins the data actually fill), so each
``boundaries`` value gets its own categorical, ``k_set_b<boundaries>``: Optuna refuses a
categorical whose choices change between trials under one name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from centerir.config import Config, ConfigError, format_k, parse_k, shown
from centerir.contract import REMAINDER_POLICIES, UserError

K_SETS = ("1", "1-2", "1-3", "1-2-4", "1-3-5", "1-2-4-8", "1-3-5-15", "1-4-8", "2-4-8")


def k_values(name: str) -> tuple[int, ...]:
    """``"1-3-5"`` -> ``(1, 3, 5)``."""
    return tuple(int(part) for part in name.split("-"))


def is_number(value: Any, whole: bool = False) -> bool:
    """A finite int or float from a file (not a bool); with ``whole``, an int."""
    if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)):
        return False
    return whole or math.isfinite(value)


def check_range(key: str, pair: Any, whole: bool = False, log: bool = False) -> None:
    """``pair`` must be ``(low, high)`` of two numbers (whole ones with ``whole``) in order,
    both above 0 for a ``log`` range (log-uniform sampling needs it)."""
    kind = "whole numbers" if whole else "finite numbers"
    if not (isinstance(pair, tuple) and len(pair) == 2 and all(is_number(v, whole) for v in pair)):
        got = shown(list(pair) if isinstance(pair, tuple) else pair)
        raise UserError(f"{key} range must be [low, high] of two {kind}, got {got}.")
    low, high = pair
    if not (0 < low <= high if log else low <= high):
        rule = "0 < low <= high" if log else "low <= high"
        raise UserError(f"{key} range must satisfy {rule}, got ({low}, {high}).")


def check_config_value(what: str, key: str, value: Any) -> None:
    """A range end or a choice (``what``, for the message) must be a value of config key
    ``key`` that a :class:`Config` takes: its limits live there only. ``k=[1]`` fits any
    ``boundaries``, so only ``key`` is judged."""
    try:
        Config.from_dict({key: value, "k": [1]})
    except ConfigError as err:
        raise UserError(f"{what}: {err}") from None


def check_k_set_name(name: Any) -> None:
    """A k set name is the canonical ``"1-3-5"`` form of a valid k set (sizes >= 1, none
    repeated): it is an Optuna choice and is read back with :func:`k_values`."""
    try:
        valid = isinstance(name, str) and format_k(parse_k(name)) == name
    except ConfigError:
        valid = False
    if not valid:
        raise UserError(
            f"k set names look like '1-3-5-15' (group sizes >= 1, none repeated), "
            f"got {shown(name)}."
        )


def k_param_name(boundaries: int) -> str:
    """Name of the k-set categorical for one ``boundaries`` branch."""
    return f"k_set_b{boundaries}"


@dataclass(frozen=True)
class SearchSpace:
    """Ranges of a define-by-run space; call it with an Optuna trial.

    Parameters
    ----------
    lr : (low, high)
        Adam learning rate, sampled log-uniformly.
    boundaries : (low, high)
        Number of equal-width label bins, integers, both ends included.
    k_sets : tuple of str
        Candidate k sets; each trial sees only those valid for its ``boundaries``.
    lambda_ : (low, high)
        CenterIR weight, log-uniform. How large lambda must be depends on the data, so a
        study replaces this range with one measured on its data unless the study file's
        ``[ranges]`` sets lambda or the space is "paper" (see
        :func:`tune_study.plan.derive_lambda_range`).
    batch_sizes : tuple of int, optional
        When given, the batch size is searched over these values too.
    dropout : (low, high), optional
        When given, the head's dropout is searched uniformly.
    remainder : {"group", "strict"}
        The loss's remainder policy; decides which k sets are valid.
    kept_bins : mapping int -> tuple of int
        For ``remainder="strict"``: for each ``boundaries``, the kept-bin counts of every
        fold's training labels (computed from the data before the study starts). A k set is
        valid only if each of its k divides all of them.
    """

    lr: tuple[float, float] = (1e-5, 1e-2)
    boundaries: tuple[int, int] = (8, 20)
    k_sets: tuple[str, ...] = K_SETS
    lambda_: tuple[float, float] = (1e-9, 1e-5)
    batch_sizes: tuple[int, ...] | None = None
    dropout: tuple[float, float] | None = None
    remainder: str = "group"
    kept_bins: Mapping[int, tuple[int, ...]] = field(default_factory=dict)

    def __post_init__(self):
        self.check_ranges()  # first: bounds boundaries before boundary_values() is walked
        self.check_choices()
        if self.remainder not in REMAINDER_POLICIES:
            raise UserError(
                f"remainder must be one of {REMAINDER_POLICIES}, got {self.remainder!r}."
            )
        empty = [b for b in self.boundary_values() if not self.valid_k_sets(b)]
        if empty:
            raise UserError(
                f"no k set in {list(self.k_sets)} is valid for boundaries {empty} under "
                f"remainder={self.remainder!r}; narrow the boundaries range or add k sets."
            )

    def check_ranges(self) -> None:
        """Every range in order, and each of its ends a value a config takes."""
        check_range("lr", self.lr, log=True)
        check_range("lambda", self.lambda_, log=True)
        check_range("boundaries", self.boundaries, whole=True)
        ends = {"lr": self.lr, "lambda": self.lambda_, "boundaries": self.boundaries}
        if self.dropout is not None:
            check_range("dropout", self.dropout)
            ends["dropout"] = self.dropout
        for key, values in ends.items():
            for value in values:
                check_config_value(f"{key} range", key, value)

    def check_choices(self) -> None:
        """At least one k set, each a valid name; batch sizes, when searched, valid ones."""
        if not self.k_sets:
            raise UserError("k_sets must name at least one k set, got none.")
        for name in self.k_sets:
            check_k_set_name(name)
        if self.batch_sizes is None:
            return
        if not self.batch_sizes or not all(is_number(v, whole=True) for v in self.batch_sizes):
            raise UserError(
                f"batch_sizes must be a list of whole numbers, got {shown(list(self.batch_sizes))}."
            )
        for value in self.batch_sizes:
            check_config_value("batch_sizes", "batch_size", value)

    def boundary_values(self) -> range:
        return range(self.boundaries[0], self.boundaries[1] + 1)

    def valid_k_sets(self, boundaries: int) -> list[str]:
        """k sets a trial with this many boundaries may use, in the order given."""
        if self.remainder == "strict":
            kept = self.kept_bins.get(boundaries, ())
            if not kept:
                return []
            return [
                name
                for name in self.k_sets
                if all(n % k == 0 for k in k_values(name) for n in kept)
            ]
        return [name for name in self.k_sets if max(k_values(name)) <= boundaries]

    @property
    def searched_keys(self) -> tuple[str, ...]:
        """The config keys (as in config files) every trial of this space samples."""
        keys = ("lr", "boundaries", "k", "lambda")
        return keys + ("batch_size",) * bool(self.batch_sizes) + ("dropout",) * bool(self.dropout)

    def __call__(self, trial) -> dict[str, Any]:
        """Sample one configuration (define-by-run); returns ``{"k": chosen set}``."""
        trial.suggest_float("lr", *self.lr, log=True)
        boundaries = trial.suggest_int("boundaries", *self.boundaries)
        k_set = trial.suggest_categorical(k_param_name(boundaries), self.valid_k_sets(boundaries))
        trial.suggest_float("lambda", *self.lambda_, log=True)
        if self.batch_sizes:
            trial.suggest_categorical("batch_size", list(self.batch_sizes))
        if self.dropout:
            trial.suggest_float("dropout", *self.dropout)
        return {"k": k_set}

    def contains(self, point: Mapping[str, Any]) -> bool:
        """Whether a config (``lr``, ``boundaries``, ``k``, ``lambda``) lies in this space."""
        return (
            self.admits(point)
            and self.lr[0] <= point["lr"] <= self.lr[1]
            and self.lambda_[0] <= point["lambda"] <= self.lambda_[1]
        )

    def admits(self, point: Mapping[str, Any]) -> bool:
        """Whether a config can be enqueued: its ``boundaries`` lie in the range and its
        ``k`` is a valid choice there. Its lr and lambda may lie outside their ranges: Optuna
        evaluates an enqueued value as it is and learns from it like any other."""
        return self.boundaries[0] <= point["boundaries"] <= self.boundaries[1] and point[
            "k"
        ] in self.valid_k_sets(point["boundaries"])

    def as_trial_params(self, point: Mapping[str, Any]) -> dict[str, Any]:
        """A config as the parameter names Optuna sees (for ``points_to_evaluate``); it must
        hold every searched key (``batch_size`` and ``dropout`` too where searched)."""
        params = {
            "lr": point["lr"],
            "boundaries": point["boundaries"],
            k_param_name(point["boundaries"]): point["k"],
            "lambda": point["lambda"],
        }
        if self.batch_sizes:
            params["batch_size"] = point["batch_size"]
        if self.dropout:
            params["dropout"] = point["dropout"]
        return params

    def with_overrides(self, values: Mapping[str, Any]) -> SearchSpace:
        """Replace ranges from a study file's ``[ranges]`` table (keys as in config files)."""
        names = {
            ("lambda" if f.name == "lambda_" else f.name): f.name
            for f in fields(self)
            if f.name not in ("remainder", "kept_bins")
        }
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise UserError(f"unknown [ranges] key(s) {unknown}; valid keys: {', '.join(names)}.")
        changes = {}
        for key, value in values.items():
            if not isinstance(value, list):
                form = "a list" if key in ("k_sets", "batch_sizes") else "[low, high]"
                raise UserError(f"[ranges] {key} must be {form}, got {shown(value)}.")
            changes[names[key]] = tuple(value)
        return replace(self, **changes)


SPACES: dict[str, SearchSpace] = {
    # broad ranges over the four hyperparameters the paper tunes
    "default": SearchSpace(),
    # narrow ranges around the published configuration
    "paper": SearchSpace(
        lr=(3e-5, 3e-4),
        boundaries=(14, 18),
        k_sets=("1-3-5-15", "1-3-5", "1-2-4-8", "1-3", "1"),
        lambda_=(1e-8, 2.5e-7),
    ),
    # the default ranges plus batch size and dropout
    "wide": SearchSpace(batch_sizes=(16, 32, 64), dropout=(0.1, 0.5)),
}


def get_space(
    name: str,
    remainder: str = "group",
    kept_bins: Mapping[int, tuple[int, ...]] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> SearchSpace:
    """A named space, with the data's remainder policy and kept bins and any overrides."""
    if name not in SPACES:
        raise UserError(f"space must be one of {sorted(SPACES)}, got {name!r}.")
    space = SPACES[name]
    if overrides:
        space = space.with_overrides(overrides)
    return replace(space, remainder=remainder, kept_bins=dict(kept_bins or {}))
