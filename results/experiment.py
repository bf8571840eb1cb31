"""Load a Ray Tune experiment folder written by ``tune_study`` into a DataFrame.

Works on a finished, running or interrupted study: every trial folder that holds a
``params.json`` becomes one row, described by its last report (``result.json`` holds one
JSON object per report, one report per finished fold), and the study's model-free baselines
(``BASELINES_FILE``) add one row each. Names come from :mod:`centerir.contract`. Needs
neither Ray nor torch.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from centerir import contract
from centerir.config import Config
from centerir.contract import (
    BASELINES_FILE,
    DEFAULT_OBJECTIVE,
    MAX_OUTER_FOLDS,
    METRICS,
    MODEL_FREE_ROLES,
    SEARCHABLE_KEYS,
    SETTINGS_FILE,
    Role,
    Status,
    UserError,
    folds_key,
    k_name,
    read_json_file,
    read_settings,
    std_key,
    trial_id_of_folder,
    trial_role,
)

METRIC_COLUMNS = tuple(
    column for name in METRICS for column in (name, std_key(name), folds_key(name))
)
COLUMNS = (
    "trial_id",
    "trial_name",
    contract.ROLE,
    contract.STATUS,
    *SEARCHABLE_KEYS,
    contract.FOLDS_DONE,
    contract.FOLDS_TOTAL,
    *METRIC_COLUMNS,
    contract.CENTERIR_SHARE,
    contract.SECONDS,
    contract.DEVICE,
    contract.MESSAGE,
    "started",
    "config",
)


class ExperimentError(UserError):
    """The folder is not a readable study; ``str(err)`` is one line."""


def read_reports(path: Path) -> list[dict[str, Any]]:
    """The reports in a ``result.json`` (a line cut short by an interruption, or one that
    is not a JSON object, is skipped)."""
    if not path.is_file():
        return []
    reports = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            report = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(report, dict):
            reports.append(report)
    return reports


def metric_values(report: dict[str, Any]) -> dict[str, Any]:
    """Every metric column of a report: mean, std and per-fold list (NaN / [] if absent)."""
    values: dict[str, Any] = {}
    for name in METRICS:
        values[name] = number(report.get(name))
        values[std_key(name)] = number(report.get(std_key(name)))
        folds = report.get(folds_key(name))
        values[folds_key(name)] = [number(v) for v in folds] if isinstance(folds, list) else []
    return values


def number(value: Any) -> float:
    """A reported number as float; None (JSON's NaN) or anything else -> NaN."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value)


def trial_row(folder: Path, base_config: dict[str, Any]) -> dict[str, Any]:
    """One trial folder as a row (see :func:`load`); an unreadable one is an errored row."""
    try:
        params = json.loads((folder / "params.json").read_text(encoding="utf-8"))
        if not isinstance(params, dict):
            raise ValueError(f"a JSON {type(params).__name__}, not an object")
    except (OSError, ValueError) as err:
        return broken_row(folder, f"unreadable params.json ({err})")
    reports = read_reports(folder / "result.json")
    last = reports[-1] if reports else {}
    status = last.get(contract.STATUS, Status.PENDING)
    message = last.get(contract.MESSAGE, "")
    if (folder / "error.txt").is_file() and status not in contract.FINAL_STATUSES:
        status = Status.ERRORED
        lines = (folder / "error.txt").read_text(errors="replace").strip().splitlines()
        message = lines[-1] if lines else "the trial raised an error"
    searched = {key: params[key] for key in SEARCHABLE_KEYS if key in params}
    if "k" in searched:
        searched["k"] = k_name(searched["k"])
    config = {**base_config, **searched}
    first = reports[0] if reports else {}
    return {
        "trial_id": str(last.get("trial_id") or trial_id_of_folder(folder.name)),
        "trial_name": folder.name,
        contract.ROLE: str(trial_role(params, config)),
        contract.STATUS: str(status),
        **{key: searched.get(key, base_config.get(key)) for key in SEARCHABLE_KEYS},
        contract.FOLDS_DONE: last.get(contract.FOLDS_DONE, 0),
        contract.FOLDS_TOTAL: last.get(contract.FOLDS_TOTAL, base_config.get("folds")),
        **metric_values(last),
        contract.CENTERIR_SHARE: number(last.get(contract.CENTERIR_SHARE)),
        contract.SECONDS: number(last.get(contract.SECONDS)),
        contract.DEVICE: last.get(contract.DEVICE, ""),
        contract.MESSAGE: str(message),
        # when the trial began (epoch seconds), for the order of the optimisation history
        "started": number(first.get("timestamp", 0)) - number(first.get("time_total_s", 0))
        if reports
        else (folder / "params.json").stat().st_mtime,
        "config": config,
    }


def readable_row(folder: Path, base_config: dict[str, Any]) -> dict[str, Any]:
    """:func:`trial_row`, or an errored row when the folder's files hold values of the wrong
    kind (they are read from disk, so anything can be there)."""
    try:
        return trial_row(folder, base_config)
    except (TypeError, ValueError, AttributeError) as err:
        return broken_row(folder, f"unreadable trial files ({type(err).__name__}: {err})")


def broken_row(folder: Path, message: str) -> dict[str, Any]:
    """A trial folder that cannot be read: listed as errored with the reason."""
    row: dict[str, Any] = dict.fromkeys(COLUMNS, math.nan)
    row.update(metric_values({}))
    row.update(
        {
            "trial_id": trial_id_of_folder(folder.name),
            "trial_name": folder.name,
            contract.ROLE: str(Role.SEARCH),
            contract.STATUS: str(Status.ERRORED),
            contract.FOLDS_DONE: 0,
            contract.MESSAGE: message,
            contract.DEVICE: "",
            "started": 0.0,
            "config": {},
        }
    )
    return row


def baseline_rows(experiment: Path, base_config: dict[str, Any]) -> list[dict[str, Any]]:
    """The mean- and median-predictor rows from ``BASELINES_FILE`` (none if absent)."""
    path = experiment / BASELINES_FILE
    if not path.is_file():
        return []
    saved = read_json_file(path, "baselines of the study")
    if not isinstance(saved, dict):
        raise ExperimentError(f"{path}: expected a JSON object of baselines, got {saved!r}.")
    rows = []
    for role, report in saved.items():
        if role not in MODEL_FREE_ROLES or not isinstance(report, dict):
            raise ExperimentError(f"{path}: expected baseline reports by role, got {role!r}.")
        row: dict[str, Any] = dict.fromkeys(SEARCHABLE_KEYS)
        row.update(
            {
                "trial_id": "",
                "trial_name": role,
                contract.ROLE: role,
                contract.STATUS: str(Status.COMPLETE),
                contract.FOLDS_DONE: report.get(contract.FOLDS_DONE, 0),
                contract.FOLDS_TOTAL: report.get(contract.FOLDS_TOTAL, 0),
                **metric_values(report),
                contract.CENTERIR_SHARE: math.nan,
                contract.SECONDS: 0.0,
                contract.DEVICE: "",
                contract.MESSAGE: "",
                "started": math.nan,
                "config": {},
            }
        )
        rows.append(row)
    return rows


def trials_only(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` that are trials (not model-free baselines)."""
    model_free = [str(role) for role in MODEL_FREE_ROLES]
    return frame[~frame[contract.ROLE].isin(model_free)].reset_index(drop=True)


def trial_folders(experiment: Path) -> list[Path]:
    """The experiment's trial folders (those holding a ``params.json``), sorted by name."""
    return sorted(p for p in experiment.iterdir() if (p / "params.json").is_file())


def study_settings(path: str | Path) -> dict[str, Any]:
    """The settings the study at ``path`` was started with (``ExperimentError`` if none),
    checked, with ``objective`` filled in."""
    path = Path(path)
    if not path.is_dir():
        raise ExperimentError(f"{path}: expected a Tune experiment folder, got no such folder.")
    if not (path / SETTINGS_FILE).is_file():
        raise ExperimentError(
            f"{path}: expected a centerir-tune experiment folder (with {SETTINGS_FILE}), "
            "got a folder without one."
        )
    try:
        settings = read_settings(path)
    except UserError as err:
        raise ExperimentError(str(err)) from None
    try:
        Config.from_dict(settings["base_config"])
    except UserError as err:
        raise ExperimentError(f"{path / SETTINGS_FILE}: base_config: {err}") from None
    objective = settings.setdefault("objective", DEFAULT_OBJECTIVE)
    if objective not in METRICS:
        raise ExperimentError(
            f"{path / SETTINGS_FILE}: expected an objective among the reported metrics, got "
            f"{objective!r}."
        )
    outer = settings.get("outer_folds")
    if outer is not None and (
        not isinstance(outer, int) or isinstance(outer, bool) or not 2 <= outer <= MAX_OUTER_FOLDS
    ):
        raise ExperimentError(
            f"{path / SETTINGS_FILE}: expected outer_folds to be null or an integer from 2 to "
            f"{MAX_OUTER_FOLDS}, got {outer!r}."
        )
    return settings


def load(path: str | Path) -> pd.DataFrame:
    """One row per trial of the experiment at ``path``, plus one per model-free baseline.

    Columns: trial_id, trial_name, role (:class:`centerir.contract.Role`), status
    (:class:`centerir.contract.Status`), the hyperparameters (lr, boundaries, k, lambda,
    batch_size, dropout), folds_done, folds_total, for every metric of
    ``centerir.contract.METRICS`` its fold mean, ``_std`` and ``_folds`` (list), centerir_share,
    seconds, device, message, started (epoch seconds), config (the full config dict
    ``python -m centerir train --config`` accepts).
    """
    path = Path(path)
    base_config = study_settings(path)["base_config"]
    rows = [readable_row(folder, base_config) for folder in trial_folders(path)]
    rows += baseline_rows(path, base_config)
    return pd.DataFrame(rows, columns=list(COLUMNS))
