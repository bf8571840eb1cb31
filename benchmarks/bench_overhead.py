"""Ray's overhead: a study of small trials against the same configs run directly in a loop.

Run from the repository root:
    python benchmarks/bench_overhead.py [--trials 8] [--folds 10] [--epochs 20] [--repeats 2]

Arm 1 (Ray): ``python -m tune_study.launch`` on the demo data, one trial at a time with
``--threads`` CPUs (``--max-concurrent 1 --cpus-per-trial N``; default every core).
Arm 2 (direct): one Python process that reads back the configs Ray ran and calls
``centerir.cv.cross_validate`` on each in a loop, with the same N torch threads.

Both wall times are end to end, from process start to exit: the Ray arm includes Ray's
start and shutdown, the Optuna sampler, the per-fold reports and checkpoints, and the final
ranking and HTML report. Each arm runs ``--repeats`` times, in the order Ray, direct,
direct, Ray, ... so that a machine that speeds up or slows down during the benchmark weighs
on both arms alike. Overhead = (sum of Ray runs - sum of direct runs) / sum of Ray runs;
the floor is under 10 %. The fold MAEs of every run are compared too: the same seeds must
give the same numbers (the second Ray study samples the same configs).

The default trial is the real protocol's 10 folds, each of at most 20 epochs on the small
demo data: small next to a real study's trials (10 folds x 100 epochs of 19 x 2500
windows), yet short enough that Ray's fixed cost per study is a fair share of the whole.
The latest figures, and where the gap goes: docs/benchmarks.md, "Ray's overhead".
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
from results import load, trials_only  # noqa: E402
from results.experiment import read_reports  # noqa: E402


def last_reports(experiment: Path) -> list[dict]:
    """Each trial's last report, in the order of ``results.load``'s rows."""
    return [
        read_reports(experiment / name / "result.json")[-1]
        for name in trials_only(load(experiment))["trial_name"]
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
    for config in trials_only(load(experiment))["config"]:  # the full config each trial ran
        result = cross_validate(Config.from_dict(config), dataset)
        maes.append([fold.metrics["mae"] for fold in result.folds])
    return maes


def run_direct_arm(experiment: Path, folder: Path, threads: int) -> tuple[float, list[list[float]]]:
    """The direct loop in a fresh process: (wall seconds, fold MAEs per trial)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--direct", str(experiment), "--threads", str(threads)],
        cwd=ROOT,
        env=private_env(folder / "home"),
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"direct loop failed:\n{done.stderr[-3000:]}")
    return seconds, json.loads(done.stdout.splitlines()[-1])


def print_gaps(experiment: Path, reference: list[list[float]], other: list[list[float]]) -> None:
    """Per trial, where two runs' fold MAEs differ."""
    for name, a, b in zip(
        trials_only(load(experiment))["trial_name"], reference, other, strict=True
    ):
        if a != b:
            gap = max((abs(x - y) for x, y in zip(a, b, strict=False)), default=0.0)
            print(f"    {name}: {len(a)} vs {len(b)} folds, max |gap| {gap:.2e}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=20, help="most epochs per fold")
    parser.add_argument(
        "--repeats", type=int, default=2, help="runs of each arm, alternating which goes first"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count() or 1,
        help="CPUs per trial = torch threads in both arms (default: every core)",
    )
    parser.add_argument("--keep", type=Path, help="copy the first Ray run's experiment here")
    parser.add_argument("--direct", type=Path, help=argparse.SUPPRESS)  # the direct arm
    args = parser.parse_args(argv)
    threads = args.threads
    if args.direct:
        print(json.dumps(run_direct(args.direct, threads)))
        return 0

    flags = ["--num-samples", str(args.trials), "--max-concurrent", "1"]
    flags += ["--cpus-per-trial", str(threads), "--gpus-per-trial", "0"]
    flags += ["--folds", str(args.folds), "--epochs", str(args.epochs)]
    print(
        f"{args.trials} trials x {args.folds} folds x <= {args.epochs} epochs on the demo data, "
        f"one at a time on {threads} torch threads; {args.repeats} runs per arm"
    )
    seconds: dict[str, list[float]] = {"ray": [], "direct": []}
    maes: list[list[list[float]]] = []
    with tempfile.TemporaryDirectory(prefix="centerir-bench-") as temp:
        reference = None  # the first Ray run's experiment: the configs the direct loop runs
        for repeat in range(args.repeats):
            order = ("ray", "direct") if repeat % 2 == 0 else ("direct", "ray")
            for arm in order:
                folder = Path(temp) / f"{arm}{repeat}"
                if arm == "ray":
                    started = time.time()
                    wall, experiment = run_launcher(flags, folder, "overhead")
                    reports = last_reports(experiment)
                    print(f"  through Ray (launcher, end to end): {wall:6.1f} s")
                    split = where_time_went(reports, started, started + wall)
                    for part, part_seconds in split.items():
                        print(f"    {part}: {max(part_seconds, 0.0):.0f} s")
                    run_maes = [report["mae_folds"] for report in reports]
                    reference = reference or experiment
                else:
                    wall, run_maes = run_direct_arm(reference, folder, threads)
                    print(f"  direct cross_validate loop (process start to exit): {wall:6.1f} s")
                seconds[arm].append(wall)
                maes.append(run_maes)
                if run_maes != maes[0]:
                    print("    fold MAEs differ from the first run's:")
                    print_gaps(reference, maes[0], run_maes)
        if args.keep:
            shutil.copytree(reference, args.keep / reference.name, dirs_exist_ok=True)

    ray_total, direct_total = sum(seconds["ray"]), sum(seconds["direct"])
    overhead = (ray_total - direct_total) / ray_total
    same = all(run == maes[0] for run in maes)
    print(f"  through Ray: {' + '.join(f'{s:.1f}' for s in seconds['ray'])} s")
    print(f"  direct loop: {' + '.join(f'{s:.1f}' for s in seconds['direct'])} s")
    print(f"  Ray's overhead: {100 * overhead:.1f} % of the study's wall time (floor: under 10 %)")
    print(f"  same fold MAEs in every run of both arms: {'yes' if same else 'NO'}")
    return 0 if overhead < 0.10 and same else 1


if __name__ == "__main__":
    raise SystemExit(main())
