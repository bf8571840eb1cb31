"""What the study writes and its readers read, defined once; imports no torch, Ray or pandas.

``tune_study`` writes trial reports and experiment files with these names, ``results``
reads them, ``centerir`` computes the metrics they hold. A name or value spelled anywhere
else is a bug: change it here.
"""

from __future__ import annotations

import json
import math
import os
import stat
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any


class UserError(Exception):
    """The user's input is wrong (data, config, study file, flags, paths, experiment folder).

    ``str(err)`` is one line naming the file or key, what was expected and what was found.
    The command lines print it as ``error: ...`` and exit 2; any other exception is a bug in
    this project and ends in a traceback with exit 1.
    """


class Status(StrEnum):
    """Where a trial stands, as its last report (or the experiment folder) says."""

    PENDING = "pending"  # proposed, nothing reported yet
    RUNNING = "running"  # some folds finished, more to come (or interrupted there)
    COMPLETE = "complete"  # every fold finished: the only status that is ranked
    PRUNED = "pruned"  # stopped early because its running objective was poor
    DIVERGED = "diverged"  # a NaN or inf loss stopped it
    ERRORED = "errored"  # it raised, and Ray gave up retrying
    STOPPED = "stopped"  # the study's time budget ended it before its last fold


FINAL_STATUSES = (Status.COMPLETE, Status.PRUNED, Status.DIVERGED)
STOPPED_FILE = "stopped_trials.json"  # trial ids the time budget stopped, written at the end


# --- metrics -------------------------------------------------------------------------------
# Per test fold, over windows (centerir.metrics.regression_metrics) ...
WINDOW_METRICS = ("mae", "rmse", "mse", "r2", "balanced_mae", "many_mae", "medium_mae", "few_mae")
# ... and over subjects, each subject's window predictions averaged first
# (centerir.metrics.subject_metrics; only when subject ids are known).
SUBJECT_METRICS = (
    "subject_mae",
    "subject_rmse",
    "subject_r2",
    "subject_balanced_mae",
    "subject_many_mae",
    "subject_medium_mae",
    "subject_few_mae",
)
METRICS = WINDOW_METRICS + SUBJECT_METRICS
HIGHER_IS_BETTER = frozenset({"r2", "subject_r2"})
DEFAULT_OBJECTIVE = "mae"
MAX_OBJECTIVES = 3  # a multi-objective study's metrics; more make a front of almost every trial


def parse_objectives(text: str) -> tuple[str, ...]:
    """``"mae, few_mae"`` -> ``("mae", "few_mae")``: the study's objectives, first the one
    that picks the exported best of the Pareto front (a ``ValueError`` says what is wrong)."""
    names = tuple(part.strip() for part in text.split(","))
    unknown = [name for name in names if name not in METRICS]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not one of {', '.join(METRICS)}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"{repeated[0]!r} is named twice")
    if len(names) > MAX_OBJECTIVES:
        raise ValueError(f"at most {MAX_OBJECTIVES} objectives, got {len(names)}")
    return names


def objective_mode(metric: str) -> str:
    """``"max"`` for R² metrics, ``"min"`` for errors."""
    return "max" if metric in HIGHER_IS_BETTER else "min"


def optuna_direction(metric: str) -> str:
    """The Optuna study direction of ``metric``: ``"maximize"`` for R², else ``"minimize"``."""
    return "maximize" if objective_mode(metric) == "max" else "minimize"


def std_key(metric: str) -> str:
    """Report key of a metric's sample standard deviation over folds: ``mae`` -> ``mae_std``."""
    return f"{metric}_std"


def folds_key(metric: str) -> str:
    """Report key of a metric's per-fold values (a list in fold order): ``mae_folds``."""
    return f"{metric}_folds"


# --- trial reports (one per finished fold) --------------------------------------------------
# Besides every metric (the mean over finished folds), its std_key and its folds_key:
FOLDS_DONE = "folds_done"
FOLDS_TOTAL = "folds_total"
STATUS = "status"
MESSAGE = "message"
SECONDS = "seconds"  # training seconds, summed over finished folds
DEVICE = "device"  # torch device of the last fold
# Mean over the first epoch of each fold of |lambda * dCenterIR/dfeatures| / |dMSE/dfeatures|:
# how hard the CenterIR term pulled on the features against the MSE term (0 for lambda 0).
CENTERIR_SHARE = "centerir_share"
ROLE = "role"  # what the trial is for, one of Role


