"""The winner's curse, measured: the chosen configuration's CV MAE against its held-out MAE.

Run from the repository root:  python benchmarks/bench_holdout.py [--trials 4 16] [--seed 42 7]

For each study size and sampler seed, one study on the demo data with the default hold-out
(12 of 60 subjects never seen by the search). Read from what the study wrote: the best
configuration's fold-averaged CV MAE (selection-biased: chosen on those folds), its MAE on
the held-out subjects after one refit on all 48 tuning subjects (unbiased), the gap between
them, and the mean predictor's CV and held-out MAE on the same folds and subjects. The held-out
subjects depend on the seed, and 12 subjects are a noisy sample: the mean predictor's own gap
(a constant nobody selected) measures how much harder they are than the CV folds, so the
selection gap (best's gap minus the mean predictor's) is what the search's choice adds. The
more configurations a search tries on the same folds, the more its best CV value flatters
it. Each study of 16 trials takes about 2 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.study_runs import run_launcher  # noqa: E402
from centerir.contract import BEST_REFIT, Role  # noqa: E402
from results import candidates, open_study  # noqa: E402


def measure(flags: list[str], trials: int, seed: int, folder: Path) -> dict[str, float]:
    """One study; its best's CV and held-out MAE and the mean predictor's."""
    run = [*flags, "--num-samples", str(trials), "--seed", str(seed), "--holdout", "0.2"]
    seconds, experiment = run_launcher(run, folder, f"t{trials}_s{seed}")
    study = open_study(experiment)
    best = candidates(study.ranked).iloc[0]
    mean = study.ranked[study.ranked["role"] == str(Role.MEAN_PREDICTOR)].iloc[0]
    scores = study.holdout["scores"]
    held_best = scores[BEST_REFIT].metrics["mae"]
    held_mean = scores[str(Role.MEAN_PREDICTOR)].metrics["mae"]
    return {
        "trials": trials,
        "seed": seed,
        "cv_best": float(best["mae"]),
        "held_out_best": held_best,
        "gap": held_best - float(best["mae"]),
        "cv_mean_predictor": float(mean["mae"]),
        "held_out_mean_predictor": held_mean,
        "selection_gap": (held_best - float(best["mae"])) - (held_mean - float(mean["mae"])),
        "seconds": seconds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--seed", type=int, nargs="+", default=[42, 7], help="sampler seed(s)")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=6, help="most epochs per fold")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    flags = ["--folds", str(args.folds), "--epochs", str(args.epochs)]
    print(
        f"demo data, {args.folds} folds x <= {args.epochs} epochs, 12 of 60 subjects held out; "
        "MAE in score points"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="centerir-bench-") as temp:
        for trials in args.trials:
            for seed in args.seed:
                rows.append(measure(flags, trials, seed, Path(temp)))
                row = rows[-1]
                print(
                    f"  {trials:>3} trials, seed {seed:>3}: best CV MAE {row['cv_best']:.3f} "
                    f"(selection-biased), held-out {row['held_out_best']:.3f} (gap "
                    f"{row['gap']:+.3f}); mean predictor CV {row['cv_mean_predictor']:.3f}, "
                    f"held-out {row['held_out_mean_predictor']:.3f}; selection gap "
                    f"{row['selection_gap']:+.3f}; {row['seconds']:.0f} s"
                )
    for trials in args.trials:
        mine = [row for row in rows if row["trials"] == trials]
        gap = sum(row["gap"] for row in mine) / len(mine)
        selection = sum(row["selection_gap"] for row in mine) / len(mine)
        print(
            f"{trials} trials: mean gap (held-out - CV) {gap:+.3f}, selection gap {selection:+.3f}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
