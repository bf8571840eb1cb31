"""``python -m results EXPERIMENT_DIR``: rank a study's trials, export, report, watch."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from results.compare import compare_top_two
from results.experiment import ExperimentError, load
from results.export import export_configs, export_table
from results.ranking import rank
from results.report import write_report
from results.table import format_ranking


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line (exit code 2)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


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


def ranking_text(experiment: Path, top: int) -> tuple[str, int]:
    """The ranking as text, and how many trials are complete."""
    frame = load(experiment)
    ranked = rank(frame)
    text = format_ranking(ranked, frame, top=top)
    if len(ranked) >= 2:
        text += "\n" + compare_top_two(ranked)
    return text, len(ranked)


def stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt


def watch(experiment: Path, top: int, every: float) -> int:
    """Re-print the ranking until Ctrl-C or SIGTERM."""
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        while True:
            text, _ = ranking_text(experiment, top)
            print(f"\033[2J\033[H{time.strftime('%H:%M:%S')}  {experiment}\n{text}", flush=True)
            time.sleep(every)
    except KeyboardInterrupt:
        return 0


def run(args: argparse.Namespace) -> int:
    if args.top < 1 or args.export_top < 1 or args.every <= 0:
        raise ExperimentError("--top and --export-top must be >= 1 and --every > 0.")
    if args.watch:
        load(args.experiment)  # fail at once on a folder that is no experiment
        return watch(args.experiment, args.top, args.every)
    frame = load(args.experiment)
    if frame.empty:
        raise ExperimentError(f"{args.experiment}: the experiment has no trials yet.")
    ranked = rank(frame)
    if ranked.empty:
        statuses = ", ".join(f"{n} {s}" for s, n in frame["status"].value_counts().items())
        raise ExperimentError(f"{args.experiment}: no complete trial to rank ({statuses}).")
    if args.parquet is not None:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ExperimentError("--parquet needs pyarrow: pip install pyarrow.") from None
    print(format_ranking(ranked, frame, top=args.top))
    print(compare_top_two(ranked))
    if args.export:
        for path in export_configs(ranked, args.export, args.export_top):
            print(f"wrote {path}")
    for path in (args.csv, args.parquet):
        if path:
            export_table(frame, path)
            print(f"wrote {path}")
    if args.report:
        path = write_report(frame, ranked, args.report, f"Study {args.experiment.name}")
        print(f"wrote {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except ExperimentError as err:
        print(f"error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