class Role(StrEnum):
    """Why a row of the ranking exists; only SEARCH and PUBLISHED trials can be "best"."""

    SEARCH = "search"  # proposed by the sampler
    PUBLISHED = "published"  # the paper's configuration, enqueued first, told to the sampler
    PLAIN_MSE = "plain_mse"  # the published configuration with lambda 0, never told to it
    MEAN_PREDICTOR = "mean_predictor"  # predicts the fold's training mean; no trial, no model
    MEDIAN_PREDICTOR = "median_predictor"  # ... the training median


# Baselines with no model and no trial: computed from the folds' training scores alone.
MODEL_FREE_ROLES = (Role.MEAN_PREDICTOR, Role.MEDIAN_PREDICTOR)
ROLE_LABELS = {
    Role.SEARCH: "",
    Role.PUBLISHED: "(paper)",
    Role.PLAIN_MSE: "(no CenterIR)",
    Role.MEAN_PREDICTOR: "(mean predictor)",
    Role.MEDIAN_PREDICTOR: "(median predictor)",
}


# --- configurations ------------------------------------------------------------------------
# The published configuration of the four searched hyperparameters (Kim et al. 2026).
PUBLISHED = {"lr": 1e-4, "boundaries": 16, "k": "1-3-5-15", "lambda": 5e-8}
# The same network and training without the CenterIR term.
PLAIN_MSE = {**PUBLISHED, "lambda": 0.0}
# An exported config file may hold this key: where the config came from (study, objective,
# held-out subjects). Training ignores it, so the file stays a config "train --config" takes.
STUDY_NOTE_KEY = "from_study"
SEARCHABLE_KEYS = ("lr", "boundaries", "k", "lambda", "batch_size", "dropout")
REMAINDER_POLICIES = ("group", "strict")  # k not dividing the kept bins: smaller last group / error
SELECTIONS = ("inner", "test")  # epoch picked on an inner split / on the test fold (optimistic)


def k_name(value: str | list[int] | tuple[int, ...]) -> str:
    """A k set's name: ``(1, 3, 5, 15)`` or ``"1-3-5-15"`` -> ``"1-3-5-15"``."""
    return value if isinstance(value, str) else "-".join(str(v) for v in value)


def is_config(config: dict[str, Any], reference: dict[str, Any]) -> bool:
    """Whether ``config`` holds ``reference``'s values for all of ``reference``'s keys."""
    return all(
        (k_name(config.get(key, "")) if key == "k" else config.get(key)) == value
        for key, value in reference.items()
    )


def trial_role(params: dict[str, Any], config: dict[str, Any]) -> Role:
    """A trial's role: as its params say (baselines carry one), else published when its
    ``config`` is the published one, else search."""
    role = params.get(ROLE)
    if isinstance(role, str) and role in {str(r) for r in Role}:
        return Role(role)
    return Role.PUBLISHED if is_config(config, PUBLISHED) else Role.SEARCH


# --- experiment folder ---------------------------------------------------------------------
SETTINGS_FILE = "centerir_study.json"  # the study's settings, written before any trial
BASELINES_FILE = "baselines.json"  # the mean and median predictors' fold metrics
HOLDOUT_FILE = "holdout.json"  # held-out subject ids, then each refit's held-out scores
DATA_META_FILE = "data_meta.json"  # the data's meta.json record (from prepare), when it has one
BEST_CONFIG_FILE = "best_config.json"
BEST_REFIT = "best"  # HOLDOUT_FILE's score key of the best configuration (the others: a Role)
# What is refitted on the tuning subjects and scored on the held-out ones, in this order.
REFITS = (BEST_REFIT, Role.PUBLISHED, Role.PLAIN_MSE, Role.MEAN_PREDICTOR)
REPORT_FOLDER = "report"
MAX_OUTER_FOLDS = 100  # a nested study's outer folds (each one a whole study)


