"""Ray's overhead: a study of small trials against the same configs run directly in a loop.

Run from the repository root:  python benchmarks/bench_overhead.py [--trials 8] [--epochs 10]

Arm 1 (Ray): ``python -m tune_study.launch`` on the demo data, one trial at a time with every
core (``--max-concurrent 1 --cpus-per-trial <cores>``), so both arms train alike.
Arm 2 (direct): one Python process that reads back the configs Ray ran and calls
``centerir.cv.cross_validate`` on each in a loop, with the same torch threads.

Both wall times are end to end, from process start to exit: the Ray arm includes Ray's
start and shutdown, the Optuna sampler, the per-fold reports and checkpoints, and the final
ranking and HTML report. Overhead = (Ray - direct) / Ray; the floor is under 10 %. The
fold MAEs of the two arms are compared too: the same seeds must give the same numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from study_runs import ROOT, private_env, run_launcher  # noqa: E402


def trial_folders(experiment: Path) -> list[Path]:
    return sorted(p for p in experiment.iterdir() if (p / "params.json").is_file())


def ray_fold_maes(experiment: Path) -> list[list[float]]:
    """Each trial's fold MAEs as its last report gave them, in trial-folder order."""
    last = []
    for trial in trial_folders(experiment):
        lines = (trial / "result.json").read_text().splitlines()
        last.append(json.loads(lines[-1])["fold_maes"])
    return last


def run_direct(experiment: Path, threads: int) -> list[list[float]]:
    """The experiment's trial configs cross-validated one after another in this process."""
    import torch

    from centerir.config import Config
    from centerir.cv import cross_validate
    from centerir.demo import make_demo_dataset
    from tune_study.trainable import trial_config

    torch.set_num_threads(threads)
    base = Config.from_dict(
        json.loads((experiment / "centerir_study.json").read_text())["base_config"]
    )
    dataset = make_demo_dataset(seed=0)
    maes = []
    for trial in trial_folders(experiment):
        config = trial_config(json.loads((trial / "params.json").read_text()), base)
        result = cross_validate(config, dataset)
        maes.append([fold.metrics["mae"] for fold in result.folds])
    return maes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10, help="most epochs per fold")
    parser.add_argument("--direct", type=Path, help=argparse.SUPPRESS)  # the direct arm
    args = parser.parse_args(argv)
    threads = os.cpu_count() or 1
    if args.direct:
        print(json.dumps(run_direct(args.direct, threads)))
        return 0

    with tempfile.TemporaryDirectory(dir=ROOT) as temp:
        folder = Path(temp)
        flags = ["--num-samples", str(args.trials), "--max-concurrent", "1"]
        flags += ["--cpus-per-trial", str(threads), "--gpus-per-trial", "0"]
        flags += ["--folds", str(args.folds), "--epochs", str(args.epochs)]
        ray_seconds, experiment = run_launcher(flags, folder, "overhead")
        started = time.perf_counter()
        direct = subprocess.run(
            [sys.executable, __file__, "--direct", str(experiment)],
            cwd=ROOT,
            env=private_env(folder),
            capture_output=True,
            text=True,
        )
        direct_seconds = time.perf_counter() - started
        if direct.returncode != 0:
            raise SystemExit(f"direct loop failed:\n{direct.stderr[-3000:]}")
        same = json.loads(direct.stdout.splitlines()[-1]) == ray_fold_maes(experiment)
        trained = sum(
            json.loads((t / "result.json").read_text().splitlines()[-1])["seconds"]
            for t in trial_folders(experiment)
        )

    overhead = (ray_seconds - direct_seconds) / ray_seconds
    print(
        f"{args.trials} trials x {args.folds} folds x <= {args.epochs} epochs on the demo data, "
        f"one at a time on {threads} torch threads"
    )
    print(f"  through Ray (launcher, end to end): {ray_seconds:7.1f} s")
    print(f"    of which inside cross_validate:   {trained:7.1f} s (the trials' own clocks)")
    print(f"  direct cross_validate loop:         {direct_seconds:7.1f} s")
    print(f"  Ray's overhead: {100 * overhead:.1f} % of the study's wall time (floor: under 10 %)")
    print(f"  same fold MAEs in both arms: {'yes' if same else 'NO'}")
    return 0 if overhead < 0.10 and same else 1


if __name__ == "__main__":
    raise SystemExit(main())
