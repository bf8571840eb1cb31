"""Where ``python -m results`` writes, checked before it reads anything, so that a run
that cannot write all its outputs writes none: each output file must be writable (see
``check_output_path``: no folder, FIFO or device in its place), named once, and none may
overwrite a study's own record."""

from __future__ import annotations

import os
from pathlib import Path

from centerir.command_line import check_output_path
from centerir.contract import BASELINES_FILE, HOLDOUT_FILE, SETTINGS_FILE, UserError
from results.files import PARAMS_FILE

STUDY_FILES = (SETTINGS_FILE, BASELINES_FILE, HOLDOUT_FILE)


def record_kind(path: Path) -> str | None:
    """What of a study's record ``path`` is (None: nothing): a file in a trial folder, or
    a study file of an experiment folder."""
    folder = path.parent
    if os.path.lexists(folder / PARAMS_FILE):
        return "a file of a trial folder"
    if path.name in STUDY_FILES and os.path.lexists(folder / SETTINGS_FILE):
        return f"the study's own {path.name}"
    return None


def check_output_file(path: Path, what: str) -> None:
    """Refuse an output file ``path`` for ``what`` that cannot or must not be written."""
    check_output_path(path, what)
    kind = record_kind(path)
    if kind:
        raise UserError(
            f"{path}: expected a place for {what} outside a study's record, got {kind}."
        )


def check_output_files(files: list[tuple[Path, str]]) -> None:
    """Check every ``(path, what)`` output, and that no two name the same file."""
    seen: dict[str, str] = {}
    for path, what in files:
        check_output_file(path, what)
        key = os.path.normcase(os.path.abspath(path))
        if key in seen:
            raise UserError(f"{path}: expected a file of its own for {what}, got {seen[key]}'s.")
        seen[key] = what
