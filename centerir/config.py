"""One configuration type for a CenterIR cross-validation, with the paper's values as defaults.

The same keys are used everywhere: JSON/TOML/YAML files, the CLIs, Ray trial configs and
exported best configs. ``lambda`` is a Python keyword, so the field is ``lambda_`` and the
key in every file and dict is ``"lambda"``.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
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
    strict_json,
)


class ConfigError(UserError):
    """A bad configuration; ``str(err)`` is one line saying what is wrong and what is valid."""


# Largest values the math takes. Each lies far beyond any useful setting; past it, memory
# runs out or float32 overflows before training could say what went wrong.
MAX_BINS = 1000  # boundaries, metric_bins: CenterIR builds a group table per k over the bins
MAX_LAMBDA = 1e6  # lambda * CenterIR stays finite in float32 (CenterIR <= 4 per feature);
# useful values are ~1e-9 to 1e3 (see centerir.lambda_scale)
MAX_UNITS = 4096  # n_filters, lstm_hidden: a 4096-unit BiLSTM already holds ~270 M weights
MAX_SAMPLES = 1_000_000  # temporal_kernel, pool_size, pool_stride (over an hour at 250 Hz)
MAX_SEED = 2**31 - 1  # fold numbers are added to it; scikit-learn takes seeds below 2**32
_TOO_BIG = "larger values exhaust memory long before they could help"
UPPER_LIMITS = {  # key -> (largest value, why)
    "boundaries": (MAX_BINS, _TOO_BIG),
    "metric_bins": (MAX_BINS, _TOO_BIG),
    "lambda": (MAX_LAMBDA, "larger weights overflow float32 and leave MSE no say"),
    "n_filters": (MAX_UNITS, _TOO_BIG),
    "lstm_hidden": (MAX_UNITS, _TOO_BIG),
    "temporal_kernel": (MAX_SAMPLES, _TOO_BIG),
    "pool_size": (MAX_SAMPLES, _TOO_BIG),
    "pool_stride": (MAX_SAMPLES, _TOO_BIG),
    "seed": (MAX_SEED, "each fold adds its number, and scikit-learn takes seeds below 2**32"),
}
# k as text: ASCII digits only (int() also reads full-width ones), "-" or "," between.
K_TEXT = re.compile(r"\s*[0-9]+\s*(?:[-,]\s*[0-9]+\s*)*")
K_FORMS = "group sizes like '1-3-5-15', '1,3,5,15' or [1, 3, 5, 15]"
PRECISIONS = ("fp32", "bf16")  # arithmetic of the training forward pass (see Config.precision)


def shown(value: Any, width: int = 60) -> str:
    """``repr(value)`` for a message, cut to ``width`` characters: a hostile value (a
    300-digit int, a list of a million items) must not flood the one-line error."""
    text = repr(value)
    return text if len(text) <= width else f"{text[: width - 3]}..."


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
            raise ValueError(f"every k must be an int >= 1, got k={shown(list(values))}.")
    if len(set(values)) != len(values):
        raise ValueError(f"k must not repeat a value, got k={shown(list(values))}.")
    return tuple(int(v) for v in values)


def parse_k(value: str | Sequence[int]) -> tuple[int, ...]:
    """A k set from ``"1-3-5-15"``, ``"1,3,5,15"``, ``[1, 3, 5, 15]`` or a single int."""
    if isinstance(value, str):
        value = k_from_text(value)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value]
    elif not isinstance(value, (list, tuple)):
        raise ConfigError(f"k must be {K_FORMS}, got k={shown(value)}.")
    values = []
    for item in value:
        if isinstance(item, float) and item.is_integer():
            item = int(item)
        values.append(item)
    try:
        return check_k_set(values)
    except ValueError as err:
        raise ConfigError(str(err)) from None


def k_from_text(text: str) -> list[int]:
    """``"1-3-5-15"`` or ``"1,3,5,15"`` -> ``[1, 3, 5, 15]``; only separators: ``[]``.

    ``"-1"`` is refused, not read as ``[1]``: the ``-`` cannot be both a sign and a separator.
    """
    if not text.strip(" ,-"):
        return []
    if not K_TEXT.fullmatch(text):
        raise ConfigError(f"k must be {K_FORMS}, got k={shown(text)}.")
    return [int(part) for part in re.split("[-,]", text)]


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
    # "bf16": the training forward pass under bfloat16 autocast on CUDA (loss terms, weights
    # and evaluation stay float32); on a CPU it trains in fp32 (bf16 autocast gave 1.03x there)
    precision: str = "fp32"

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
            (
                "weight_decay",
                self.weight_decay >= 0 and math.isfinite(self.weight_decay),
                ">= 0 and finite",
            ),
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
            ("precision", self.precision in PRECISIONS, f"one of {PRECISIONS}"),
        ]
        try:
            check_k_set(self.k)
        except ValueError as err:
            raise ConfigError(str(err)) from None
        for key, ok, rule in checks:
            if not ok:
                raise ConfigError(f"{key} must be {rule}, got {key}={shown(self[key])}.")
        for key, (limit, why) in UPPER_LIMITS.items():
            if self[key] > limit:
                most = f"{limit:g}" if isinstance(limit, float) else limit
                raise ConfigError(f"{key} must be <= {most}, got {key}={shown(self[key])}: {why}.")
        if max(self.k) > self.boundaries:
            raise ConfigError(
                f"k={shown(list(self.k))} asks for a group of {shown(max(self.k))} bins but "
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
        if not isinstance(values, Mapping):
            raise ConfigError(
                f"expected a table of config keys, got {type(values).__name__} {shown(values)}."
            )
        unknown = sorted(set(values) - set(FIELD_OF_KEY), key=repr)
        if unknown:
            more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
            raise ConfigError(
                f"unknown config key(s) {', '.join(map(shown, unknown[:3]))}{more}; "
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
        try:
            number = float(value)
        except OverflowError:  # an int beyond the float range
            number = math.inf
        if not math.isfinite(number):
            raise ConfigError(f"{key} must be a finite number, got {key}={shown(value)}.")
        return number
    if not isinstance(value, str):
        raise ConfigError(f"{key} must be a string, got {key}={value!r}.")
    return value


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice (plain YAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        keys = [self.construct_object(key, deep=True) for key, _ in node.value]
        # counted in one pass: keys.count() per key took minutes on a hostile 1e5-key file
        counts = Counter(key if isinstance(key, Hashable) else repr(key) for key in keys)
        repeated = sorted(str(key) for key, count in counts.items() if count > 1)
        if repeated:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {repeated[0]!r} given twice", node.start_mark
            )
        return super().construct_mapping(node, deep)


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
            values = strict_json(text)
        elif suffix == ".toml":
            values = tomllib.loads(text)
        else:
            values = yaml.load(text, Loader=UniqueKeyLoader)
    except RecursionError:
        raise ConfigError(f"{path}: expected a config file, got values nested too deep.") from None
    except (ValueError, yaml.YAMLError) as err:
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
