"""Same seed, same numbers in every fresh process: MKL's first-call race and our guard.

Run from the repository root:
    python benchmarks/bench_first_call.py [--processes 60] [--threads 2] [--wave 1]

Each arm starts that many fresh Python processes, ``--wave`` at a time, each with
``torch.set_num_threads(threads)``, and hashes the first forward pass (features and
prediction) of a seeded ``CNNBiLSTM`` on a seeded batch:

- ``unguarded``: with ``centerir.cpu_math.resolve_vector_math`` switched off, so the first
  ``safe_log`` meets MKL's lazy dispatch on several threads (pytorch/pytorch#188792);
- ``guarded``: as shipped: building the model resolves the dispatch first.

A process counts as differing when its hash is not the arm's most common one. Exit status
0 when every guarded process gives the same output. The latest figures:
docs/benchmarks.md, "Same seed, same output in every fresh process".
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.study_runs import ROOT  # noqa: E402

ARMS = ("unguarded", "guarded")


def child(arm: str, threads: int) -> str:
    """One fresh process's first forward pass, hashed."""
    import torch

    import centerir.model

    if arm == "unguarded":
        centerir.model.resolve_vector_math = lambda: None
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = centerir.model.CNNBiLSTM(19, 500)
    x = torch.randn(32, 1, 19, 500, generator=torch.Generator().manual_seed(0))
    prediction, features = model(x)
    data = features.detach().numpy().tobytes() + prediction.detach().numpy().tobytes()
    return hashlib.sha256(data).hexdigest()[:12]


def run_arm(arm: str, processes: int, threads: int, wave: int) -> Counter:
    """Answers of ``processes`` fresh processes, ``wave`` at a time, counted."""
    command = [sys.executable, __file__, "--child", arm, "--threads", str(threads)]
    answers = Counter()
    for start in range(0, processes, wave):
        children = [
            subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
            for _ in range(min(wave, processes - start))
        ]
        for process in children:
            answers[process.communicate()[0].strip()] += 1
            if process.returncode != 0:
                raise SystemExit(f"a {arm!r} process failed with exit code {process.returncode}")
    return answers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=60, help="fresh processes per arm")
    parser.add_argument("--threads", type=int, default=2, help="torch threads per process")
    parser.add_argument("--wave", type=int, default=1, help="processes started at once")
    parser.add_argument("--child", choices=ARMS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(child(args.child, args.threads))
        return 0

    import torch

    print(
        f"torch {torch.__version__}: {args.processes} fresh processes per arm, {args.wave} at "
        f"a time, {args.threads} torch threads each"
    )
    differing = {}
    for arm in ARMS:
        answers = run_arm(arm, args.processes, args.threads, args.wave)
        differing[arm] = args.processes - answers.most_common(1)[0][1]
        print(f"  {arm}: {differing[arm]} of {args.processes} processes differ from the others")
    return 0 if differing["guarded"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
