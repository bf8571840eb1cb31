"""Study settings: defaults < study file (TOML) < command line, checked before anything runs.

A study file holds the launcher's options at the top level (same names as the flags, with
underscores), a ``[ranges]`` table overriding the search space's ranges and a ``[config]``
table of fixed training keys (any :class:`centerir.config.Config` key not searched)::

    num_samples = 40
    folds = 10
    epochs = 100
    space = "paper"

    [ranges]
    lr = [3e-5, 1e-3]

    [config]
    patience = 10
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from centerir.config import Config, ConfigError, read_mapping
from centerir.contract import DEFAULT_OBJECTIVE, MAX_OUTER_FOLDS, METRICS, outer_fold_folder

DEMO_DEFAULTS = {"num_samples": 8, "folds": 3, "epochs": 6}  # minutes on 2 CPU cores
DATA_DEFAULTS = {"num_samples": 20, "folds": 10, "epochs": 100}
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MAX_HOLDOUT = 0.5
# Seconds between copies of results and experiment state to storage_path (Tune's default
# waits 10 s or more): an interrupted study keeps what finished, `results --watch` is live.
SYNC_SECONDS = 5


@dataclass(frozen=True)
class StudySettings:
    """Everything a study needs; see ``python -m tune_study.launch --help``."""

    x: str | None = None  # EEG windows .npy (None with y None: the demo data)
    y: str | None = None
    groups: str | None = None
    address: str | None = None  # None: local Ray; "auto"; "ray://host:10001"
    num_samples: int | None = None  # trials; None: 8 on demo data, 20 on user data
    max_concurrent: int | None = None  # None: as many as the resources allow
    cpus_per_trial: float = 1.0
    gpus_per_trial: float | None = None  # None: 1 when the cluster has GPUs, else 0
    folds: int | None = None  # None: 3 on demo data, 10 on user data
    epochs: int | None = None  # None: 6 on demo data, 100 on user data
    space: str = "default"
    seed: int = 42
    storage_path: str = "./ray_results"
    name: str | None = None  # None: centerir-<date>-<time>
    time_budget: float | None = None  # seconds for the whole study
    optuna_storage: str | None = None  # e.g. sqlite:///study.db
    prune: bool = False
    objective: str = DEFAULT_OBJECTIVE  # fold-averaged metric searched, ranked and pruned on
    holdout: float | None = None  # share of subjects set aside; None: 0.2 when it fits, else 0
    outer_folds: int | None = None  # nested CV: a whole study per outer fold (no hold-out)
    dashboard_host: str = "127.0.0.1"
    dashboard_port: int | None = None  # None: 8265, or a free port when 8265 is taken
    ranges: dict[str, Any] = field(default_factory=dict)  # [ranges] table: space overrides
    config: dict[str, Any] = field(default_factory=dict)  # [config] table

    @property
    def uses_demo(self) -> bool:
        return self.x is None

    def resolved(self) -> StudySettings:
        """Fill demo/data-dependent defaults."""
        defaults = DEMO_DEFAULTS if self.uses_demo else DATA_DEFAULTS
        return replace(
            self,
            **{
                key: getattr(self, key) if getattr(self, key) is not None else value
                for key, value in defaults.items()
            },
        )

    def base_config(self) -> Config:
        """The fixed part of every trial's config: [config] table, folds, epochs, seed."""
        values = dict(self.config)
        values.update(folds=self.folds, epochs=self.epochs, seed=self.seed)
        return Config.from_dict(values)

    def outer_fold(self, number: int) -> StudySettings:
        """The settings of outer fold ``number`` (1-based) of a nested study: a study of its
        own, in a folder inside this one's."""
        return replace(
            self,
            storage_path=str(self.experiment_dir()),
            name=outer_fold_folder(str(self.name), number),
            outer_folds=None,
        )

    def experiment_dir(self) -> Path:
        return Path(self.storage_path).expanduser().resolve() / str(self.name)

    def to_dict(self) -> dict[str, Any]:
        """Every setting, as plain JSON values."""
        return asdict(self)


FLAG_NAMES = [f.name for f in fields(StudySettings) if f.name not in ("ranges", "config")]


