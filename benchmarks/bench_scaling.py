"""The study's cost as the work grows: wall time against trials and against data size.

Run from the repository root:  python benchmarks/bench_scaling.py [--trials 8 16 32] [--sizes 1 4]

Each cell is one full launcher run (Ray start to final report) on this machine, with the
demo defaults (3 folds, <= 6 epochs, 1 CPU per trial, as many trials at once as there are
cores). Size 1x is the built-in demo data (60 subjects x 8 windows of 19 x 500); Nx has N
times the subjects. The data go in as .npy files, as a user's would.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.study_runs import run_launcher, save_demo_files  # noqa: E402

DEMO_SUBJECTS = 60


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4], help="x the demo data")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=6, help="most epochs per fold")
    args = parser.parse_args(argv)
    header = "| trials | " + " | ".join(
        f"{size}x data ({size * DEMO_SUBJECTS * 8} windows)" for size in args.sizes
    )
    print(f"{args.folds} folds x <= {args.epochs} epochs per trial; wall seconds per study")
    print(header + " |")
    print("|---:|" + "---:|" * len(args.sizes))
    with tempfile.TemporaryDirectory(prefix="centerir-bench-") as temp:
        folder = Path(temp)
        data = {
            size: save_demo_files(folder / f"data{size}x", size * DEMO_SUBJECTS)
            for size in args.sizes
        }
        for trials in args.trials:
            cells = []
            for size in args.sizes:
                flags = [*data[size], "--num-samples", str(trials)]
                flags += ["--folds", str(args.folds), "--epochs", str(args.epochs)]
                seconds, _ = run_launcher(flags, folder, f"t{trials}_s{size}")
                cells.append(f"{seconds:.0f} s ({seconds / trials:.1f} s/trial)")
            print(f"| {trials} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
