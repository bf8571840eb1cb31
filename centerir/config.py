"""One configuration type for a CenterIR cross-validation, with the paper's values as defaults.

The same keys are used everywhere: JSON/TOML/YAML files, the CLIs, Ray trial configs and
exported best configs. ``lambda`` is a Python keyword, so the field is ``lambda_`` and the
key in every file and dict is ``"lambda"``.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from centerir.contract import (
    PUBLISHED,
    REMAINDER_POLICIES,
    SELECTIONS,
    STUDY_NOTE_KEY,
    UserError,
    read_text_file,
)


class ConfigError(UserError):
    """A bad configuration; ``str(err)`` is one line saying what is wrong and what is valid."""


def check_k_set(k: Sequence[int]) -> tuple[int, ...]:
    """Validate a k set (group sizes >= 1, none repeated); return it as a tuple of ints.

    Raises ``ValueError`` (the loss's callers may be library code); :func:`parse_k` turns it
    into a ``ConfigError`` for files and flags.
    """
    values = tuple(k)
    if not values:
        raise ValueError("k must hold at least one group size, got an empty k set.")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"every k must be an int >= 1, got k={list(values)!r}.")
    if len(set(values)) != len(values):
        raise ValueError(f"k must not repeat a value, got k={list(values)!r}.")
    return tuple(int(v) for v in values)


def parse_k(value: str | Sequence[int]) -> tuple[int, ...]:
    """A k set from ``"1-3-5-15"``, ``"1,3,5,15"``, ``[1, 3, 5, 15]`` or a single int."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value]
    if isinstance(value, str):
        parts = value.replace(",", "-").split("-")
        try:
            value = [int(part) for part in parts if part.strip()]
        except ValueError:
            raise ConfigError(
                f"k must be group sizes like '1-3-5-15' or '1,3,5,15', got {value!r}."
            ) from None
    values = []
    for item in value:
        if isinstance(item, float) and item.is_integer():
            item = int(item)
        values.append(item)
    try:
        return check_k_set(values)
    except ValueError as err:
        raise ConfigError(str(err)) from None


def format_k(k: Sequence[int]) -> str:
    """``(1, 3, 5, 15)`` -> ``"1-3-5-15"``, the name the search spaces use."""
    return "-".join(str(value) for value in k)


@dataclass(frozen=True)
class Config:
    """Every hyperparameter of one CenterIR cross-validation.

    Defaults are the published ones (batch 32, 100 epochs, 10 folds and
    :data:`centerir.contract.PUBLISHED`: lr 1e-4, 16 boundaries, k = 1-3-5-15, lambda 5e-8)
    plus this project's protocol settings.
    """

    lr: float = PUBLISHED["lr"]  # Adam learning rate
    batch_size: int = 32  # training samples per optimiser step
    epochs: int = 100  # most epochs per fold; early stopping may end a fold sooner
    boundaries: int = PUBLISHED["boundaries"]  # equal-width label bins fitted on fit labels
    k: tuple[int, ...] = parse_k(PUBLISHED["k"])  # CenterIR group sizes, in kept bins
    lambda_: float = PUBLISHED["lambda"]  # CenterIR weight: loss = MSE + lambda * CenterIR
    remainder: str = (
        "group"  # k not dividing the kept bins: "group" (last group smaller) or "strict" (error)
    )
    folds: int = 10  # outer cross-validation folds
    seed: int = 42  # folds, initialisation and batch order
    selection: str = "inner"  # epoch picked on an inner validation split; "test": as published

    patience: int = 15  # epochs without inner-validation improvement before stopping; 0 = never
    val_fraction: float = 0.15  # share of each training part held out to pick the epoch
    weight_decay: float = 0.0  # Adam L2 penalty
    n_filters: int = 32  # temporal and spatial convolution filters
    temporal_kernel: int = 16  # temporal kernel length, samples
    pool_size: int = 35  # average-pooling window, samples
    pool_stride: int = 7  # average-pooling stride, samples
    lstm_hidden: int = 32  # hidden units per LSTM direction
    dropout: float = 0.3  # dropout of the MLP head
    metric_bins: int = 16  # label bins for balanced and many/medium/few-shot MAE (not tuned)
    few_shot: int = 20  # a label bin with fewer training samples than this is "few-shot"
    many_shot: int = 100  # ... and with more than this, "many-shot"
    subject_few_shot: int = 3  # the same for subject-level metrics, in training subjects
    subject_many_shot: int = 10

    def __post_init__(self):
        checks = [
            ("lr", self.lr > 0 and math.isfinite(self.lr), "> 0"),
            ("batch_size", self.batch_size >= 2, ">= 2"),
            ("epochs", self.epochs >= 1, ">= 1"),
            ("boundaries", self.boundaries >= 1, ">= 1"),
            ("lambda", self.lambda_ >= 0 and math.isfinite(self.lambda_), ">= 0"),
            ("remainder", self.remainder in REMAINDER_POLICIES, f"one of {REMAINDER_POLICIES}"),
            ("folds", self.folds >= 2, ">= 2"),
            ("seed", self.seed >= 0, ">= 0"),
            ("selection", self.selection in SELECTIONS, f"one of {SELECTIONS}"),
            ("patience", self.patience >= 0, ">= 0"),
            ("val_fraction", 0 < self.val_fraction < 0.5, "in (0, 0.5)"),
            ("weight_decay", self.weight_decay >= 0, ">= 0"),
            ("n_filters", self.n_filters >= 1, ">= 1"),
            ("temporal_kernel", self.temporal_kernel >= 1, ">= 1"),
            ("pool_size", self.pool_size >= 1, ">= 1"),
            ("pool_stride", self.pool_stride >= 1, ">= 1"),
            ("lstm_hidden", self.lstm_hidden >= 1, ">= 1"),
            ("dropout", 0 <= self.dropout < 1, "in [0, 1)"),
            ("metric_bins", self.metric_bins >= 1, ">= 1"),
            ("few_shot", 0 <= self.few_shot <= self.many_shot, "between 0 and many_shot"),
            (
                "subject_few_shot",
                0 <= self.subject_few_shot <= self.subject_many_shot,
                "between 0 and subject_many_shot",
            ),
        ]
        try:
            check_k_set(self.k)
        except ValueError as err:
            raise ConfigError(str(err)) from None
        for key, ok, rule in checks:
            if not ok:
                raise ConfigError(f"{key} must be {rule}, got {key}={self[key]!r}.")
        if max(self.k) > self.boundaries:
            raise ConfigError(
                f"k={list(self.k)} asks for a group of {max(self.k)} bins but "
                f"boundaries={self.boundaries} makes only {self.boundaries}: every k must be "
                "<= boundaries."
            )

    def __getitem__(self, key: str) -> Any:
        """``config["lambda"]``: values by their file key."""
        return getattr(self, FIELD_OF_KEY[key])

    @classmethod
    def keys(cls) -> list[str]:
        """Valid keys, as written in files."""
        return list(FIELD_OF_KEY)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], base: Config | None = None) -> Config:
        """Build a config from file keys; unknown keys and bad types are a ``ConfigError``.

        Keys not given keep their value in ``base`` (default: the published defaults).
        """
        unknown = sorted(set(values) - set(FIELD_OF_KEY))
        if unknown:
            raise ConfigError(
                f"unknown config key(s) {', '.join(map(repr, unknown))}; "
                f"valid keys: {', '.join(FIELD_OF_KEY)}."
            )
        changes = {FIELD_OF_KEY[key]: coerce(key, value) for key, value in values.items()}
        return replace(base or cls(), **changes)

    def to_dict(self) -> dict[str, Any]:
        """File keys -> plain JSON/TOML values (k as a list)."""
        values = asdict(self)
        return {key: _plain(values[name]) for key, name in FIELD_OF_KEY.items()}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


