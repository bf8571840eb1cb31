"""Pruning's savings: the same seeded study on the demo data with and without ``--prune``.

Run from the repository root:  python benchmarks/bench_pruning.py [--seed 42 7 ...]

Both studies run one trial at a time (so each is reproducible from its seed) with the same
sampler seed, trials, folds and epochs. Counted from what the studies wrote: fold trainings
(the folds every trial finished, pruned trials included), wall time, and the best complete
trial's fold-averaged MAE. The floors, for every seed given: ``--prune`` trains at least
30 % fewer folds, and its best MAE is within 5 % of the unpruned study's best. Each seed
takes about 4-5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.study_runs import run_launcher  # noqa: E402
from centerir.contract import FOLDS_DONE, Status  # noqa: E402
from results import candidates, load, rank, trials_only  # noqa: E402


def summarise(label: str, seconds: float, experiment: Path) -> dict[str, float]:
    frame = trials_only(load(experiment))
    complete = candidates(rank(frame))
    folds = int(frame[FOLDS_DONE].sum())
    best = float(complete["mae"].min())
    print(
        f"  {label}: {len(frame)} trials ({len(complete)} complete, "
        f"{int((frame['status'] == Status.PRUNED).sum())} pruned), {folds} fold trainings, "
        f"best MAE {best:.4f}, {seconds:.0f} s"
    )
    return {"folds": folds, "best": best, "seconds": seconds}


def compare(flags: list[str], seed: int, folder: Path) -> bool:
    """Both studies for one sampler seed; True when both floors hold."""
    flags = [*flags, "--seed", str(seed)]
    print(f"seed {seed}:")
    full = summarise("without --prune", *run_launcher(flags, folder, f"full{seed}"))
    pruned = summarise(
        "with --prune   ", *run_launcher([*flags, "--prune"], folder, f"pruned{seed}")
    )
    saved = 1 - pruned["folds"] / full["folds"]
    gap = pruned["best"] / full["best"] - 1
    print(f"  fold trainings saved: {100 * saved:.1f} % (floor: at least 30 %)")
    print(f"  wall time saved: {100 * (1 - pruned['seconds'] / full['seconds']):.1f} %")
    print(f"  best MAE with --prune vs without: {100 * gap:+.2f} % (floor: within 5 %)")
    return saved >= 0.30 and gap <= 0.05


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=6, help="most epochs per fold")
    parser.add_argument("--seed", type=int, nargs="+", default=[42], help="sampler seed(s)")
    args = parser.parse_args(argv)
    flags = ["--num-samples", str(args.trials), "--max-concurrent", "1"]
    flags += ["--folds", str(args.folds), "--epochs", str(args.epochs)]
    print(
        f"{args.trials} trials x {args.folds} folds x <= {args.epochs} epochs on the demo data, "
        "one trial at a time"
    )
    with tempfile.TemporaryDirectory(prefix="centerir-bench-") as temp:
        held = [compare(flags, seed, Path(temp)) for seed in args.seed]
    print(f"floors held for {sum(held)} of {len(held)} seeds")
    return 0 if all(held) else 1


if __name__ == "__main__":
    raise SystemExit(main())
