"""Load a Ray Tune experiment folder written by ``tune_study`` into a DataFrame.

Works on a finished, running or interrupted study: every trial folder that holds a
``params.json`` becomes one row, described by its last report (``result.json`` holds one
JSON object per report, one report per finished fold), and the study's model-free baselines
(``BASELINES_FILE``) add one row each. A trial folder whose files cannot be read, or hold
values of the wrong kind, is an errored row saying why (never ranked); a broken study file
(settings, baselines) is an ``ExperimentError``. Names come from :mod:`centerir.contract`.
Needs neither Ray nor torch.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

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
    parse_objectives,
    read_settings,
    std_key,
    trial_id_of_folder,
    trial_role,
)
from results.files import (
    ERROR_FILE,
    PARAMS_FILE,
    RESULT_FILE,
    check_trial_within,
    error_line,
    read_params,
    read_reports,
    read_study_file,
    within,
)
from results.report_values import check_report, is_integer, json_kind

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
# The searched values as the search space writes them: a k set by its name, "1-3-5-15".
PARAM_KINDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "lr": (contract.is_json_number, "a number"),
    "boundaries": (is_integer, "a whole number"),
    "k": (lambda v: isinstance(v, str), "a k set name such as '1-3-5-15'"),
    "lambda": (contract.is_json_number, "a number"),
    "batch_size": (is_integer, "a whole number"),
    "dropout": (contract.is_json_number, "a number"),
}
TRIAL_ROLES = tuple(str(role) for role in Role if role not in MODEL_FREE_ROLES)

T = TypeVar("T")


class ExperimentError(UserError):
    """The folder is not a readable study; ``str(err)`` is one line."""


class UnreadableTrial(UserError):
    """A trial folder whose files cannot be read, or hold values of the wrong kind."""


def metric_values(report: dict[str, Any]) -> dict[str, Any]:
    """Every metric column of a checked report: mean, std and per-fold list (NaN / [] if
    absent)."""
    values: dict[str, Any] = {}
    for name in METRICS:
        values[name] = number(report.get(name))
        values[std_key(name)] = number(report.get(std_key(name)))
        values[folds_key(name)] = [number(v) for v in report.get(folds_key(name), [])]
    return values


def number(value: float | int | None) -> float:
    """A checked report's number as float; None (JSON's NaN) -> NaN."""
    return math.nan if value is None else float(value)


def trial_config(params: dict[str, Any], base_config: dict[str, Any], path: Path) -> dict:
    """A trial's full config: the base config with the searched values of its ``params``
    (read from ``path``), each of the kind the search writes and checked as
    ``centerir train --config`` checks it; else a ``UserError``."""
    searched = {key: params[key] for key in SEARCHABLE_KEYS if key in params}
    for key, value in searched.items():
        is_kind, kind = PARAM_KINDS[key]
        if not is_kind(value):
            raise UserError(f"{path}: expected {key} as {kind}, got {json_kind(value)}.")
    if params.get(contract.ROLE, Role.SEARCH) not in TRIAL_ROLES:
        raise UserError(
            f"{path}: expected {contract.ROLE} one of {', '.join(TRIAL_ROLES)}, got "
            f"{params[contract.ROLE]!r:.60}."
        )
    try:
        return Config.from_dict({**base_config, **searched}).to_dict()
    except UserError as err:
        raise UserError(f"{path}: {err}") from None


def unreadable(what: str, read: Callable[[], T]) -> T:
    """``read()``; its ``UserError`` becomes an ``UnreadableTrial`` naming ``what``."""
    try:
        return read()
    except UserError as err:
        raise UnreadableTrial(f"unreadable {what} ({err})") from None


def trial_row(experiment: Path, folder: Path, base_config: dict[str, Any]) -> dict[str, Any]:
    """One trial folder of ``experiment`` as a row (see :func:`load`); one whose files
    cannot be read, or hold values of the wrong kind, is an errored row saying why."""
    try:
        unreadable("trial folder", lambda: check_trial_within(experiment, folder))
        params = unreadable(PARAMS_FILE, lambda: read_params(folder))
        reports = unreadable(RESULT_FILE, lambda: read_reports(folder / RESULT_FILE))
        error = unreadable(ERROR_FILE, lambda: error_line(folder))
        config = unreadable(
            "trial files", lambda: trial_config(params, base_config, folder / PARAMS_FILE)
        )
    except UnreadableTrial as err:
        return broken_row(folder, base_config, str(err))
    last = reports[-1] if reports else {}
    status = last.get(contract.STATUS, Status.PENDING)
    message = last.get(contract.MESSAGE, "")
    if error is not None and status not in contract.FINAL_STATUSES:
        status, message = Status.ERRORED, error
    first = reports[0] if reports else {}
    return {
        "trial_id": last.get("trial_id") or trial_id_of_folder(folder.name),
        "trial_name": folder.name,
        contract.ROLE: str(trial_role(params, config)),
        contract.STATUS: str(status),
        **{key: config[key] for key in SEARCHABLE_KEYS},
        "k": k_name(config["k"]),  # by its name, as the search space names it
        contract.FOLDS_DONE: last.get(contract.FOLDS_DONE, 0),
        contract.FOLDS_TOTAL: last.get(contract.FOLDS_TOTAL, base_config["folds"]),
        **metric_values(last),
        contract.CENTERIR_SHARE: number(last.get(contract.CENTERIR_SHARE)),
        contract.SECONDS: number(last.get(contract.SECONDS)),
        contract.DEVICE: last.get(contract.DEVICE, ""),
        contract.MESSAGE: message,
        # when the trial began (epoch seconds), for the order of the optimisation history
        "started": number(first.get("timestamp", 0)) - number(first.get("time_total_s", 0))
        if reports
        else (folder / PARAMS_FILE).stat().st_mtime,
        "config": config,
    }


def broken_row(folder: Path, base_config: dict[str, Any], message: str) -> dict[str, Any]:
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
            contract.FOLDS_TOTAL: base_config["folds"],
            contract.MESSAGE: message,
            contract.DEVICE: "",
            "started": 0.0,
            "config": {},
        }
    )
    return row


def baseline_rows(experiment: Path) -> list[dict[str, Any]]:
    """The mean- and median-predictor rows from ``BASELINES_FILE`` (none if absent)."""
    path = experiment / BASELINES_FILE
    saved = read_study_file(experiment, BASELINES_FILE, "baselines of the study")
    if saved is None:
        return []
    if not isinstance(saved, dict):
        raise ExperimentError(
            f"{path}: expected a JSON object of baseline reports by role, got {json_kind(saved)}."
        )
    rows = []
    for role, report in saved.items():
        if role not in MODEL_FREE_ROLES:
            raise ExperimentError(f"{path}: expected baseline reports by role, got {role!r}.")
        check_report(report, f"{path}: {role}")
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
    """The experiment's trial folders (those holding a ``params.json``, even one that is
    no regular file), sorted by name."""
    try:
        entries = list(experiment.iterdir())
    except OSError as err:
        raise ExperimentError(
            f"{experiment}: cannot list the experiment ({err.strerror})."
        ) from None
    return sorted(p for p in entries if os.path.lexists(p / PARAMS_FILE))


def check_experiment_folder(path: Path) -> None:
    """Refuse a ``path`` that is no folder holding a study's ``SETTINGS_FILE``."""
    if not path.is_dir():
        found = "a file, not a folder" if os.path.lexists(path) else "no such folder"
        raise ExperimentError(f"{path}: expected a Tune experiment folder, got {found}.")
    if not os.path.lexists(path / SETTINGS_FILE):
        raise ExperimentError(
            f"{path}: expected a centerir-tune experiment folder (with {SETTINGS_FILE}), "
            "got a folder without one."
        )


