"""``prepare``: EEG recordings and a score table -> ``X.npy``, ``y.npy``, ``groups.npy``,
``meta.json``.

Everything is checked first (:func:`centerir.prepare_plan.make_plan`, from headers); then
one recording at a time is read, processed and cut into windows, which are appended to X
on disk. X is sized for every window the headers promise and trimmed to those kept after
rejection and the per-subject cap, so memory holds one recording (when it is filtered,
re-referenced or resampled) or one chunk of windows (otherwise), never the whole data set.
The outputs are written under temporary names in the output folder and renamed at the
end: a failed or interrupted run leaves nothing.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from centerir.command_line import check_output_path
from centerir.contract import UserError, write_json_file
from centerir.data_meta import META_FILE, META_FORMAT
from centerir.npy_writer import NpyRowWriter
from centerir.prepare_plan import AVERAGE, Plan, PrepareOptions, count_windows, make_plan
from centerir.recordings import Recording, import_optional, open_raw, unreadable

OUTPUT_FILES = ("X.npy", "y.npy", "groups.npy", META_FILE)  # meta.json last: it marks a whole set
MICROVOLTS_PER_VOLT = 1e6  # MNE gives volts; X is in microvolts
CHUNK_BYTES = 16 * 2**20  # signal read at a time from a recording that is not processed
HASH_BLOCK = 2**20


@dataclass
class SubjectCount:
    """Windows of one subject: kept, rejected by amplitude, and left out by the cap."""

    kept: int = 0
    rejected: int = 0
    over_cap: int = 0


@dataclass
class Outcome:
    """What a run wrote.

    Attributes
    ----------
    plan : Plan
    labels : list of str
        The subject of every window written, in order.
    counts : dict of str to SubjectCount
        Per subject, in the order of its first recording.
    hashes : dict of str to dict of str to str
        Per recording, the SHA-256 of each file its signal comes from.
    """

    plan: Plan
    labels: list[str] = field(default_factory=list)
    counts: dict[str, SubjectCount] = field(default_factory=dict)
    hashes: dict[str, dict[str, str]] = field(default_factory=dict)


def prepare(options: PrepareOptions, command: Sequence[str]) -> Outcome:
    """Check everything, then write the four output files into ``options.out``.

    Parameters
    ----------
    options : PrepareOptions
    command : sequence of str
        The command line, recorded in ``meta.json``.

    Raises
    ------
    UserError
        Bad input (one line); nothing is written.
    """
    check_output_folder(options.out)
    plan = make_plan(options)
    created = not options.out.exists()
    options.out.mkdir(parents=True, exist_ok=True)
    partial = {name: options.out / f".{name}.partial" for name in OUTPUT_FILES}
    writer = None
    try:
        writer = NpyRowWriter(
            partial["X.npy"],
            (1, len(plan.channels), plan.n_times),
            np.float32,
            max_rows(plan, options.max_windows_per_subject),
        )
        outcome = write_windows(plan, options, writer)
        writer.finish()
        labels = outcome.labels
        save_npy(partial["y.npy"], np.array([plan.scores[s] for s in labels], dtype=np.float64))
        save_npy(partial["groups.npy"], np.array(labels, dtype=str))
        write_json_file(partial[META_FILE], meta_record(outcome, options, command))
        for name in OUTPUT_FILES:
            partial[name].replace(options.out / name)
        return outcome
    except BaseException:
        if writer is not None:
            writer.close()
        for path in partial.values():
            path.unlink(missing_ok=True)
        if created and not any(options.out.iterdir()):
            options.out.rmdir()
        raise


def check_output_folder(out: Path) -> None:
    """Refuse an output folder that is a file, cannot be written, or already holds outputs
    (they are never overwritten: move them away or choose another folder)."""
    check_output_path(out, "the prepared windows", folder=True)
    present = [name for name in OUTPUT_FILES if (out / name).exists()]
    if present:
        raise UserError(
            f"{out}: expected an output folder without prepared windows, got {present[0]} "
            "there; choose another --out or move the old files away."
        )


def max_rows(plan: Plan, cap: int | None) -> int:
    """The most windows the output can hold: each subject's windows, at most ``cap``."""
    per_subject: dict[str, int] = {}
    for recording, count in zip(plan.recordings, plan.n_windows, strict=True):
        per_subject[recording.subject] = per_subject.get(recording.subject, 0) + count
    return sum(min(n, cap) if cap else n for n in per_subject.values())


