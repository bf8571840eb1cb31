"""An experiment folder's files, read safely: each one inside the folder and a regular
file (a FIFO or a device would block the reader), its contents of the kind the study
writes; anything else is a one-line ``UserError`` naming the file.

An experiment folder holds its own files (Ray copies it whole between machines), so a
link leading out of it, which could lead anywhere, is refused rather than followed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from centerir.contract import UserError, read_json_file, read_text_file
from results.report_values import check_report, json_kind

# A trial folder's files, as Ray writes them:
PARAMS_FILE = "params.json"  # the searched values, written when the trial starts
RESULT_FILE = "result.json"  # one report a line, appended as folds finish
ERROR_FILE = "error.txt"  # the traceback of a trial that raised


def within(experiment: Path, path: Path, what: str) -> Path:
    """``path``, if it lies inside ``experiment`` once links are followed; a link out of
    it, or one that leads nowhere (a loop), is a ``UserError``."""
    try:
        target, root = path.resolve(), experiment.resolve()
    except (OSError, RuntimeError) as err:  # Python 3.11 raises RuntimeError on a link loop
        raise UserError(
            f"{path}: expected {what}, got a link that leads nowhere ({err})."
        ) from None
    if not target.is_relative_to(root):
        raise UserError(
            f"{path}: expected {what} inside the experiment folder {root}, got a link to {target}."
        )
    return path


def read_study_file(experiment: Path, name: str, what: str) -> Any:
    """The JSON file ``name`` of the experiment folder, or None when there is none."""
    path = experiment / name
    if not os.path.lexists(path):
        return None
    return read_json_file(within(experiment, path, what), what)


def check_trial_within(experiment: Path, folder: Path) -> None:
    """Refuse a trial folder, or a file of it, that is a link out of ``experiment``."""
    within(experiment, folder, "a trial folder")
    for name in (PARAMS_FILE, RESULT_FILE, ERROR_FILE):
        within(experiment, folder / name, f"a trial's {name}")


def read_params(folder: Path) -> dict[str, Any]:
    """A trial's searched values (``PARAMS_FILE``), a JSON object."""
    path = folder / PARAMS_FILE
    params = read_json_file(path, "parameters of a trial")
    if not isinstance(params, dict):
        raise UserError(
            f"{path}: expected the parameters as a JSON object, got {json_kind(params)}."
        )
    return params


def read_reports(path: Path) -> list[dict[str, Any]]:
    """The reports in a trial's ``RESULT_FILE`` ([] while there is none), each checked.

    A last line without its newline is being written (or was cut short by a kill) and is
    left out unless it is whole; any other line that is not a report of the right kinds is a
    ``UserError`` naming the file and line. NaN is accepted: Ray writes a float NaN so.
    """
    if not os.path.lexists(path):
        return []
    lines = read_text_file(path, "reports of a trial").split("\n")
    reports = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            report = json.loads(line)
        except (ValueError, RecursionError) as err:
            if number == len(lines):  # being written, or cut short
                break
            raise UserError(
                f"{where}: expected a report as JSON, got invalid JSON ({err})."
            ) from None
        reports.append(check_report(report, where))
    return reports


def error_line(folder: Path) -> str | None:
    """The last line of a trial's ``ERROR_FILE`` (its exception), None when it raised nothing."""
    path = folder / ERROR_FILE
    if not os.path.lexists(path):
        return None
    lines = read_text_file(path, "error of a trial").strip().splitlines()
    return lines[-1] if lines else "the trial raised an error"
