"""The ``prepare`` subcommand of ``python -m centerir``: its flags and its report.

``python -m centerir prepare`` starts here (see ``centerir/__main__.py``), without the
training commands' torch: a process that only converts recordings stays small.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from centerir.command_line import OneLineParser, finite_number, run_command, whole_number
from centerir.prepare import OUTPUT_FILES, Outcome, prepare
from centerir.prepare_plan import AVERAGE, PrepareOptions

DESCRIPTION = (
    "Cut EEG recordings (EDF, BDF, FIF, BrainVision, EEGLAB, or a BIDS folder) into windows "
    "and write X.npy (N, 1, C, T) float32 in µV, y.npy (each window's subject score), "
    "groups.npy (subject ids) and meta.json (rate, channels, processing, sources). Nothing "
    "is filtered, re-referenced or resampled unless asked."
)
EXIT_CODES = (
    "exit codes: 0 done; 1 a bug in centerir (with a traceback); 2 bad input (one line, "
    "nothing written); 130 interrupted."
)


def name_list(text: str) -> tuple[str, ...]:
    """argparse type: comma-separated names, none empty."""
    names = tuple(name.strip() for name in text.split(","))
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    return names


def frequency_list(text: str) -> tuple[float, ...]:
    """argparse type: comma-separated finite numbers."""
    return tuple(finite_number(part.strip()) for part in text.split(","))


def add_prepare_parser(commands: argparse._SubParsersAction) -> None:
    """Add ``prepare`` and its flags to the subcommands of ``python -m centerir``."""
    parser = commands.add_parser(
        "prepare",
        help="EEG recordings -> X.npy, y.npy, groups.npy, meta.json",
        description=DESCRIPTION,
        epilog=EXIT_CODES,
    )
    parser.add_argument(
        "recordings",
        nargs="*",
        metavar="RECORDING",
        help="recording files or quoted globs (e.g. 'data/*.edf'); or use --bids-root",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--window", type=finite_number, required=True, help="window length, seconds"
    )
    parser.add_argument(
        "--overlap",
        type=finite_number,
        default=0.0,
        help="overlap of consecutive windows, seconds (default 0: windows side by side from "
        "the start of each recording)",
    )
    source = parser.add_argument_group("recordings and scores")
    source.add_argument("--bids-root", type=Path, help="a BIDS folder instead of RECORDING")
    for flag in ("task", "session", "run"):
        source.add_argument(
            f"--{flag}",
            dest=f"{flag}s",
            type=name_list,
            help=f"BIDS {flag}(s) to keep, comma-separated (default all)",
        )
    source.add_argument(
        "--scores",
        type=Path,
        help="CSV or TSV table of subjects' scores (default with --bids-root: participants.tsv)",
    )
    source.add_argument("--target", required=True, help="the table's score column")
    source.add_argument(
        "--subject-column", help="the table's subject id column (default its first column)"
    )
    source.add_argument(
        "--subject-pattern",
        help="regex whose first group, searched in each file name, is its subject id, e.g. "
        "'(Subject\\d+)_' (default: the file name without suffix)",
    )
    signal = parser.add_argument_group("channels and processing (each optional, recorded)")
    signal.add_argument(
        "--channels", type=name_list, help="channel names to keep, in this output order"
    )
    signal.add_argument(
        "--channel-types",
        type=name_list,
        help="MNE channel types to keep, e.g. 'eeg' (default: eeg), in the first recording's order",
    )
    signal.add_argument(
        "--drop-missing-recordings",
        action="store_true",
        help="leave out recordings lacking a selected channel (default: refuse them)",
    )
    signal.add_argument(
        "--reference",
        help=f"'{AVERAGE}' (of the selected channels) or comma-separated reference channels "
        "(default: as recorded)",
    )
    signal.add_argument("--l-freq", type=finite_number, help="high-pass edge, Hz")
    signal.add_argument("--h-freq", type=finite_number, help="low-pass edge, Hz")
    signal.add_argument(
        "--notch", type=frequency_list, default=(), help="line-noise frequencies, Hz, e.g. 50,100"
    )
    signal.add_argument("--sfreq", type=finite_number, help="resample to this rate, Hz")
    signal.add_argument(
        "--reject-uv",
        type=finite_number,
        help="drop windows whose peak-to-peak amplitude on any channel exceeds this, µV",
    )
    signal.add_argument(
        "--max-windows-per-subject",
        type=whole_number,
        help="keep at most this many windows per subject (the first ones)",
    )


def options_from_args(args: argparse.Namespace) -> PrepareOptions:
    """The checked :class:`PrepareOptions` of a parsed command line."""
    return PrepareOptions(
        recordings=tuple(args.recordings),
        out=args.out,
        window=args.window,
        overlap=args.overlap,
        target=args.target,
        scores=args.scores,
        subject_column=args.subject_column,
        subject_pattern=args.subject_pattern,
        bids_root=args.bids_root,
        tasks=args.tasks,
        sessions=args.sessions,
        runs=args.runs,
        channels=args.channels,
        channel_types=args.channel_types,
        drop_missing_recordings=args.drop_missing_recordings,
        reference=args.reference,
        l_freq=args.l_freq,
        h_freq=args.h_freq,
        notch=args.notch,
        sfreq=args.sfreq,
        max_windows_per_subject=args.max_windows_per_subject,
        reject_uv=args.reject_uv,
    )


def run_prepare(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    """Run ``prepare`` on parsed ``args`` (from ``argv``, default ``sys.argv[1:]``): print
    what it wrote (exit 0), or a user error in one line (exit 2)."""
    command = ["python", "-m", "centerir", *(sys.argv[1:] if argv is None else argv)]

    def run() -> int:
        options = options_from_args(args)
        print(report(prepare(options, command), options))
        return 0

    return run_command(run)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m centerir prepare ...`` without importing the training commands."""
    parser = OneLineParser(prog="python -m centerir", epilog=EXIT_CODES)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    add_prepare_parser(commands)
    return run_prepare(parser.parse_args(argv), argv)


def report(outcome: Outcome, options: PrepareOptions) -> str:
    """The summary lines: what was written, the counts, the unused scores."""
    plan = outcome.plan
    counts = outcome.counts
    lines = [
        f"wrote {', '.join(str(options.out / name) for name in OUTPUT_FILES)}: "
        f"{len(outcome.labels)} windows of {len(plan.channels)} channels x {plan.n_times} "
        f"samples ({options.window:g} s at {plan.sfreq:g} Hz, µV) from "
        f"{len(plan.recordings)} recordings of {len(counts)} subjects"
    ]
    if options.reject_uv is not None or options.max_windows_per_subject is not None:
        for subject, count in counts.items():
            lines.append(
                f"  {subject}: kept {count.kept}, rejected {count.rejected} (peak to peak), "
                f"over the cap {count.over_cap}"
            )
    empty = [subject for subject, count in counts.items() if count.kept == 0]
    if empty:
        lines.append(f"warning: no window kept for {len(empty)} subjects: {', '.join(empty)}")
    for path, missing in plan.dropped.items():
        lines.append(f"left out {path}: lacks {', '.join(missing)}")
    if plan.unused_scores:
        lines.append(
            f"{plan.unused_scores} subjects of {plan.score_table} have no recording (unused)"
        )
    return "\n".join(lines)