def read_study_file(path: Path) -> dict[str, Any]:
    """Top-level options plus the ``[ranges]`` and ``[config]`` tables of a TOML study file."""
    if path.suffix.lower() != ".toml":
        raise ConfigError(f"{path}: expected a .toml study file, got {path.suffix or 'no'} suffix.")
    values = read_mapping(path)
    unknown = sorted(set(values) - set(FLAG_NAMES) - {"ranges", "config"})
    if unknown:
        raise ConfigError(
            f"{path}: unknown study key(s) {', '.join(map(repr, unknown))}; "
            f"valid keys: {', '.join(FLAG_NAMES)}, [ranges], [config]."
        )
    for table in ("ranges", "config"):
        if not isinstance(values.get(table, {}), dict):
            raise ConfigError(f"{path}: [{table}] must be a table, got {values[table]!r}.")
    return values


KINDS = {"bool": "true or false", "int": "an integer", "float": "a finite number"}
KINDS["str"] = "a string"


def expected_kind(annotation: str) -> str:
    """``"int | None"`` -> ``"int"``; ``"dict[str, Any]"`` -> ``"dict"``."""
    return annotation.split("|")[0].split("[")[0].strip()


def has_kind(value: Any, kind: str) -> bool:
    """Whether ``value`` (from TOML, JSON or a flag) is of a setting's kind."""
    if kind in ("int", "float") and isinstance(value, bool):
        return False
    if kind == "float":
        return isinstance(value, (int, float)) and math.isfinite(value)
    return isinstance(value, {"bool": bool, "int": int, "str": str, "dict": dict}[kind])


def check_types(settings: StudySettings) -> None:
    """Every setting of its kind (a study file can hold anything)."""
    for f in fields(settings):
        value = getattr(settings, f.name)
        if value is None and "None" in f.type:
            continue
        kind = expected_kind(f.type)
        if not has_kind(value, kind):
            expected = KINDS.get(kind, f"a [{f.name}] table")
            raise ConfigError(f"{f.name} must be {expected}, got {f.name}={value!r}.")


def check_settings(settings: StudySettings) -> None:
    """Reject settings that cannot work, before any data is read or anything written."""
    check_types(settings)
    if (settings.x is None) != (settings.y is None):
        raise ConfigError("--x and --y must be given together (or neither, for the demo data).")
    if settings.groups is not None and settings.x is None:
        raise ConfigError("--groups needs --x and --y.")
    if settings.name is not None and not NAME_PATTERN.match(settings.name):
        raise ConfigError(
            f"name must be a plain folder name (letters, digits, '.', '_', '-'; no '/' or '..'), "
            f"got {settings.name!r}."
        )
    if settings.name is not None and settings.name.strip(".") == "":
        raise ConfigError(f"name must not be '.' or '..', got {settings.name!r}.")
    for key, low in (("num_samples", 1), ("max_concurrent", 1), ("folds", 2), ("epochs", 1)):
        value = getattr(settings, key)
        if value is not None and value < low:
            raise ConfigError(f"{key} must be >= {low}, got {key}={value!r}.")
    if settings.cpus_per_trial <= 0:
        raise ConfigError(f"cpus_per_trial must be > 0, got {settings.cpus_per_trial!r}.")
    if settings.gpus_per_trial is not None and settings.gpus_per_trial < 0:
        raise ConfigError(f"gpus_per_trial must be >= 0, got {settings.gpus_per_trial!r}.")
    if settings.time_budget is not None and settings.time_budget <= 0:
        raise ConfigError(f"time_budget must be > 0 seconds, got {settings.time_budget!r}.")
    if settings.dashboard_port is not None and not 0 < settings.dashboard_port < 65536:
        raise ConfigError(f"dashboard_port must be 1-65535, got {settings.dashboard_port!r}.")
    if settings.objective not in METRICS:
        raise ConfigError(
            f"objective must be one of the reported metrics ({', '.join(METRICS)}), got "
            f"{settings.objective!r}."
        )
    if settings.holdout is not None and not 0 <= settings.holdout <= MAX_HOLDOUT:
        raise ConfigError(
            f"holdout must be a share of subjects in [0, {MAX_HOLDOUT}], got {settings.holdout!r}."
        )
    if settings.outer_folds is not None:
        if not 2 <= settings.outer_folds <= MAX_OUTER_FOLDS:
            raise ConfigError(
                f"outer_folds must be from 2 to {MAX_OUTER_FOLDS}, got "
                f"outer_folds={settings.outer_folds!r}."
            )
        if settings.holdout:
            raise ConfigError(
                f"holdout must be 0 or unset with outer_folds (each outer fold's subjects are "
                f"the held-out ones), got holdout={settings.holdout!r}."
            )
    if settings.optuna_storage is not None and "://" not in settings.optuna_storage:
        raise ConfigError(
            "optuna_storage must be a database URL like sqlite:///study.db, "
            f"got {settings.optuna_storage!r}."
        )
