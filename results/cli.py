"""``python -m results EXPERIMENT_DIR``: rank a study's trials, export, report, watch."""

from __future__ import annotations

import argparse
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path

from centerir.command_line import (
    OneLineParser,
    finite_number,
    printable,
    run_command,
    whole_number,
)
from centerir.contract import STATUS, Status, UserError
from results.experiment import ExperimentError, study_settings, trials_only
from results.export import (
    CONFIG_SUFFIXES,
    export_configs,
    export_folder,
    export_paths,
    export_table,
    folder_export_paths,
)
from results.nested import is_nested, nested_lines
from results.outputs import check_output_files
from results.ranking import candidates
from results.report import report_files, write_report
from results.summary import Study, export_note, open_study, summary_lines

OUTPUT_FLAGS = ("export", "csv", "parquet", "report")
MAX_EXPORT_TOP = 100  # configs one --export writes; every path is checked before any work
MAX_EVERY = 3600.0  # seconds between --watch updates (time.sleep refuses huge values)


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="python -m results", description=__doc__.splitlines()[0])
    p.add_argument("experiment", type=Path, help="experiment folder (storage_path/name)")
    p.add_argument("--top", type=whole_number, default=10, help="trials shown in the ranking (10)")
    p.add_argument(
        "--export",
        type=Path,
        help="write the best config here (.json, or .yaml), or into a folder (a path without "
        "suffix, e.g. pareto/) one file per configuration of the Pareto front (several "
        "objectives) or of the --export-top best; python -m centerir train --config accepts "
        "each as it is",
    )
    p.add_argument(
        "--export-top",
        type=whole_number,
        default=1,
        help="also export ranks 2..N as <name>_rank<i>.<ext> "
        f"(default 1, at most {MAX_EXPORT_TOP})",
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
    p.add_argument(
        "--every",
        type=finite_number,
        default=10.0,
        help=f"seconds between --watch updates (10; at most {MAX_EVERY:g})",
    )
    return p


def asked_outputs(args: argparse.Namespace) -> list[str]:
    """The output flags given: ``["--csv", "--report"]``."""
    return [f"--{name}" for name in OUTPUT_FLAGS if getattr(args, name) is not None]


def flag_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the flags, as a usage error (None: nothing)."""
    if args.top < 1:
        return f"--top must be >= 1, got --top {args.top}"
    if not 1 <= args.export_top <= MAX_EXPORT_TOP:
        return (
            f"--export-top must be from 1 to {MAX_EXPORT_TOP}, got --export-top {args.export_top}"
        )
    if not 0 < args.every <= MAX_EVERY:
        return f"--every must be > 0 and <= {MAX_EVERY:g} seconds, got --every {args.every:g}"
    if args.watch and asked_outputs(args):
        return f"--watch only prints; give {' '.join(asked_outputs(args))} without --watch"
    return None


def is_folder_export(path: Path | None) -> bool:
    """Whether ``--export`` names a folder: a path without suffix (``pareto/``)."""
    return path is not None and path.suffix == ""


def output_files(args: argparse.Namespace) -> list[tuple[Path, str]]:
    """Every file this run is asked to write, with what it holds (a folder export's files
    are known once the study is read: :func:`folder_files`)."""
    files = []
    if args.export is not None and not is_folder_export(args.export):
        files += [
            (path, "the exported config") for path in export_paths(args.export, args.export_top)
        ]
    for path, what in ((args.csv, "the CSV table"), (args.parquet, "the Parquet table")):
        if path is not None:
            files.append((path, what))
    if args.report is not None:
        files += [(path, "the report") for path in report_files(args.report)]
    return files


def within_or_equal(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it (both made absolute)."""
    path, folder = Path(os.path.abspath(path)), Path(os.path.abspath(folder))
    return path == folder or folder in path.parents


def check_export_folder(args: argparse.Namespace) -> None:
    """A folder ``--export``: a folder or nothing there yet, in a writable place, sharing no
    path with the other outputs."""
    export = args.export
    if os.path.lexists(export) and not export.is_dir():
        raise UserError(
            f"{export}: expected a folder for the exported configs (a path without suffix), "
            "got a file."
        )
    check_output_files([(export / "rank1.json", "an exported config")])
    others = [(path, f"--{name}") for name in ("csv", "parquet", "report")
              if (path := getattr(args, name)) is not None]  # fmt: skip
    for path, flag in others:
        if within_or_equal(path, export) or within_or_equal(export, path):
            raise UserError(
                f"{export}: expected a folder of its own for --export, got {flag} {path} "
                "there too; give them separate places."
            )


def folder_files(study: Study, args: argparse.Namespace) -> list[tuple[Path, str]]:
    """The files a folder ``--export`` writes for ``study``."""
    if not is_folder_export(args.export):
        return []
    if study.multi_objective and args.export_top > 1:
        raise UserError(
            f"{args.export}: a multi-objective study's folder export holds its whole Pareto "
            f"front, got --export-top {args.export_top}: drop --export-top, or export to a "
            ".json file for ranks 1..N."
        )
    paths = folder_export_paths(study.ranked, args.export, args.export_top)
    stale = sorted(
        path.name
        for path in args.export.glob("rank*.json")  # nothing when the folder is not there yet
        if path not in paths and path.is_file()
    )
    if stale:
        raise UserError(
            f"{args.export}: expected a folder holding no other export, got {stale[0]}"
            f"{f' and {len(stale) - 1} more' if len(stale) > 1 else ''} that this export "
            "would not replace; give an empty or new folder."
        )
    return [(path, "an exported config") for path in paths]


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before reading anything, outputs that cannot be written."""
    export = args.export
    if export is not None and not is_folder_export(export):
        if export.suffix.lower() not in CONFIG_SUFFIXES:
            raise UserError(
                f"{export}: expected a .json, .yaml or .yml file, or a folder (no suffix), "
                f"for --export, got {export.suffix} suffix."
            )
    if is_folder_export(export):
        check_export_folder(args)
    check_output_files(output_files(args))
    if args.parquet is not None:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise UserError("--parquet needs pyarrow: pip install pyarrow.") from None


def ranking_text(experiment: Path, top: int) -> str:
    """The study's summary as text (a nested study's: over its outer folds)."""
    if is_nested(study_settings(experiment)):
        return "\n".join(nested_lines(experiment))
    return "\n".join(summary_lines(open_study(experiment), top))


def stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt


def watch(experiment: Path, top: int, every: float) -> int:
    """Re-print the ranking until Ctrl-C or SIGTERM; a folder that is no readable study
    ends it at once with a ``UserError``."""
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        while True:
            text = printable(ranking_text(experiment, top))
            print(f"\033[2J\033[H{time.strftime('%H:%M:%S')}  {experiment}\n{text}", flush=True)
            time.sleep(every)
    except KeyboardInterrupt:
        return 0


def checked_study(experiment: Path) -> Study:
    """The (not nested) study at ``experiment``, refused when it has nothing to rank."""
    study = open_study(experiment)
    if not study.has_trials:
        raise ExperimentError(f"{experiment}: the experiment has no trials yet.")
    if candidates(study.ranked).empty:
        trials = trials_only(study.frame)
        statuses = ", ".join(f"{n} {s}" for s, n in trials[STATUS].value_counts().items())
        complete = trials[trials[STATUS] == Status.COMPLETE]
        valueless = [name for name in study.objectives if complete[name].isna().all()]
        if len(complete) and valueless:
            raise ExperimentError(
                f"{experiment}: no complete trial to rank: none has a value of "
                f"{', '.join(valueless)} (no test window in that region in any fold); rank it "
                "by other --objectives."
            )
        raise ExperimentError(f"{experiment}: no complete trial to rank ({statuses}).")
    return study


def write_outputs(study: Study, args: argparse.Namespace) -> None:
    """Write the exported configs, tables and report asked for (each checked beforehand)."""
    if args.export:
        note = export_note(study)
        export = export_folder if is_folder_export(args.export) else export_configs
        for path in export(study.ranked, args.export, args.export_top, note):
            print(f"wrote {path}")
    for path, parquet in ((args.csv, False), (args.parquet, True)):
        if path:
            export_table(study.frame, path, parquet)
            print(f"wrote {path}")
    if args.report:
        path = write_report(study, args.report, f"Study {args.experiment.name}")
        print(f"wrote {path}")


def run(args: argparse.Namespace) -> int:
    check_outputs(args)
    if args.watch:
        return watch(args.experiment, args.top, args.every)
    if is_nested(study_settings(args.experiment)):
        if asked_outputs(args):
            raise ExperimentError(
                f"{args.experiment}: a nested study has no single best config or table; give "
                f"{' '.join(asked_outputs(args))} with one outer fold's folder "
                f"({args.experiment}/*-outer*)."
            )
        print(printable(ranking_text(args.experiment, args.top)))
        return 0
    study = checked_study(args.experiment)
    check_output_files(output_files(args) + folder_files(study, args))
    print(printable("\n".join(summary_lines(study, args.top))))
    write_outputs(study, args)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = flag_problem(args)
    if problem:
        parser.error(problem)
    return run_command(lambda: run(args))
