"""What ``prepare`` will do, decided and checked from headers and the score table alone.

:func:`make_plan` finds the recordings, reads their headers (no signal), their subjects'
scores, the channel set, the sampling rate and the windows each recording gives, and
refuses bad input (one :class:`~centerir.contract.UserError` line) before anything is
written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from centerir.contract import UserError
from centerir.recordings import (
    Recording,
    expand_recordings,
    find_bids_recordings,
    import_optional,
    read_header,
    subject_of,
    subject_pattern,
)
from centerir.scores import read_score_table

AVERAGE = "average"  # --reference average: the mean of the selected channels
DEFAULT_TYPES = ("eeg",)  # without --channels / --channel-types: every EEG channel


@dataclass(frozen=True)
class PrepareOptions:
    """Everything ``prepare`` is asked to do (the command line's flags).

    Attributes
    ----------
    recordings : tuple of str
        Recording files or globs (empty with ``bids_root``).
    out : Path
        Output folder.
    window : float
        Window length, seconds (> 0).
    overlap : float
        Overlap of consecutive windows, seconds (0 <= overlap < window).
    target : str
        Score column of the table.
    scores : Path or None
        Score table; default ``participants.tsv`` in ``bids_root``.
    subject_column : str or None
        Subject id column; default the table's first.
    subject_pattern : str or None
        Regex whose first group, searched in a file name, is its subject id; default the
        file name without suffix.
    bids_root, tasks, sessions, runs
        A BIDS folder and its filters (None: all).
    channels : tuple of str or None
        Channel names, in output order.
    channel_types : tuple of str or None
        MNE channel types to keep (default ``eeg`` without ``channels``).
    drop_missing_recordings : bool
        Leave out recordings lacking a selected channel instead of refusing.
    reference : str or None
        ``average`` or comma-separated reference channel names; None keeps the recorded one.
    l_freq, h_freq : float or None
        Band-pass edges, Hz (either alone: high-pass or low-pass).
    notch : tuple of float
        Line-noise frequencies, Hz.
    sfreq : float or None
        Resample every recording to this rate, Hz.
    max_windows_per_subject : int or None
        Keep at most this many windows per subject (the first ones, in recording order).
    reject_uv : float or None
        Reject a window whose peak-to-peak amplitude on any channel exceeds this, µV.
    """

    recordings: tuple[str, ...]
    out: Path
    window: float
    target: str
    overlap: float = 0.0
    scores: Path | None = None
    subject_column: str | None = None
    subject_pattern: str | None = None
    bids_root: Path | None = None
    tasks: tuple[str, ...] | None = None
    sessions: tuple[str, ...] | None = None
    runs: tuple[str, ...] | None = None
    channels: tuple[str, ...] | None = None
    channel_types: tuple[str, ...] | None = None
    drop_missing_recordings: bool = False
    reference: str | None = None
    l_freq: float | None = None
    h_freq: float | None = None
    notch: tuple[float, ...] = ()
    sfreq: float | None = None
    max_windows_per_subject: int | None = None
    reject_uv: float | None = None

    def __post_init__(self) -> None:
        positive = {
            "window": self.window,
            "sfreq": self.sfreq,
            "l-freq": self.l_freq,
            "h-freq": self.h_freq,
            "reject-uv": self.reject_uv,
            "max-windows-per-subject": self.max_windows_per_subject,
        }
        for flag, value in positive.items():
            if value is not None and not (math.isfinite(value) and value > 0):
                raise UserError(f"--{flag} must be a finite number > 0, got {value!r}.")
        if not (math.isfinite(self.overlap) and 0 <= self.overlap < self.window):
            raise UserError(
                f"--overlap must be >= 0 and below --window ({self.window:g} s), got "
                f"{self.overlap!r}."
            )
        for value in self.notch:
            if not (math.isfinite(value) and value > 0):
                raise UserError(f"--notch must list finite frequencies > 0, got {value!r}.")
        if self.l_freq and self.h_freq and self.l_freq >= self.h_freq:
            raise UserError(
                f"--l-freq must be below --h-freq, got {self.l_freq:g} and {self.h_freq:g}."
            )
        if self.bids_root is not None and self.recordings:
            raise UserError("give recordings or --bids-root, not both.")
        if self.bids_root is None and not self.recordings:
            raise UserError("expected recordings (files or globs) or --bids-root, got neither.")
        if self.bids_root is None and self.scores is None:
            raise UserError("--scores is required with recording files (a CSV or TSV table).")
        if self.bids_root is not None and self.subject_pattern is not None:
            raise UserError("--subject-pattern is for recording files; BIDS names subjects.")
        if self.bids_root is None and (self.tasks or self.sessions or self.runs):
            raise UserError("--task, --session and --run filter a BIDS folder: need --bids-root.")
        if self.channels is not None and self.channel_types is not None:
            raise UserError("give --channels or --channel-types, not both.")
        for flag, names in (("channels", self.channels), ("reference", self.reference_names)):
            repeated = sorted({n for n in names or () if list(names).count(n) > 1})
            if repeated:
                raise UserError(f"--{flag} must name each channel once, got {repeated[0]!r} twice.")

    @property
    def reference_names(self) -> tuple[str, ...]:
        """The reference channels (none for ``average`` or no re-referencing)."""
        if self.reference is None or self.reference == AVERAGE:
            return ()
        return tuple(name.strip() for name in self.reference.split(","))


@dataclass(frozen=True)
class Plan:
    """The checked work: which recordings, channels, rate and windows.

    Attributes
    ----------
    recordings : list of Recording
        Those to read, in output order (sorted by path).
    n_windows : list of int
        Windows each recording gives before rejection and the per-subject cap.
    scores : dict of str to float
        Score of every subject with recordings.
    channels : tuple of str
        Output channels, in order.
    sfreq : float
        Output sampling rate, Hz.
    n_times, step : int
        Window length and window start spacing, in output samples.
    unused_scores : int
        Subjects of the score table with no recording.
    dropped : dict of str to list of str
        Recordings left out (``--drop-missing-recordings``) -> the channels they lack.
    score_table : Path
        Where the scores came from.
    """

    recordings: list[Recording]
    n_windows: list[int]
    scores: dict[str, float]
    channels: tuple[str, ...]
    sfreq: float
    n_times: int
    step: int
    unused_scores: int
    dropped: dict[str, list[str]]
    score_table: Path


def make_plan(options: PrepareOptions) -> Plan:
    """Find and check everything ``prepare`` needs before reading any signal."""
    import_optional("mne")
    if options.bids_root is not None:
        found = find_bids_recordings(
            options.bids_root, options.tasks, options.sessions, options.runs
        )
        table = options.scores or options.bids_root / "participants.tsv"
    else:
        pattern = subject_pattern(options.subject_pattern)
        found = [(p, subject_of(p, pattern)) for p in expand_recordings(options.recordings)]
        table = options.scores
    check_out_apart(options.out, [path for path, _ in found], options.bids_root)
    scores_table = read_score_table(
        table, options.target, options.subject_column, bids=options.bids_root is not None
    )
    bids = options.bids_root is not None
    recordings = [read_header(path, subject, bids) for path, subject in found]
    channels, dropped = select_channels(recordings, options)
    recordings = [r for r in recordings if str(r.path) not in dropped]
    kept_subjects = sorted({r.subject for r in recordings})
    scores = scores_table.scores_for(kept_subjects)
    sfreq = output_rate(recordings, options)
    check_frequencies(recordings, options, sfreq)
    n_times = round(options.window * sfreq)
    step = n_times - round(options.overlap * sfreq)
    if n_times < 1 or step < 1:
        raise UserError(
            f"--window and --overlap must span at least one sample at {sfreq:g} Hz, got "
            f"{n_times} samples per window and {step} between window starts."
        )
    n_windows = [count_windows(resampled_length(r, sfreq), n_times, step) for r in recordings]
    for recording, count in zip(recordings, n_windows, strict=True):
        if count == 0:
            raise UserError(
                f"{recording.path}: expected a recording of at least one window "
                f"({options.window:g} s), got {recording.seconds:g} s; shorten --window or "
                "leave the recording out."
            )
    return Plan(
        recordings=recordings,
        n_windows=n_windows,
        scores=scores,
        channels=channels,
        sfreq=sfreq,
        n_times=n_times,
        step=step,
        unused_scores=scores_table.unused(kept_subjects),
        dropped=dropped,
        score_table=table,
    )


def check_out_apart(out: Path, recordings: list[Path], bids_root: Path | None) -> None:
    """Refuse an output folder that is the BIDS folder or a folder of the recordings: the
    outputs would mix with (and a later glob would pick up) the inputs."""
    if not out.exists():
        return
    folders = {p.parent for p in recordings} | ({bids_root} if bids_root else set())
    for folder in folders:
        if folder.exists() and out.samefile(folder):
            raise UserError(
                f"{out}: expected an output folder apart from the inputs, got the folder of "
                f"the recordings; choose another --out (e.g. {out / 'prepared'})."
            )


def select_channels(
    recordings: list[Recording], options: PrepareOptions
) -> tuple[tuple[str, ...], dict[str, list[str]]]:
    """The output channels, and the recordings to leave out (-> the channels they lack).

    By name (``--channels``, in that order), or by type: the first recording's channels of
    those types, in its order. A recording lacking one is refused, or left out with
    ``--drop-missing-recordings``; a name no recording has is always refused.
    """
    everywhere = {name for r in recordings for name in r.ch_names}
    for name in (*(options.channels or ()), *options.reference_names):
        if name not in everywhere:
            close = [n for n in sorted(everywhere) if n.lower() == name.lower()]
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UserError(
                f"--channels/--reference: expected channel names the recordings have, got "
                f"{name!r}, which none has{hint}"
            )
    if options.channels is not None:
        wanted = options.channels
    else:
        types = options.channel_types or DEFAULT_TYPES
        first = recordings[0]
        wanted = tuple(n for n, t in zip(first.ch_names, first.ch_types, strict=True) if t in types)
        if not wanted:
            present = sorted(set(first.ch_types))
            raise UserError(
                f"{first.path}: expected channels of type {', '.join(types)}, got types "
                f"{present}; choose --channel-types or --channels."
            )
    needed = (*wanted, *options.reference_names)
    dropped: dict[str, list[str]] = {}
    for recording in recordings:
        missing = [name for name in needed if name not in recording.ch_names]
        if missing and not options.drop_missing_recordings:
            raise UserError(
                f"{recording.path}: expected channels {', '.join(missing)} like the other "
                "recordings, got none of those; choose a common set with --channels, or leave "
                "it out with --drop-missing-recordings."
            )
        if missing:
            dropped[str(recording.path)] = missing
    if len(dropped) == len(recordings):
        raise UserError(
            f"--drop-missing-recordings: expected some recording with every channel, got none "
            f"({len(recordings)} recordings lack some); choose a common set with --channels."
        )
    for recording in recordings:
        if str(recording.path) not in dropped:
            check_channel_kinds(recording, wanted, options)
    return wanted, dropped


def check_channel_kinds(
    recording: Recording, wanted: tuple[str, ...], options: PrepareOptions
) -> None:
    """Refuse a selected channel not in volts (a trigger, a temperature: the output is µV)
    and re-referencing anything but EEG channels (MNE references EEG only)."""
    kinds = dict(zip(recording.ch_names, recording.ch_types, strict=True))
    for name in wanted:
        if not recording.in_volts[recording.ch_names.index(name)]:
            raise UserError(
                f"{recording.path}: expected channels measured in volts, got channel {name!r} "
                f"of type {kinds[name]!r} in other units; leave it out of --channels."
            )
    referenced = options.reference_names or (wanted if options.reference else ())
    for name in referenced:
        if kinds[name] != "eeg":
            raise UserError(
                f"{recording.path}: --reference needs EEG channels, got channel {name!r} of "
                f"type {kinds[name]!r}; re-reference EEG channels only."
            )


def output_rate(recordings: list[Recording], options: PrepareOptions) -> float:
    """The output sampling rate: ``--sfreq``, else the one rate every recording shares."""
    if options.sfreq is not None:
        return options.sfreq
    rates = {r.sfreq for r in recordings}
    if len(rates) > 1:
        first = recordings[0]
        other = next(r for r in recordings if r.sfreq != first.sfreq)
        raise UserError(
            f"{other.path}: expected the sampling rate of the other recordings "
            f"({first.sfreq:g} Hz, {first.path}), got {other.sfreq:g} Hz; resample all to one "
            "rate with --sfreq."
        )
    return rates.pop()


def check_frequencies(recordings: list[Recording], options: PrepareOptions, sfreq: float) -> None:
    """Refuse a filter frequency at or past the Nyquist frequency of a recording or the
    output (a filter there does nothing, or fails inside MNE)."""
    lowest = min([r.sfreq for r in recordings] + [sfreq])
    for flag, value in (("l-freq", options.l_freq), ("h-freq", options.h_freq)):
        if value is not None and value >= lowest / 2:
            raise UserError(
                f"--{flag} must be below half the lowest sampling rate ({lowest:g} Hz), got "
                f"{value:g}."
            )
    for value in options.notch:
        if value >= min(r.sfreq for r in recordings) / 2:
            raise UserError(
                f"--notch must list frequencies below half the lowest sampling rate, got {value:g}."
            )


def resampled_length(recording: Recording, sfreq: float) -> int:
    """Samples of ``recording`` at ``sfreq`` (MNE's rounding when it resamples)."""
    if recording.sfreq == sfreq:
        return recording.n_times
    return max(int(round(recording.n_times * sfreq / recording.sfreq)), 1)


def count_windows(length: int, n_times: int, step: int) -> int:
    """Windows of ``n_times`` samples, starts ``step`` apart from sample 0, in ``length``."""
    return 0 if length < n_times else (length - n_times) // step + 1
