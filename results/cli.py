"""``python -m results EXPERIMENT_DIR``: rank a study's trials, export, report, watch."""

from __future__ import annotations

import argparse
import signal
import time
from collections.abc import Sequence
from pathlib import Path

from centerir.command_line import OneLineParser, check_output_path, run_command
from centerir.contract import STATUS
from results.experiment import ExperimentError, study_settings, trials_only
from results.export import export_configs, export_table
from results.nested import is_nested, nested_lines
from results.ranking import candidates
from results.report import write_report
from results.summary import export_note, open_study, summary_lines


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="python -m results", description=__doc__.splitlines()[0])
    p.add_argument("experiment", type=Path, help="experiment folder (storage_path/name)")
    p.add_argument("--top", type=int, default=10, help="trials shown in the ranking (10)")
    p.add_argument(
        "--export",
        type=Path,
        help="write the best config here (.json, or .yaml); "
        "python -m centerir train --config accepts it as it is",
    )
    p.add_argument(
        "--export-top",
        type=int,
        default=1,
        help="also export ranks 2..N as <name>_rank<i>.<ext> (default 1)",
    )
    p.add_argument("--csv", type=Path, help="write every trial to this CSV file")
    p.add_argument(
        "--parquet", type=Path, help="write every trial to this Parquet file (needs pyarrow)"
    )
    p.add_argument("--report", type=Path, help="folder for report.html and its PNG plots")
    p.add_argument(
        "--watch",
        action="store_true",
        help="re-print the ranking every few seconds while a study runs (Ctrl-C ends)",
    )
    p.add_argument("--every", type=float, default=10.0, help="seconds between --watch updates")
    return p


def ranking_text(experiment: Path, top: int) -> str:
    """The study's summary as text (a nested study's: over its outer folds)."""
    if is_nested(study_settings(experiment)):
        return "\n".join(nested_lines(experiment))
    return "\n".join(summary_lines(open_study(experiment), top))


def stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt


def watch(experiment: Path, top: int, every: float) -> int:
    """Re-print the ranking until Ctrl-C or SIGTERM."""
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        while True:
            text = ranking_text(experiment, top)
            print(f"\033[2J\033[H{time.strftime('%H:%M:%S')}  {experiment}\n{text}", flush=True)
            time.sleep(every)
    except KeyboardInterrupt:
        return 0


def run(args: argparse.Namespace) -> int:
    if args.top < 1 or args.export_top < 1 or args.every <= 0:
        raise ExperimentError("--top and --export-top must be >= 1 and --every > 0.")
    if args.watch:
        study_settings(args.experiment)  # fail at once on a folder that is no experiment
        return watch(args.experiment, args.top, args.every)
    if is_nested(study_settings(args.experiment)):
        asked = [
            flag
            for flag, value in (
                ("--export", args.export),
                ("--csv", args.csv),
                ("--parquet", args.parquet),
                ("--report", args.report),
            )
            if value
        ]
        if asked:
            raise ExperimentError(
                f"{args.experiment}: a nested study has no single best config or table; give "
                f"{' '.join(asked)} with one outer fold's folder ({args.experiment}/*-outer*)."
            )
        print(ranking_text(args.experiment, args.top))
        return 0
    study = open_study(args.experiment)
    if not study.has_trials:
        raise ExperimentError(f"{args.experiment}: the experiment has no trials yet.")
    if candidates(study.ranked).empty:
        trials = trials_only(study.frame)
        statuses = ", ".join(f"{n} {s}" for s, n in trials[STATUS].value_counts().items())
        raise ExperimentError(f"{args.experiment}: no complete trial to rank ({statuses}).")
    if args.export is not None and args.export.suffix.lower() not in (".json", ".yaml", ".yml"):
        raise ExperimentError(
            f"{args.export}: expected a .json, .yaml or .yml file for --export, got "
            f"{args.export.suffix or 'no'} suffix."
        )
    for path, what, folder in (
        (args.export, "the exported config", False),
        (args.csv, "the CSV table", False),
        (args.parquet, "the Parquet table", False),
        (args.report, "the report", True),
    ):
        if path is not None:
            check_output_path(path, what, folder)
    if args.parquet is not None:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ExperimentError("--parquet needs pyarrow: pip install pyarrow.") from None
    print("\n".join(summary_lines(study, args.top)))
    if args.export:
        note = export_note(study)
        for path in export_configs(study.ranked, args.export, args.export_top, note):
            print(f"wrote {path}")
    for path in (args.csv, args.parquet):
        if path:
            export_table(study.frame, path)
            print(f"wrote {path}")
    if args.report:
        path = write_report(study, args.report, f"Study {args.experiment.name}")
        print(f"wrote {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_command(lambda: run(args))
