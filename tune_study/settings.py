"""Study settings: defaults < study file (TOML) < command line, checked before anything runs.

A study file holds the launcher's options at the top level (same names as the flags, with
underscores), a ``[ranges]`` table overriding the search space's ranges and a ``[config]``
table of fixed training keys (any :class:`centerir.config.Config` key neither searched nor
set at the top level, as folds, epochs and seed are)::

    num_samples = 40
    folds = 10
    epochs = 100
    space = "paper"

    [ranges]
    lr = [3e-5, 1e-3]

    [config]
    patience = 10

Every value is checked for its kind and range before anything runs (a study file's errors
name the file); the limits of config values live in :class:`centerir.config.Config` only.
"""

from __future__ import annotations

import math
import re
import socket
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from centerir.command_line import URI
from centerir.config import Config, ConfigError, read_mapping, shown
from centerir.contract import (
    DEFAULT_OBJECTIVE,
    MAX_OBJECTIVES,
    MAX_OUTER_FOLDS,
    UserError,
    outer_fold_folder,
    parse_objectives,
)
from search_spaces import SPACES, get_space

DEMO_DEFAULTS = {"num_samples": 8, "folds": 3, "epochs": 6}  # minutes on 2 CPU cores
DATA_DEFAULTS = {"num_samples": 20, "folds": 10, "epochs": 100}
# Settings that are also config keys: the study sets them, so [config] must not.
STUDY_CONFIG_KEYS = ("folds", "epochs", "seed")
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")  # fullmatch: no "$" newline
MAX_HOLDOUT = 0.5
MAX_PORT = 65535
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
    # fold-averaged metrics searched and ranked on, comma-separated: one (also pruned on), or
    # up to MAX_OBJECTIVES for a Pareto front whose exported best is the first's best
    objectives: str = DEFAULT_OBJECTIVE
    holdout: float | None = None  # share of subjects set aside; None: 0.2 when it fits, else 0
    outer_folds: int | None = None  # nested CV: a whole study per outer fold (no hold-out)
    dashboard_host: str = "127.0.0.1"
    dashboard_port: int | None = None  # None: 8265, or a free port when 8265 is taken
    ranges: dict[str, Any] = field(default_factory=dict)  # [ranges] table: space overrides
    config: dict[str, Any] = field(default_factory=dict)  # [config] table

    @property
    def uses_demo(self) -> bool:
        return self.x is None

    @property
    def objective_names(self) -> tuple[str, ...]:
        """The objectives, in order (``objectives="mae,few_mae"`` -> ``("mae", "few_mae")``)."""
        return parse_objectives(self.objectives)

    @property
    def objective(self) -> str:
        """The first objective: pruned on, shown first, the exported best's lowest."""
        return self.objective_names[0]

    @property
    def multi_objective(self) -> bool:
        return len(self.objective_names) > 1

    def resolved(self) -> StudySettings:
        """Fill demo/data-dependent defaults; the objectives spelled plainly (``mae,few_mae``)."""
        defaults = DEMO_DEFAULTS if self.uses_demo else DATA_DEFAULTS
        return replace(
            self,
            objectives=",".join(self.objective_names),
            **{
                key: getattr(self, key) if getattr(self, key) is not None else value
                for key, value in defaults.items()
            },
        )

    def base_config(self) -> Config:
        """The fixed part of every trial's config: [config] table, folds, epochs, seed."""
        values = dict(self.config)
        values.update({key: getattr(self, key) for key in STUDY_CONFIG_KEYS})
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
# What an experiment's settings file holds beyond the fields: for its readers, not a setting.
DERIVED_SETTINGS = ("base_config", "plan", "objective")


def objectives_of_study_file(values: dict[str, Any], path: Path) -> None:
    """A study file's ``objective`` (one metric) or ``objectives`` (a comma-separated string
    or a list of names), as the ``objectives`` setting, in place."""
    if "objective" in values:
        if "objectives" in values:
            raise ConfigError(f"{path}: give 'objectives' or 'objective', not both.")
        values["objectives"] = values.pop("objective")
    names = values.get("objectives")
    if isinstance(names, list):
        if not names or not all(isinstance(name, str) and "," not in name for name in names):
            raise ConfigError(
                f"{path}: objectives must be a list of metric names (or one string of them "
                f"separated by commas), got objectives={shown(names)}."
            )
        values["objectives"] = ",".join(names)


def read_study_file(path: Path) -> dict[str, Any]:
    """Top-level options plus the ``[ranges]`` and ``[config]`` tables of a TOML study file,
    each checked; an error names the file."""
    if path.suffix.lower() != ".toml":
        raise ConfigError(f"{path}: expected a .toml study file, got {path.suffix or 'no'} suffix.")
    values = read_mapping(path)
    objectives_of_study_file(values, path)
    unknown = sorted(set(values) - set(FLAG_NAMES) - {"ranges", "config"})
    if unknown:
        raise ConfigError(
            f"{path}: unknown study key(s) {', '.join(map(repr, unknown))}; "
            f"valid keys: {', '.join(FLAG_NAMES)}, [ranges], [config]."
        )
    try:
        check_values(StudySettings(**values))
    except UserError as err:
        raise ConfigError(f"{path}: {err}") from None
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
            raise ConfigError(f"{f.name} must be {expected}, got {f.name}={shown(value)}.")


def is_local_path(value: str) -> bool:
    """Not empty, no control character (NUL no file system takes; a newline makes names
    that break every listing) and no ``scheme://`` URI: the study reads and writes local
    (or mounted) paths only."""
    return value.isprintable() and value != "" and not URI.match(value)