def check_regular_file(path: Path, what: str, error: type[UserError] = UserError) -> None:
    """Refuse a ``path`` that is missing or no regular file (a folder, a FIFO, a device):
    opening a FIFO blocks until someone writes to it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise error(f"{path}: {what} not found.") from None
    except (OSError, ValueError) as err:  # ValueError: a NUL in the path
        raise error(
            f"{path}: cannot read {what} ({getattr(err, 'strerror', None) or err})."
        ) from None
    check_regular_mode(mode, path, what, error)


def check_regular_mode(mode: int, path: Path, what: str, error: type[UserError]) -> None:
    """Refuse a file ``mode`` (``st_mode``) that is no regular file, naming its kind."""
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO, socket or device"
        raise error(f"{path}: expected {what} as a regular file, got {kind}.")


def read_text_file(path: Path, what: str, error: type[UserError] = UserError) -> str:
    """A UTF-8 text file's contents; a missing, unreadable or irregular one (a FIFO, a
    folder) is an ``error`` (a ``UserError``) naming the file and ``what`` it should be."""
    check_regular_file(path, what, error)
    try:
        # O_NONBLOCK: a FIFO swapped in after the check still cannot block the open
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as handle:
            check_regular_mode(os.fstat(descriptor).st_mode, path, what, error)
            os.set_blocking(descriptor, True)
            return handle.read().decode("utf-8")
    except OSError as err:
        raise error(f"{path}: cannot read {what} ({err.strerror}).") from None
    except UnicodeDecodeError as err:
        raise error(
            f"{path}: expected {what} as UTF-8 text ({err.reason} at byte {err.start})."
        ) from None


def strict_json(text: str) -> Any:
    """``json.loads`` that refuses what Python's JSON lets through: a key given twice (the
    last would silently win) and NaN/Infinity, which strict JSON does not have.
    Raises ``ValueError`` naming the key or constant."""

    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, value in pairs:
            if key in values:
                raise ValueError(f"key {key!r} given twice")
            values[key] = value
        return values

    def no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, object_pairs_hook=unique_keys, parse_constant=no_constant)


def read_json_file(path: Path, what: str) -> Any:
    """A JSON file the study wrote; a missing, unreadable or broken one (invalid JSON, a key
    given twice, NaN) is a ``UserError`` naming the file."""
    text = read_text_file(path, what)
    try:
        return strict_json(text)
    except RecursionError:
        raise UserError(
            f"{path}: expected the {what} as JSON, got values nested too deep."
        ) from None
    except ValueError as err:
        raise UserError(f"{path}: expected the {what} as JSON, got invalid JSON ({err}).") from None


def write_json_file(path: Path, values: Any) -> None:
    """Write ``values`` as JSON (NaN as null) atomically: a reader sees the old or the new file."""
    text = json.dumps(nan_to_none(values), indent=2) + "\n"
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)  # whatever lies there (a FIFO would block the write)
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def nan_to_none(values: Any) -> Any:
    """NaN floats (strict JSON has none) -> None, through dicts and lists."""
    if isinstance(values, float) and math.isnan(values):
        return None
    if isinstance(values, dict):
        return {key: nan_to_none(value) for key, value in values.items()}
    if isinstance(values, (list, tuple)):
        return [nan_to_none(value) for value in values]
    return values


# What SETTINGS_FILE holds: the fields of tune_study.settings.StudySettings (a test keeps
# them equal), the study's base config, its plan and its first objective.
SETTINGS_KEYS = frozenset(
    {
        *("x", "y", "groups", "address", "num_samples", "max_concurrent", "cpus_per_trial"),
        *("gpus_per_trial", "folds", "epochs", "space", "seed", "storage_path", "name"),
        *("time_budget", "optuna_storage", "prune", "objectives", "holdout", "outer_folds"),
        *("dashboard_host", "dashboard_port", "ranges", "config", "base_config", "plan"),
        "objective",
    }
)


def read_settings(experiment: Path) -> dict[str, Any]:
    """The settings a study was started with (``SETTINGS_FILE`` in its folder)."""
    values = read_json_file(experiment / SETTINGS_FILE, "study settings of a centerir-tune study")
    if not isinstance(values, dict) or not isinstance(values.get("base_config"), dict):
        raise UserError(
            f"{experiment / SETTINGS_FILE}: expected the study settings with a 'base_config' "
            "table, got another JSON value."
        )
    return values


def write_settings(experiment: Path, values: dict[str, Any]) -> None:
    """Write the study's settings into its folder (created if needed)."""
    experiment.mkdir(parents=True, exist_ok=True)
    write_json_file(experiment / SETTINGS_FILE, values)