def saved_objectives(settings: dict[str, Any], file: Path) -> tuple[str, ...]:
    """The study's objectives, in order, from its ``objectives`` (or a lone ``objective``)."""
    text = settings.get("objectives", settings.get("objective", DEFAULT_OBJECTIVE))
    try:
        if not isinstance(text, str):
            raise ValueError("not a string")
        names = parse_objectives(text)
    except ValueError as err:
        raise ExperimentError(
            f"{file}: expected objectives among the reported metrics, got {text!r:.60} ({err})."
        ) from None
    first = settings.get("objective", names[0]) if "objectives" in settings else names[0]
    if first != names[0]:
        raise ExperimentError(
            f"{file}: expected objective to be the first of objectives {text!r:.60}, got "
            f"{first!r:.60}."
        )
    return names


def study_settings(path: str | Path) -> dict[str, Any]:
    """The settings the study at ``path`` was started with (``ExperimentError`` if none),
    checked, with ``objectives`` (a tuple), ``objective`` (the first) and ``base_config``
    complete."""
    path = Path(path)
    check_experiment_folder(path)
    file = path / SETTINGS_FILE
    try:
        within(path, file, "the study settings")
        settings = read_settings(path)
    except UserError as err:
        raise ExperimentError(str(err)) from None
    try:
        base = Config.from_dict(settings["base_config"])
    except UserError as err:
        raise ExperimentError(f"{file}: base_config: {err}") from None
    unknown = sorted(set(settings) - contract.SETTINGS_KEYS)
    if unknown:
        near = difflib.get_close_matches(unknown[0], contract.SETTINGS_KEYS, n=1)
        raise ExperimentError(
            f"{file}: expected only the keys a study writes, got {unknown[0]!r:.60}"
            + (f" (did you mean {near[0]!r}?)." if near else ".")
        )
    settings["base_config"] = base.to_dict()
    settings["objectives"] = saved_objectives(settings, file)
    settings["objective"] = settings["objectives"][0]
    outer = settings.get("outer_folds")
    if outer is not None and (
        not isinstance(outer, int) or isinstance(outer, bool) or not 2 <= outer <= MAX_OUTER_FOLDS
    ):
        raise ExperimentError(
            f"{file}: expected outer_folds to be null or an integer from 2 to "
            f"{MAX_OUTER_FOLDS}, got {outer!r:.60}."
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
    rows = [trial_row(path, folder, base_config) for folder in trial_folders(path)]
    mark_stopped(rows, path)
    rows += baseline_rows(path)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def mark_stopped(rows: list[dict[str, Any]], experiment: Path) -> None:
    """Trials ``STOPPED_FILE`` names, still unfinished in their own reports: status
    stopped, with the reason and the folds they finished."""
    path = experiment / contract.STOPPED_FILE
    saved = read_study_file(experiment, contract.STOPPED_FILE, "trials the time budget stopped")
    if saved is None:
        return
    if (
        not isinstance(saved, dict)
        or not isinstance(saved.get("reason"), str)
        or not isinstance(saved.get("trials"), list)
        or not all(isinstance(trial, str) for trial in saved["trials"])
    ):
        raise ExperimentError(
            f"{path}: expected {{'reason': text, 'trials': [trial ids]}}, got {saved!r:.80}."
        )
    for row in rows:
        unfinished = row[contract.STATUS] in (Status.RUNNING, Status.PENDING)
        if unfinished and row["trial_id"] in saved["trials"]:
            row[contract.STATUS] = str(Status.STOPPED)
            row[contract.MESSAGE] = (
                f"stopped by {saved['reason']} after {row[contract.FOLDS_DONE]} of "
                f"{row[contract.FOLDS_TOTAL]} folds"
            )