def save_npy(path: Path, array: np.ndarray) -> None:
    """``np.save`` to exactly ``path`` (it would add ``.npy`` to a ``.partial`` name)."""
    with open(path, "wb") as handle:
        np.save(handle, array, allow_pickle=False)


def write_windows(plan: Plan, options: PrepareOptions, writer: NpyRowWriter) -> Outcome:
    """Append every kept window of every recording to ``writer``, counting per subject and
    hashing each recording's files."""
    outcome = Outcome(plan, counts={r.subject: SubjectCount() for r in plan.recordings})
    cap = options.max_windows_per_subject
    bar = tqdm(plan.recordings, desc="recordings", unit="recording", file=sys.stderr)
    for recording, promised in zip(bar, plan.n_windows, strict=True):
        count = outcome.counts[recording.subject]
        if cap is not None and count.kept >= cap:  # the subject is full: skip the reading
            count.over_cap += promised
            promised = 0
        for windows in recording_windows(recording, plan, options, promised):
            if options.reject_uv is not None:
                peak_to_peak = windows.max(axis=2) - windows.min(axis=2)  # (n, C), µV
                good = (peak_to_peak <= options.reject_uv).all(axis=1)
                count.rejected += int((~good).sum())
                windows = windows[good]
            room = len(windows) if cap is None else max(0, cap - count.kept)
            count.over_cap += max(0, len(windows) - room)
            windows = windows[:room]
            writer.append(windows[:, None])  # (n, 1, C, T)
            count.kept += len(windows)
            outcome.labels.extend([recording.subject] * len(windows))
        # hashed now, while the file is likely still in the page cache
        outcome.hashes[str(recording.path)] = {
            str(path): sha256_of(path) for path in source_files(recording)
        }
    if writer.rows == 0:
        rejected = sum(c.rejected for c in outcome.counts.values())
        raise UserError(
            f"--reject-uv: expected some windows within {options.reject_uv:g} µV peak to "
            f"peak, got all {rejected} rejected; raise --reject-uv or check the units."
        )
    return outcome