def objectives_problem(text: str) -> str | bool:
    """True for a valid ``objectives`` value, else what is wrong with it."""
    try:
        parse_objectives(text)
    except ValueError as err:
        return str(err)
    return True


LOCAL_FILE = "a local file path (not empty, no control characters, no URI like s3://)"
# setting -> (test of a value of the right kind, what the test asks for)
RULES: dict[str, tuple[Callable[[Any], Any], str]] = {
    "x": (is_local_path, LOCAL_FILE),
    "y": (is_local_path, LOCAL_FILE),
    "groups": (is_local_path, LOCAL_FILE),
    "num_samples": (lambda n: n >= 1, ">= 1"),
    "max_concurrent": (lambda n: n >= 1, ">= 1"),
    "cpus_per_trial": (lambda n: n > 0, "> 0"),
    "gpus_per_trial": (lambda n: n >= 0, ">= 0"),
    "space": (lambda name: name in SPACES, f"one of {sorted(SPACES)}"),
    "storage_path": (
        is_local_path,
        "a local folder (no control characters; URIs like s3://bucket/x are not supported: "
        "mount the storage and give its path)",
    ),
    "name": (
        NAME_PATTERN.fullmatch,
        "a plain folder name (letters, digits, '.', '_', '-'; no '/' or '..')",
    ),
    "time_budget": (lambda seconds: seconds > 0, "> 0 seconds"),
    "optuna_storage": (lambda url: "://" in url, "a database URL like sqlite:///study.db"),
    "objectives": (
        objectives_problem,
        f"1 to {MAX_OBJECTIVES} distinct reported metrics separated by commas",
    ),
    "holdout": (
        lambda share: 0 <= share <= MAX_HOLDOUT,
        f"a share of subjects in [0, {MAX_HOLDOUT}]",
    ),
    "outer_folds": (lambda n: 2 <= n <= MAX_OUTER_FOLDS, f"from 2 to {MAX_OUTER_FOLDS}"),
    "dashboard_port": (lambda port: 1 <= port <= MAX_PORT, f"a port from 1 to {MAX_PORT}"),
}


def check_rules(settings: StudySettings) -> None:
    """Each setting that is given against its rule in :data:`RULES` (a rule's test may
    return a reason instead of False, said before the rule)."""
    for key, (ok, rule) in RULES.items():
        value = getattr(settings, key)
        if value is None:
            continue
        verdict = ok(value)
        if isinstance(verdict, str) or not verdict:
            reason = f" ({verdict})" if isinstance(verdict, str) else ""
            raise ConfigError(f"{key} must be {rule}, got {key}={shown(value)}{reason}.")


def check_dashboard_host(host: str) -> None:
    """The dashboard must listen on an address of this machine: resolve ``host`` and bind a
    probe socket there on a free port, as Ray will (no port stays taken)."""
    try:
        family, kind, _, _, address = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind) as probe:
            probe.bind(address)
    except (OSError, UnicodeError, ValueError) as err:
        reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
        raise ConfigError(
            f"dashboard_host must be an IP address or host name of this machine, got "
            f"dashboard_host={shown(host)} ({reason}); omit it for 127.0.0.1."
        ) from None


def check_config_table(settings: StudySettings, searched: tuple[str, ...]) -> None:
    """The ``[config]`` table: valid config keys and values, none of them one that the
    study sets (folds, epochs, seed) or the space searches (``searched``): either would
    silently win over it."""
    study_keys = [key for key in STUDY_CONFIG_KEYS if key in settings.config]
    if study_keys:
        raise ConfigError(
            f"[config] sets {study_keys[0]!r}, a study setting: write it at the top level of "
            f"the study file or pass --{study_keys[0]}."
        )
    fixed = [key for key in searched if key in settings.config]
    if fixed:
        raise ConfigError(
            f"[config] fixes {', '.join(map(repr, fixed))}, which the '{settings.space}' space "
            "searches: remove it from [config] or narrow its range in [ranges]."
        )
    try:
        Config.from_dict(settings.config)
    except ConfigError as err:
        raise ConfigError(f"[config] {err}") from None


def check_values(settings: StudySettings) -> None:
    """Each setting alone (its kind, then its rule), the search space with its ``[ranges]``,
    the ``[config]`` table, and folds, epochs and seed within a config's limits."""
    check_types(settings)
    check_rules(settings)
    check_dashboard_host(settings.dashboard_host)
    space = get_space(settings.space, overrides=settings.ranges)
    check_config_table(settings, space.searched_keys)
    settings.resolved().base_config()


def check_settings(settings: StudySettings) -> None:
    """Reject settings that cannot work, before any data is read or anything written."""
    check_values(settings)
    if (settings.x is None) != (settings.y is None):
        raise ConfigError("--x and --y must be given together (or neither, for the demo data).")
    if settings.groups is not None and settings.x is None:
        raise ConfigError("--groups needs --x and --y.")
    if settings.prune and settings.multi_objective:
        raise ConfigError(
            f"prune cannot be used with several objectives (objectives={settings.objectives!r}): "
            "fold pruning compares one running value; drop --prune or give one objective."
        )
    if settings.outer_folds is not None and settings.holdout:
        raise ConfigError(
            f"holdout must be 0 or unset with outer_folds (each outer fold's subjects are "
            f"the held-out ones), got holdout={settings.holdout!r}."
        )