@dataclass
class HeldOutScore:
    """One configuration (or baseline) refitted on the tuning subjects and scored once on
    the held-out subjects: a record of ``HOLDOUT_FILE``'s ``scores``."""

    role: str  # a Role
    config: dict[str, Any]  # the config refitted (empty for a constant predictor)
    trial_id: str  # the trial whose config it is ("" for a constant predictor)
    status: str  # complete or diverged
    message: str = ""
    metrics: dict[str, float] = field(default_factory=dict)  # METRICS on the held-out windows
    intervals: dict[str, list[float]] = field(default_factory=dict)  # 95 % bootstrap, "mae"...
    selected_epoch: int = 0  # the refit's epoch, picked on an inner split of tuning subjects
    mean_prediction: float = math.nan  # mean held-out prediction, score units
    held_out_mean: float = math.nan  # mean held-out score
    tuning_mean: float = math.nan  # mean tuning score (what the mean predictor predicts)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Any) -> HeldOutScore:
        """From a ``HOLDOUT_FILE`` record (null for NaN); a malformed one is a ``UserError``."""
        known = {f.name for f in fields(cls)}
        if not isinstance(values, dict) or not set(values) <= known:
            raise UserError(
                f"expected a held-out score record with keys from {sorted(known)}, got "
                f"{values!r:.120}."
            )
        numbers = ("mean_prediction", "held_out_mean", "tuning_mean", "seconds")
        values = {
            key: math.nan if value is None and key in numbers else value
            for key, value in values.items()
        }
        problems = [
            key
            for key, ok in (
                ("role", isinstance(values.get("role"), str)),
                ("status", isinstance(values.get("status"), str)),
                ("metrics", _numbers_by_name(values.get("metrics", {}))),
                ("intervals", _intervals(values.get("intervals", {}))),
                *((key, is_json_number(values.get(key, 0.0))) for key in numbers),
            )
            if not ok
        ]
        if problems:
            raise UserError(f"expected a held-out score record, got a bad {problems[0]!r}.")
        values["metrics"] = {k: _number(v) for k, v in values.get("metrics", {}).items()}
        return cls(**values)


def is_json_number(value: Any) -> bool:
    """An int or float JSON number (not a bool) that a float holds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        float(value)
    except OverflowError:  # an int past float range
        return False
    return True


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def _numbers_by_name(values: Any) -> bool:
    return isinstance(values, dict) and all(v is None or is_json_number(v) for v in values.values())


def _intervals(values: Any) -> bool:
    return isinstance(values, dict) and all(
        isinstance(v, list) and len(v) == 2 and all(is_json_number(x) for x in v)
        for v in values.values()
    )


# --- trial folders -------------------------------------------------------------------------
def trial_folder_name(params: dict[str, Any], trial_id: str) -> str:
    """A trial's name and folder: what it tries, then its id.

    ``{"lr": 3.2e-4, "boundaries": 16, "k": "1-3-5-15", "lambda": 5e-8}``, ``"a1b2c_00001"``
    -> ``"lr3.2e-04_b16_k1-3-5-15_lam5e-08_a1b2c_00001"``; ``lam0`` for lambda 0.
    """
    lam = params["lambda"]
    lam_text = "0" if lam == 0 else f"{lam:.0e}"
    return (
        f"lr{params['lr']:.1e}_b{params['boundaries']}_k{k_name(params['k'])}_lam{lam_text}"
        f"_{trial_id}"
    )


def outer_fold_folder(study_name: str, number: int) -> str:
    """The folder, inside a nested study's, of the study of outer fold ``number`` (1-based)."""
    return f"{study_name}-outer{number}"


def trial_id_of_folder(name: str) -> str:
    """The trial id at the end of a name made by :func:`trial_folder_name` (Tune's ids hold
    no underscore)."""
    return name.rsplit("_", 1)[-1]