def recording_windows(
    recording: Recording, plan: Plan, options: PrepareOptions, promised: int
) -> Iterator[np.ndarray]:
    """The windows of one recording, in time order, in chunks of (n, C, T) float32 µV.

    Processed (re-referenced, filtered, resampled) recordings are loaded whole, one at a
    time; others are read one chunk of windows at a time.

    Raises
    ------
    UserError
        The signal cannot be read (a damaged or truncated file), or holds NaN or inf.
    """
    if promised == 0:
        return
    read, length = signal_reader(recording, plan, options)
    n_windows = count_windows(length, plan.n_times, plan.step)
    if n_windows > promised:
        raise RuntimeError(f"{recording.path}: {n_windows} windows, the header promised {promised}")
    channels = len(plan.channels)
    per_chunk = max(1, CHUNK_BYTES // (8 * channels * max(plan.step, plan.n_times)))
    for first in range(0, n_windows, per_chunk):
        last = min(n_windows, first + per_chunk)  # windows [first, last)
        start = first * plan.step
        try:
            span = read(start, (last - 1) * plan.step + plan.n_times)  # (C, samples), volts
        except Exception as err:  # a damaged file fails only when its signal is read
            raise UserError(unreadable(recording.path, err)) from None
        if not np.isfinite(span).all():
            seconds = start / plan.sfreq
            raise UserError(
                f"{recording.path}: expected finite samples, got NaN or inf within "
                f"{seconds:g}-{seconds + span.shape[1] / plan.sfreq:g} s; repair or leave out "
                "the recording."
            )
        view = np.lib.stride_tricks.sliding_window_view(span, plan.n_times, axis=1)
        windows = view[:, :: plan.step].transpose(1, 0, 2)  # (n, C, T)
        yield (windows * MICROVOLTS_PER_VOLT).astype(np.float32)


def signal_reader(
    recording: Recording, plan: Plan, options: PrepareOptions
) -> tuple[Callable[[int, int], np.ndarray], int]:
    """A function ``(start, stop) -> (C, stop - start)`` volts of the output channels at the
    output rate, and the recording's length in output samples."""
    raw = open_raw(recording.path, recording.bids)
    picks = list(plan.channels)
    processed = bool(options.reference or options.l_freq or options.h_freq or options.notch) or (
        plan.sfreq != recording.sfreq
    )
    if not processed:
        return (lambda a, b: raw.get_data(picks=picks, start=a, stop=b, verbose="error")), (
            raw.n_times
        )
    try:
        raw.pick([*picks, *(n for n in options.reference_names if n not in picks)])
        raw.load_data(verbose="error")
    except Exception as err:
        raise UserError(unreadable(recording.path, err)) from None
    process(raw, plan, options)
    data = raw.get_data(picks=picks, verbose="error")  # (C, samples), volts
    return (lambda a, b: data[:, a:b]), data.shape[1]


def process(raw: Any, plan: Plan, options: PrepareOptions) -> None:
    """Re-reference, notch, band-pass and resample a loaded Raw in place, in that order."""
    if options.reference == AVERAGE:
        raw.set_eeg_reference(list(plan.channels), ch_type="eeg", verbose="error")
    elif options.reference:
        raw.set_eeg_reference(list(options.reference_names), ch_type="eeg", verbose="error")
    if options.notch:
        raw.notch_filter(list(options.notch), picks="all", verbose="error")
    if options.l_freq or options.h_freq:
        raw.filter(options.l_freq, options.h_freq, picks="all", verbose="error")
    if plan.sfreq != raw.info["sfreq"]:
        raw.resample(plan.sfreq, verbose="error")


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def source_files(recording: Recording) -> list[Path]:
    """The files a recording's signal comes from: its header file and any data files (a
    BrainVision ``.eeg``, an EEGLAB ``.fdt``)."""
    raw = open_raw(recording.path, recording.bids)
    files = [recording.path, *(Path(f) for f in raw.filenames if f is not None)]
    return list(dict.fromkeys(p.resolve() for p in files))


def meta_record(outcome: Outcome, options: PrepareOptions, command: Sequence[str]) -> dict:
    """What ``meta.json`` holds: the setup (rate, channels, window), the processing, the
    scores' source, every source file with its SHA-256, and the counts per subject."""
    plan = outcome.plan
    mne = import_optional("mne")
    n_windows = len(outcome.labels)
    reference: str | list[str] | None = options.reference
    if options.reference_names:
        reference = list(options.reference_names)
    return {
        "format": META_FORMAT,
        "n_windows": n_windows,
        "sfreq": plan.sfreq,
        "ch_names": list(plan.channels),
        "n_times": plan.n_times,
        "window_seconds": options.window,
        "overlap_seconds": options.overlap,
        "unit": "uV",
        "reference": reference,
        "filters": {"l_freq": options.l_freq, "h_freq": options.h_freq, "notch": options.notch},
        "reject_peak_to_peak_uv": options.reject_uv,
        "max_windows_per_subject": options.max_windows_per_subject,
        "scores": {
            "table": str(plan.score_table),
            "target": options.target,
            "subject_column": options.subject_column,
            "unused_subjects": plan.unused_scores,
        },
        "subjects": {
            subject: {"score": plan.scores[subject], **vars(count)}
            for subject, count in outcome.counts.items()
        },
        "sources": [
            {
                "path": str(recording.path),
                "subject": recording.subject,
                "sfreq": recording.sfreq,
                "seconds": recording.seconds,
                "sha256": outcome.hashes[str(recording.path)],
            }
            for recording in plan.recordings
        ],
        "dropped_recordings": plan.dropped,
        "command": list(command),
        "versions": {"mne": mne.__version__, "numpy": np.__version__},
    }
