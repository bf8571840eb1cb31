"""What the study benchmarks share: run the launcher timed, in a Ray of its own.

Each run gets a private HOME and RAY_TMPDIR (so it starts and stops its own local Ray and
leaves nothing behind) and writes its experiment under the given folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def private_env(home: Path) -> dict[str, str]:
    """Environment for one launcher run: HOME ``home``, its own Ray temp folder, no usage
    stats (the tests' Ray runs use it too)."""
    env = dict(os.environ)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),  # the resume key (tune_study.resume_trust)
        RAY_TMPDIR=tempfile.mkdtemp(prefix="r", dir="/tmp"),
        PYTHONPATH=str(ROOT),
        RAY_USAGE_STATS_ENABLED="0",
    )
    return env


def run_launcher(args: list[str], folder: Path, name: str) -> tuple[float, Path]:
    """``python -m tune_study.launch ARGS`` to the end; (wall seconds, experiment folder).

    The wall time covers everything a user waits for: Python and Ray start, the trials, Ray's
    shutdown and the final ranking and report. Without ``--holdout`` in ``args`` no subjects
    are held out (``--holdout 0``): the benchmarks time the search itself.
    """
    if "--holdout" not in args:
        args = [*args, "--holdout", "0"]
    command = [
        sys.executable,
        "-m",
        "tune_study.launch",
        *args,
        "--storage-path",
        str(folder / "runs"),
        "--name",
        name,
    ]
    home = folder / "home"
    home.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=private_env(home), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"study {name} failed:\n{done.stderr[-3000:]}")
    return seconds, folder / "runs" / name


def save_demo_files(folder: Path, n_subjects: int, seed: int = 0) -> list[str]:
    """Demo data of ``n_subjects`` (8 windows each) as .npy files; the launcher's data flags."""
    from centerir.demo import make_demo_dataset

    dataset = make_demo_dataset(n_subjects=n_subjects, seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    flags = []
    for key, values in (("x", dataset.x), ("y", dataset.y), ("groups", dataset.groups)):
        np.save(folder / f"{key}.npy", np.asarray(values))
        flags += [f"--{key}", str(folder / f"{key}.npy")]
    return flags
