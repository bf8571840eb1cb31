"""Ray's overhead: a study of small trials against the same configs run directly in a loop.

Run from the repository root:
    python benchmarks/bench_overhead.py [--trials 8] [--folds 10] [--epochs 20]

Arm 1 (Ray): ``python -m tune_study.launch`` on the demo data, one trial at a time with every
core (``--max-concurrent 1 --cpus-per-trial <cores>``), so both arms train alike.
Arm 2 (direct): one Python process that reads back the configs Ray ran and calls
``centerir.cv.cross_validate`` on each in a loop, with the same torch threads.

Both wall times are end to end, from process start to exit: the Ray arm includes Ray's
start and shutdown, the Optuna sampler, the per-fold reports and checkpoints, and the final
ranking and HTML report. Overhead = (Ray - direct) / Ray; the floor is under 10 %. The
fold MAEs of the two arms are compared too: the same seeds must give the same numbers.

Ray's cost is mostly fixed per study (about 16 s here: imports, Ray and its dashboard, the
first worker, shutdown, report); trial workers are reused, so a trial adds next to nothing.
The default trial is the real protocol's 10 folds, each of at most 20 epochs on the small
demo data: about 35 s, small next to a real study's trials (10 folds x 100 epochs of
19 x 2500 windows), yet short enough that the fixed cost is a fair share of the study.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.study_runs import ROOT, private_env, run_launcher  # noqa: E402
from results import load  # noqa: E402
from results.experiment import read_reports  # noqa: E402


def last_reports(experiment: Path) -> list[dict]:
    """Each trial's last report, in the order of ``results.load``'s rows."""
    return [
        read_reports(experiment / name / "result.json")[-1]
        for name in load(experiment)["trial_name"]
    ]


def where_time_went(reports: list[dict], started: float, ended: float) -> dict[str, float]:
    """Launcher wall time split by the trials' own clocks (Tune timestamps: whole seconds)."""
    starts = [r["timestamp"] - r["time_total_s"] for r in reports]
    in_trials = sum(r["time_total_s"] for r in reports)
    return {
        "before the first trial (imports, Ray and its dashboard, first worker)": min(starts)
        - started,
        "inside trials (training, evaluation, per-fold reports)": in_trials,
        "between trials": max(r["timestamp"] for r in reports) - min(starts) - in_trials,
        "after the last trial (Ray shutdown, ranking, HTML report)": ended
        - max(r["timestamp"] for r in reports),
    }


def run_direct(experiment: Path, threads: int) -> list[list[float]]:
    """The experiment's trial configs cross-validated one after another in this process."""
    import torch

    from centerir.config import Config
    from centerir.cv import cross_validate
    from centerir.demo import make_demo_dataset

    torch.set_num_threads(threads)
    dataset = make_demo_dataset(seed=0)
    maes = []
    for config in load(experiment)["config"]:  # the full config each trial ran
        result = cross_validate(Config.from_dict(config), dataset)
        maes.append([fold.metrics["mae"] for fold in result.folds])
    return maes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=20, help="most epochs per fold")
    parser.add_argument("--keep", type=Path, help="copy the Ray arm's experiment here")
    parser.add_argument("--direct", type=Path, help=argparse.SUPPRESS)  # the direct arm
    args = parser.parse_args(argv)
    threads = os.cpu_count() or 1
    if args.direct:
        print(json.dumps(run_direct(args.direct, threads)))
        return 0

    with tempfile.TemporaryDirectory(prefix="centerir-bench-") as temp:
        folder = Path(temp)
        flags = ["--num-samples", str(args.trials), "--max-concurrent", "1"]
        flags += ["--cpus-per-trial", str(threads), "--gpus-per-trial", "0"]
        flags += ["--folds", str(args.folds), "--epochs", str(args.epochs)]
        started = time.time()
        ray_seconds, experiment = run_launcher(flags, folder, "overhead")
        split = where_time_went(last_reports(experiment), started, started + ray_seconds)
        direct_started = time.perf_counter()
        direct = subprocess.run(
            [sys.executable, __file__, "--direct", str(experiment)],
            cwd=ROOT,
            env=private_env(folder / "home"),
            capture_output=True,
            text=True,
        )
        direct_seconds = time.perf_counter() - direct_started
        if direct.returncode != 0:
            raise SystemExit(f"direct loop failed:\n{direct.stderr[-3000:]}")
        ray_maes = [report["fold_maes"] for report in last_reports(experiment)]
        direct_maes = json.loads(direct.stdout.splitlines()[-1])
        same = direct_maes == ray_maes
        if not same:
            names = load(experiment)["trial_name"]
            for name, a, b in zip(names, ray_maes, direct_maes, strict=True):
                gap = max((abs(x - y) for x, y in zip(a, b, strict=False)), default=0.0)
                print(f"  {name}: {len(a)} vs {len(b)} folds, max |gap| {gap:.2e}")
        if args.keep:
            shutil.copytree(experiment, args.keep / experiment.name, dirs_exist_ok=True)

    overhead = (ray_seconds - direct_seconds) / ray_seconds
    print(
        f"{args.trials} trials x {args.folds} folds x <= {args.epochs} epochs on the demo data, "
        f"one at a time on {threads} torch threads"
    )
    print(f"  through Ray (launcher, end to end): {ray_seconds:6.1f} s")
    for part, seconds in split.items():
        print(f"    {part}: {max(seconds, 0.0):.0f} s")
    print(f"  direct cross_validate loop (process start to exit): {direct_seconds:6.1f} s")
    print(f"  Ray's overhead: {100 * overhead:.1f} % of the study's wall time (floor: under 10 %)")
    print(f"  same fold MAEs in both arms: {'yes' if same else 'NO'}")
    return 0 if overhead < 0.10 and same else 1


if __name__ == "__main__":
    raise SystemExit(main())
