"""Memory of concurrent trials: is the dataset shared through Ray's object store, not copied?

Run from the repository root:  python benchmarks/bench_memory.py [--size-gb 2.0] [--trials 4]

Writes a synthetic data set of ``--size-gb`` (19 channels x 500 samples, float32) to a
temporary folder, runs a study of ``--trials`` concurrent trials on it through
``python -m tune_study.launch`` (2 folds, 1 epoch, a small model: the point is memory, not
accuracy), and samples every trial worker's memory from /proc once a second. The same study
on a data set 1/50 the size gives each worker's baseline (Python, torch, Ray, the model).

Reported per trial worker, peak over the run:
- USS (private memory: what the worker alone holds), the measure of a copy;
- RSS (includes the shared object-store pages the worker reads without copying).
The floor: extra USS per trial (big data minus small data) under 10 % of the data set.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CHANNELS, TIMES = 19, 500
WINDOW_BYTES = CHANNELS * TIMES * 4


def write_dataset(folder: Path, n_windows: int, seed: int = 0) -> list[str]:
    """X (n, 1, 19, 500) float32 written in chunks, skewed integer scores, 8 windows/subject."""
    rng = np.random.default_rng(seed)
    x = np.lib.format.open_memmap(
        folder / "x.npy", mode="w+", dtype=np.float32, shape=(n_windows, 1, CHANNELS, TIMES)
    )
    for start in range(0, n_windows, 2048):
        stop = min(start + 2048, n_windows)
        x[start:stop] = rng.standard_normal((stop - start, 1, CHANNELS, TIMES), dtype=np.float32)
    x.flush()
    del x
    groups = np.arange(n_windows) // 8
    scores = np.minimum(rng.geometric(0.25, groups[-1] + 1) - 1, 15).astype(np.float64)
    np.save(folder / "y.npy", scores[groups])
    np.save(folder / "groups.npy", groups)
    return [
        "--x",
        str(folder / "x.npy"),
        "--y",
        str(folder / "y.npy"),
        "--groups",
        str(folder / "groups.npy"),
    ]


def memory_kib(pid: int) -> dict[str, int]:
    """Rss, Pss and private (USS) memory of a process in KiB, from /proc/PID/smaps_rollup."""
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                values[parts[0][:-1]] = int(parts[1])
    return {
        "rss": values.get("Rss", 0),
        "pss": values.get("Pss", 0),
        "uss": values.get("Private_Clean", 0) + values.get("Private_Dirty", 0),
    }


def trial_workers() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if command.startswith(b"ray::ImplicitFunc"):
            pids.append(int(entry.name))
    return pids


def run_study(data_args: list[str], trials: int, storage: Path, name: str) -> dict:
    """Run the study and return the peak memory of every trial worker and of the driver."""
    study = storage / f"{name}.toml"
    study.write_text(
        f"num_samples = {trials}\nmax_concurrent = {trials}\ncpus_per_trial = 0.5\n"
        "folds = 2\nepochs = 1\n[config]\nn_filters = 8\nlstm_hidden = 8\nbatch_size = 256\n"
        "patience = 0\n"
    )
    command = [
        sys.executable,
        "-m",
        "tune_study.launch",
        "--config",
        str(study),
        *data_args,
        "--storage-path",
        str(storage),
        "--name",
        name,
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    peaks: dict[int, dict[str, int]] = {}
    driver_peak = {"rss": 0, "pss": 0, "uss": 0}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            for pid in [*trial_workers(), process.pid]:
                try:
                    now = memory_kib(pid)
                except OSError:
                    continue
                target = driver_peak if pid == process.pid else peaks.setdefault(pid, dict(now))
                for key, value in now.items():
                    target[key] = max(target[key], value)
            stop.wait(1.0)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    _, errors = process.communicate()
    stop.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"study failed:\n{errors[-2000:]}")
    return {"workers": peaks, "driver": driver_peak, "seconds": time.perf_counter() - started}


def describe(label: str, result: dict) -> dict[str, float]:
    workers = list(result["workers"].values())
    uss = statistics.median(w["uss"] for w in workers) / 1024
    rss = statistics.median(w["rss"] for w in workers) / 1024
    print(
        f"  {label}: {len(workers)} trial workers, median peak USS {uss:8.1f} MiB, "
        f"RSS {rss:8.1f} MiB; driver peak USS {result['driver']['uss'] / 1024:8.1f} MiB, "
        f"RSS {result['driver']['rss'] / 1024:8.1f} MiB; {result['seconds']:.0f} s"
    )
    return {"uss": uss, "rss": rss}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=2.0, help="data set size in GB")
    parser.add_argument("--trials", type=int, default=4, help="concurrent trials")
    args = parser.parse_args(argv)
    n_big = int(args.size_gb * 1e9 // WINDOW_BYTES)
    n_small = max(400, n_big // 50)
    size_mib = n_big * WINDOW_BYTES / 2**20
    print(
        f"data set: {n_big} windows of {CHANNELS} x {TIMES} float32 = {size_mib:.0f} MiB; "
        f"{args.trials} concurrent trials"
    )
    with tempfile.TemporaryDirectory(dir=ROOT) as temp:
        temp = Path(temp)
        (temp / "small").mkdir()
        (temp / "big").mkdir()
        small = describe(
            "small data (baseline)",
            run_study(write_dataset(temp / "small", n_small), args.trials, temp, "small"),
        )
        big = describe(
            "big data            ",
            run_study(write_dataset(temp / "big", n_big), args.trials, temp, "big"),
        )
    extra = big["uss"] - small["uss"]
    share = extra / size_mib
    print(
        f"extra private memory per trial: {extra:.1f} MiB = {100 * share:.2f} % of the data set "
        "(floor: under 10 %)"
    )
    print("RSS grows by the shared object-store pages a worker reads; those are not copies.")
    return 0 if share < 0.10 else 1


if __name__ == "__main__":
    raise SystemExit(main())
