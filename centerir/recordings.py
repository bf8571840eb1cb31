"""EEG recordings for ``prepare``: finding them, naming their subject, reading their headers.

MNE (and mne-bids for a BIDS folder) is imported here only, on first use, so the rest of
``centerir`` works without it. Headers are read with ``preload=False``: no signal is read
until :func:`open_raw` is called again for the data pass, one recording at a time.
"""

from __future__ import annotations

import glob
import importlib
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from centerir.contract import UserError, check_regular_file
from centerir.scores import BIDS_PREFIX

EEG_EXTRA = "pip install 'centerir-tune[eeg]'"
# The formats read, by file suffix (the header file of a BrainVision or EEGLAB recording).
FORMATS = {
    ".edf": "EDF",
    ".bdf": "BDF",
    ".fif": "FIF",
    ".fif.gz": "FIF",
    ".vhdr": "BrainVision",
    ".set": "EEGLAB",
}
GLOB_CHARACTERS = re.compile(r"[*?\[]")
VOLT = 107  # FIFF_UNIT_V: MNE's code for a channel measured in volts


def import_optional(name: str) -> ModuleType:
    """Import ``mne`` or ``mne_bids``, or say which extra to install."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise UserError(
            f"prepare needs {name.replace('_', '-')}, which is not installed; {EEG_EXTRA}."
        ) from None


def format_of(path: Path) -> str | None:
    """The recording format of ``path`` from its suffix, or None."""
    name = path.name.lower()
    return next((kind for suffix, kind in FORMATS.items() if name.endswith(suffix)), None)


def expand_recordings(patterns: Sequence[str]) -> list[Path]:
    """The recordings named by file paths and globs, sorted, each once.

    A glob keeps the files of a known format (so ``data/*`` skips BrainVision's ``.eeg`` and
    ``.vmrk`` companions); a path given literally must be of a known format.

    Raises
    ------
    UserError
        A missing file, a file of another format, a glob that matches no recording.
    """
    found: set[Path] = set()
    known = ", ".join(FORMATS)
    for pattern in patterns:
        if GLOB_CHARACTERS.search(pattern):
            matches = [Path(m) for m in glob.glob(pattern, recursive=True)]
            recordings = [m for m in matches if m.is_file() and format_of(m)]
            if not recordings:
                got = f"{len(matches)} files of other kinds" if matches else "nothing"
                raise UserError(f"{pattern}: expected recordings ({known}) to match, got {got}.")
            found.update(recordings)
            continue
        path = Path(pattern)
        check_regular_file(path, "recording")
        if format_of(path) is None:
            raise UserError(
                f"{path}: expected a recording ending in {known}, got "
                f"{path.suffix or 'no suffix'!r}."
            )
        found.add(path)
    if not found:
        raise UserError("expected at least one recording (files or globs), got none.")
    return sorted(found)


def subject_pattern(text: str | None) -> re.Pattern[str] | None:
    """``--subject-pattern`` compiled; it must hold a group, the subject id."""
    if text is None:
        return None
    try:
        pattern = re.compile(text)
    except re.error as err:
        raise UserError(
            f"--subject-pattern must be a regular expression, got {text!r} ({err})."
        ) from None
    if pattern.groups < 1:
        raise UserError(
            f"--subject-pattern must hold a group, the subject id, e.g. '(Subject\\d+)_', got "
            f"{text!r}."
        )
    return pattern


def subject_of(path: Path, pattern: re.Pattern[str] | None) -> str:
    """The subject id of a recording file: the pattern's first group, searched in the file
    name, or else the name without its suffix (one recording per subject)."""
    if pattern is None:
        suffix = next(s for s in FORMATS if path.name.lower().endswith(s))
        return path.name[: -len(suffix)]
    match = pattern.search(path.name)
    if match is None or not match.group(1):
        raise UserError(
            f"{path}: expected its file name to match --subject-pattern {pattern.pattern!r} "
            "with a non-empty first group (the subject id), got no match."
        )
    return match.group(1)


def find_bids_recordings(
    root: Path,
    tasks: Sequence[str] | None,
    sessions: Sequence[str] | None,
    runs: Sequence[str] | None,
) -> list[tuple[Path, str]]:
    """The EEG recordings of a BIDS folder (filtered by task, session, run), with their
    subject ids as ``sub-<label>``, sorted by path."""
    mne_bids = import_optional("mne_bids")
    if not root.is_dir():
        raise UserError(f"{root}: expected a BIDS folder for --bids-root, got no folder.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mne-bids warns about every odd file name it skips
        paths = mne_bids.find_matching_paths(
            root,
            tasks=tasks,
            sessions=sessions,
            runs=runs,
            datatypes="eeg",
            suffixes="eeg",
            extensions=[s for s in FORMATS if s != ".fif.gz"],
        )
    if not paths:
        filters = ", ".join(
            f"{flag} {','.join(values)}"
            for flag, values in (("--task", tasks), ("--session", sessions), ("--run", runs))
            if values
        )
        raise UserError(
            f"{root}: expected EEG recordings (sub-*/[ses-*/]eeg/*_eeg.*) "
            f"{'matching ' + filters if filters else 'in this BIDS folder'}, got none."
        )
    found = {Path(p.fpath): f"{BIDS_PREFIX}{p.subject}" for p in paths}
    return sorted(found.items())


@dataclass(frozen=True)
class Recording:
    """One recording's header: what the checks and the window count need.

    Attributes
    ----------
    path : Path
        The recording (header file).
    subject : str
        Its subject id.
    bids : bool
        Read through mne-bids (channel types from the BIDS sidecars).
    sfreq : float
        Sampling rate, Hz.
    n_times : int
        Samples per channel.
    ch_names, ch_types : tuple of str
        Channel names and MNE types, in the file's order.
    in_volts : tuple of bool
        Whether each channel is measured in volts (an EEG channel; a trigger is not).
    """

    path: Path
    subject: str
    bids: bool
    sfreq: float
    n_times: int
    ch_names: tuple[str, ...]
    ch_types: tuple[str, ...]
    in_volts: tuple[bool, ...]

    @property
    def seconds(self) -> float:
        """Duration in seconds."""
        return self.n_times / self.sfreq


def open_raw(path: Path, bids: bool):
    """The recording as an MNE Raw with ``preload=False`` (only the header is read).

    Raises
    ------
    UserError
        Naming the file, when MNE cannot read it (damaged, truncated, not that format).
    """
    mne = import_optional("mne")
    check_regular_file(path, "recording")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MNE's warnings on odd headers; errors still raise
            if bids:
                mne_bids = import_optional("mne_bids")
                bids_path = mne_bids.get_bids_path_from_fname(path, verbose="error")
                return mne_bids.read_raw_bids(bids_path, verbose="error")
            return mne.io.read_raw(path, preload=False, verbose="error")
    except UserError:
        raise
    except Exception as err:  # MNE parses an untrusted file: its errors are the file's
        raise UserError(unreadable(path, err)) from None


def unreadable(path: Path, err: Exception) -> str:
    """One line for a recording MNE could not read."""
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return (
        f"{path}: expected a readable {format_of(path) or 'EEG'} recording, got one MNE "
        f"cannot read ({first:.200})."
    )


def read_header(path: Path, subject: str, bids: bool) -> Recording:
    """The :class:`Recording` of ``path`` (its signal is not read)."""
    raw = open_raw(path, bids)
    if raw.n_times < 1 or not raw.info["sfreq"] > 0:
        raise UserError(f"{path}: expected a recording with samples, got an empty one.")
    return Recording(
        path=path,
        subject=subject,
        bids=bids,
        sfreq=float(raw.info["sfreq"]),
        n_times=int(raw.n_times),
        ch_names=tuple(raw.ch_names),
        ch_types=tuple(raw.get_channel_types()),
        in_volts=tuple(int(ch["unit"]) == VOLT for ch in raw.info["chs"]),
    )
