"""The score table of ``prepare``: one row per subject, a subject column and a score column.

A CSV (``.csv``, commas) or TSV (``.tsv``, tabs; a BIDS ``participants.tsv``) in UTF-8,
header first. Scores are read only for the subjects that have recordings: a table that
lists everyone is fine, and a non-numeric cell (``n/a``) of a subject with no recording is
never looked at. Every problem is a :class:`~centerir.contract.UserError` naming the file,
the row or column, what was expected and what was found.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from centerir.contract import UserError, read_text_file
from centerir.data import MAX_ABS_Y

DELIMITERS = {".csv": ",", ".tsv": "\t"}
BIDS_PREFIX = "sub-"  # BIDS subject ids in participants.tsv: "sub-01" for the entity "01"


@dataclass(frozen=True)
class ScoreTable:
    """Raw score cells by subject id, as read from the table.

    Attributes
    ----------
    path : Path
        The table, for messages.
    target : str
        The score column.
    cells : dict of str to (int, str)
        Subject id -> (its 1-based line in the file, the score cell as written).
    """

    path: Path
    target: str
    cells: dict[str, tuple[int, str]]

    def scores_for(self, subjects: Iterable[str]) -> dict[str, float]:
        """The score of every subject in ``subjects`` (each one must have a numeric score).

        Raises
        ------
        UserError
            A subject missing from the table, or a score that is no finite number within
            ±:data:`~centerir.data.MAX_ABS_Y`.
        """
        scores = {}
        for subject in subjects:
            if subject not in self.cells:
                raise UserError(
                    f"{self.path}: expected a row for subject {subject!r}, which has "
                    f"recordings, got none ({len(self.cells)} subjects listed, e.g. "
                    f"{sorted(self.cells)[:3]}); add its score or leave its recordings out."
                )
            line, cell = self.cells[subject]
            scores[subject] = self.number(subject, line, cell)
        return scores

    def number(self, subject: str, line: int, cell: str) -> float:
        """The score ``cell`` of ``subject`` (on ``line``) as a float."""
        try:
            value = float(cell) if cell.isascii() else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or "_" in cell:
            raise UserError(
                f"{self.path}, line {line}: expected a number in column {self.target!r} for "
                f"subject {subject!r}, got {cell!r}."
            )
        if abs(value) > MAX_ABS_Y:
            raise UserError(
                f"{self.path}, line {line}: expected a score within ±{MAX_ABS_Y:g} for subject "
                f"{subject!r}, got {value:g}; rescale the scores."
            )
        return value

    def unused(self, subjects: Iterable[str]) -> int:
        """How many subjects of the table are not in ``subjects`` (have no recording)."""
        return len(set(self.cells) - set(subjects))


def read_score_table(
    path: Path, target: str, subject_column: str | None = None, bids: bool = False
) -> ScoreTable:
    """Read the subject and score columns of a CSV or TSV table.

    Parameters
    ----------
    path : Path
        ``.csv`` or ``.tsv`` file, UTF-8 (a byte-order mark is allowed), header row first.
    target : str
        The score column.
    subject_column : str, optional
        The subject id column; default: the first column (``participant_id`` in BIDS).
    bids : bool
        Ids are BIDS subjects: ``01`` and ``sub-01`` are the same subject, kept as
        ``sub-01``.

    Raises
    ------
    UserError
        Unreadable file, another suffix, no header, a missing column, an empty or
        repeated subject id, a row with too few cells.
    """
    delimiter = DELIMITERS.get(path.suffix.lower())
    if delimiter is None:
        raise UserError(
            f"{path}: expected a score table ending in .csv or .tsv, got "
            f"{path.suffix or 'no suffix'!r}."
        )
    text = read_text_file(path, "score table").removeprefix("\ufeff")
    rows = list(csv.reader(text.splitlines(), delimiter=delimiter))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise UserError(f"{path}: expected a header row of column names, got an empty file.")
    header = [cell.strip() for cell in rows[0]]
    subject_column = subject_column or header[0]
    columns = {}
    for name in (subject_column, target):
        if name not in header:
            raise UserError(
                f"{path}: expected a column {name!r}, got columns {header}; choose one with "
                f"{'--target' if name == target else '--subject-column'}."
            )
        if header.count(name) > 1:
            raise UserError(f"{path}: expected one column {name!r}, got {header.count(name)}.")
        columns[name] = header.index(name)
    cells: dict[str, tuple[int, str]] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) <= max(columns.values()):
            raise UserError(
                f"{path}, line {line}: expected {len(header)} cells, got {len(row)}; check the "
                f"delimiter ({'tab' if delimiter == chr(9) else 'comma'} for {path.suffix})."
            )
        subject = row[columns[subject_column]].strip()
        if not subject:
            raise UserError(f"{path}, line {line}: expected a subject id, got an empty cell.")
        if bids and not subject.startswith(BIDS_PREFIX):
            subject = BIDS_PREFIX + subject
        if subject in cells:
            raise UserError(
                f"{path}, line {line}: expected one row per subject, got {subject!r} again "
                f"(first on line {cells[subject][0]})."
            )
        cells[subject] = (line, row[columns[target]].strip())
    return ScoreTable(path, target, cells)