FIELD_OF_KEY = {("lambda" if f.name == "lambda_" else f.name): f.name for f in fields(Config)}
_TYPES = {f.name: f.type for f in fields(Config)}


def coerce(key: str, value: Any) -> Any:
    """Check and convert one file value to its field's type."""
    kind = _TYPES[FIELD_OF_KEY[key]]
    if key == "k":
        return parse_k(value)
    if kind == "int":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key} must be an integer, got {key}={value!r}.")
        return value
    if kind == "float":
        if isinstance(value, str):
            # YAML 1.1 reads 5e-8 (no dot) as a string; accept any float literal
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key} must be a number, got {key}={value!r}.")
        return float(value)
    if not isinstance(value, str):
        raise ConfigError(f"{key} must be a string, got {key}={value!r}.")
    return value


def read_mapping(path: str | Path) -> dict[str, Any]:
    """Read a JSON, TOML or YAML file into a dict; every failure is one ``ConfigError`` line."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".toml", ".yaml", ".yml"):
        raise ConfigError(
            f"{path}: expected a .json, .toml, .yaml or .yml config file, "
            f"got {suffix or 'no'} suffix."
        )
    text = read_text_file(path, "config file", ConfigError)
    try:
        if suffix == ".json":
            values = json.loads(text)
        elif suffix == ".toml":
            values = tomllib.loads(text)
        else:
            values = yaml.safe_load(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError, yaml.YAMLError) as err:
        first_line = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ConfigError(f"{path}: not valid {suffix[1:].upper()} ({first_line}).") from None
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: expected a table of config keys, got {type(values).__name__}.")
    return values


def load_config(path: str | Path, base: Config | None = None) -> Config:
    """Read a config file (JSON, TOML or YAML) of :class:`Config` keys (and optionally the
    exported note ``centerir.contract.STUDY_NOTE_KEY``, which is ignored)."""
    values = read_mapping(path)
    values.pop(STUDY_NOTE_KEY, None)
    try:
        return Config.from_dict(values, base)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None
