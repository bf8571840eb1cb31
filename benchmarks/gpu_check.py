"""Check the GPU path in one run: results against the CPU, training throughput, the GPU's
busy share during a fold, and four training processes sharing one GPU.

Run from the repository root; on a GPU machine the defaults take a few minutes (under 8):

    python benchmarks/gpu_check.py --device cuda --json gpu_check.json

CI runs every part on the CPU with tiny sizes:

    python benchmarks/gpu_check.py --device cpu --tiny --json gpu_check.json

Needs PyTorch, NumPy and the project's own dependencies (scikit-learn, SciPy, tqdm,
PyYAML); no Ray. Parts (``--parts`` picks some):

1. ``cli``: ``python -m centerir train`` on the demo data (2 folds, 2 epochs) on the CPU
   and on ``--device``: fold MAEs side by side and their largest difference.
2. ``throughput``: training samples/s of the synchronous pipeline (pageable per-batch
   copies, the loss read on the host every step) and the overlapped one (the default:
   windows held on the GPU, no host waits within an epoch), per batch size and precision;
   epoch 1 is the warm-up; the median and the best of ``--repeats`` interleaved runs.
3. ``busy``: the GPU's busy share during one fold (fit and validation) per pipeline, from
   ``nvidia-smi`` samples, or else the union of the profiler's kernel intervals over wall
   time; not applicable on a CPU.
4. ``processes``: four training processes started together on the one device (what four
   0.25-GPU trials do): their summed samples/s against one process alone.

A part that fails is recorded with its error and the others still run (one device call
must bring back every figure it can); the exit code is then 1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from centerir.config import Config  # noqa: E402
from centerir.contract import write_json_file  # noqa: E402
from centerir.data import EEGDataset  # noqa: E402
from centerir.device_batches import (  # noqa: E402
    OVERLAPPED,
    SYNCHRONOUS,
    Pipeline,
    fits_on_device,
    resident_bytes,
)
from centerir.runtime import configure_runtime  # noqa: E402
from centerir.training import fit_model, resolve_device, training_precision  # noqa: E402

PIPELINES = {"synchronous": SYNCHRONOUS, "overlapped": OVERLAPPED}
PARTS = ("cli", "throughput", "busy", "processes")
N_PROCESSES = 4  # trials sharing one GPU at 0.25 GPU each
SUBPROCESS_TIMEOUT_S = 300  # a hung child must not eat the whole device call
SAMPLE_EVERY_S = 0.2  # nvidia-smi polling interval
MAX_SCORE = 15  # random scores 0..15, like the demo's


def sizes(tiny: bool) -> dict[str, Any]:
    """Default sizes: the published window (19 x 2500) on a GPU; tiny ones for CI."""
    if tiny:
        return {
            "windows": 32,
            "channels": 4,
            "times": 64,
            "batch_sizes": [8, 16],
            "epochs": 3,
            "repeats": 1,
        }
    return {
        "windows": 2048,
        "channels": 19,
        "times": 2500,
        "batch_sizes": [32, 256],
        "epochs": 4,
        "repeats": 2,
    }


def random_windows(n: int, channels: int, times: int, seed: int = 0) -> EEGDataset:
    """n random windows (n, 1, channels, times) float32 with integer scores 0..15: the
    speed of a training step does not depend on what the windows hold."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 1, channels, times), dtype=np.float32)
    y = rng.integers(0, MAX_SCORE + 1, n).astype(np.float64)
    return EEGDataset(x, y, source=f"random windows ({n} x {channels} x {times})")


def epoch_ends(
    dataset: EEGDataset,
    config: Config,
    device: torch.device,
    pipeline: Pipeline,
    val_fraction: float = 0.0,
) -> tuple[list[float], list[float]]:
    """Train one model (all windows, or the first 1 - ``val_fraction`` with the rest as
    validation) for ``config.epochs`` epochs; return each epoch's end on the wall clock
    (time.time()) and in this process's CPU time (time.process_time()), in s.

    The epoch hook runs after the host has read the epoch's loss sum, so the device has
    finished the epoch by then.
    """
    n_fit = dataset.n_samples - int(round(val_fraction * dataset.n_samples))
    order = np.arange(dataset.n_samples)
    val = order[n_fit:] if n_fit < dataset.n_samples else None
    wall: list[float] = []
    cpu: list[float] = []

    def record(epoch: int, logs: dict) -> None:
        wall.append(time.time())
        cpu.append(time.process_time())

    fit_model(
        config,
        dataset,
        order[:n_fit],
        val,
        device,
        config.seed,
        on_epoch=record,
        pipeline=pipeline,
    )
    return wall, cpu


def steady_rate(ends: list[float], samples_per_epoch: int) -> float:
    """Samples per second (of the clock ``ends`` was read from) over the epochs after the
    first (the warm-up)."""
    return (len(ends) - 1) * samples_per_epoch / (ends[-1] - ends[0])


# -- part 1: the command line on the CPU and on the device -----------------------------


def run_train(device: str, data_args: list[str], out: Path) -> dict[str, Any]:
    """``python -m centerir train`` (2 folds, 2 epochs) on ``device``: its fold MAEs."""
    command = [sys.executable, "-m", "centerir", "train", *data_args]
    command += ["--folds", "2", "--epochs", "2", "--device", device, "--out", str(out)]
    started = time.perf_counter()
    finished = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S
    )
    seconds = time.perf_counter() - started
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {finished.returncode}: {finished.stderr}")
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    return {"fold_mae": [fold["metrics"]["mae"] for fold in metrics["folds"]], "seconds": seconds}


def part_cli(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from centerir.demo import make_demo_dataset  # SciPy: only this part needs it

    data_args: list[str] = []
    if args.tiny:  # a small demo set as .npy files: the built-in one takes ~10 s per run
        demo = make_demo_dataset(seed=1, n_subjects=12, segments_per_subject=2)
        for name in ("x", "y", "groups"):
            np.save(folder / f"{name}.npy", getattr(demo, name))
            data_args += [f"--{name}", str(folder / f"{name}.npy")]
    cpu = run_train("cpu", data_args, folder / "cpu")
    checked = run_train(args.device, data_args, folder / args.device.replace(":", "_"))
    differences = [abs(a - b) for a, b in zip(cpu["fold_mae"], checked["fold_mae"], strict=True)]
    return {
        "data": "demo data (seed 1, 12 subjects x 2 windows)" if args.tiny else "demo data",
        "cpu_fold_mae": cpu["fold_mae"],
        "device_fold_mae": checked["fold_mae"],
        "max_abs_difference": max(differences),
        "cpu_seconds": cpu["seconds"],
        "device_seconds": checked["seconds"],
    }


# -- part 2: training throughput ----------------------------------------------------------


def part_throughput(args: argparse.Namespace, device: torch.device) -> dict[str, Any]:
    dataset = random_windows(args.windows, args.channels, args.times)
    held = resident_bytes(dataset.n_samples, dataset.n_channels, dataset.n_times)
    resident = device.type == "cuda" and fits_on_device(held, device)
    rows = []
    for batch_size in args.batch_sizes:
        for precision in args.precisions:
            config = Config(batch_size=batch_size, epochs=args.epochs, precision=precision)
            rates: dict[str, list[float]] = {name: [] for name in PIPELINES}
            per_cpu_s: dict[str, list[float]] = {name: [] for name in PIPELINES}
            for _ in range(args.repeats):  # interleaved, so drift hits both alike
                for name, pipeline in PIPELINES.items():
                    wall, cpu = epoch_ends(dataset, config, device, pipeline)
                    rates[name].append(steady_rate(wall, dataset.n_samples))
                    per_cpu_s[name].append(steady_rate(cpu, dataset.n_samples))
            medians = {name: statistics.median(values) for name, values in rates.items()}
            # the fastest run is the one least slowed by other work on the machine
            best = {name: max(values) for name, values in rates.items()}
            # samples per CPU-second of this process: the host's cost, and on a CPU shared
            # with other work a steadier measure than the wall clock
            cpu_medians = {name: statistics.median(values) for name, values in per_cpu_s.items()}
            rows.append(
                {
                    "batch_size": batch_size,
                    "precision": precision,
                    "precision_used": training_precision(config, device),
                    "samples_per_s": medians,
                    "runs": rates,
                    "ratio": medians["overlapped"] / medians["synchronous"],
                    "best_ratio": best["overlapped"] / best["synchronous"],
                    "samples_per_cpu_s": cpu_medians,
                    "cpu_runs": per_cpu_s,
                    "cpu_ratio": cpu_medians["overlapped"] / cpu_medians["synchronous"],
                }
            )
    return {
        "windows": [dataset.n_samples, dataset.n_channels, dataset.n_times],
        "epochs": args.epochs,
        "repeats": args.repeats,
        "resident": resident,
        "rows": rows,
    }


# -- part 3: the GPU's busy share during a fold -------------------------------------------


class UtilizationSampler:
    """Polls ``nvidia-smi`` for the GPU's utilisation (%) in a thread: (time.time(), %)."""

    def __init__(self, device: torch.device):
        self.command = [
            "nvidia-smi",
            "--query-gpu=utilization.gpu",
            "--format=csv,noheader,nounits",
        ]
        uuid = getattr(torch.cuda.get_device_properties(device), "uuid", None)
        if uuid is not None:  # CUDA_VISIBLE_DEVICES renumbers GPUs; the UUID does not change
            self.command.append(f"--id=GPU-{uuid}")
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.poll, daemon=True)

    def poll(self) -> None:
        while not self.stop.is_set():
            finished = subprocess.run(self.command, capture_output=True, text=True, timeout=10)
            if finished.returncode == 0 and finished.stdout.strip():
                self.samples.append((time.time(), float(finished.stdout.split()[0])))
            elif self.command[-1].startswith("--id="):  # an id it does not know: first GPU
                self.command.pop()
            self.stop.wait(SAMPLE_EVERY_S)

    def __enter__(self) -> UtilizationSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def union_seconds(intervals: list[tuple[float, float]]) -> float:
    """Total length of the union of (start, end) intervals (any unit)."""
    total, reach = 0.0, -float("inf")
    for start, end in sorted(intervals):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def profiled_busy_share(run: Callable[[], list[float]]) -> float:
    """Kernel time (union of the profiler's CUDA kernel intervals) over wall time of
    ``run``; the profiler's own host overhead makes this a lower bound."""
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    started = time.perf_counter()
    with profile(activities=[ProfilerActivity.CUDA]) as profiler:
        run()
    wall_us = (time.perf_counter() - started) * 1e6
    kernels = [
        (event.time_range.start, event.time_range.end)
        for event in profiler.events()
        if event.device_type == DeviceType.CUDA
    ]
    if not kernels:
        raise RuntimeError("the profiler recorded no CUDA kernel")
    return union_seconds(kernels) / wall_us


def part_busy(args: argparse.Namespace, device: torch.device) -> dict[str, Any]:
    if device.type != "cuda":
        return {"method": None, "rows": [], "note": "not applicable on a CPU"}
    dataset = random_windows(args.windows, args.channels, args.times)
    config = Config(batch_size=args.batch_sizes[0], epochs=args.epochs)
    method = "nvidia-smi" if shutil.which("nvidia-smi") else "profiler"
    rows = []
    for name, pipeline in PIPELINES.items():

        def fold(pipeline: Pipeline = pipeline) -> list[float]:
            return epoch_ends(dataset, config, device, pipeline, val_fraction=0.15)[0]

        if method == "nvidia-smi":
            with UtilizationSampler(device) as sampler:
                ends = fold()
            warm = [percent for at, percent in sampler.samples if ends[0] <= at <= ends[-1]]
            share = statistics.mean(warm) / 100 if warm else None
            count = len(warm)
        else:
            share, count = profiled_busy_share(fold), None
        rows.append({"pipeline": name, "busy_share": share, "samples": count})
    return {
        "method": method,
        "batch_size": config.batch_size,
        "epochs": config.epochs,
        "rows": rows,
        "note": "epochs 2 onward, training and validation"
        if method == "nvidia-smi"
        else "the whole fold, under the profiler",
    }


# -- part 4: four processes on one device -------------------------------------------------


def wait_for_all(folder: Path, parties: int) -> None:
    """Mark this process ready in ``folder`` and wait until ``parties`` processes are, so
    that all of them train at the same time whatever their start-up took."""
    (folder / f"ready-{os.getpid()}").touch()
    deadline = time.time() + SUBPROCESS_TIMEOUT_S
    while len(list(folder.glob("ready-*"))) < parties:
        if time.time() > deadline:
            raise RuntimeError(f"only some of {parties} workers became ready in {folder}")
        time.sleep(0.005)


def worker(args: argparse.Namespace) -> int:
    """One training process of part 4: prints its epoch ends and samples per epoch."""
    configure_runtime(threads=args.threads)
    device = resolve_device(args.device)
    dataset = random_windows(args.windows, args.channels, args.times)
    config = Config(batch_size=args.batch_sizes[0], epochs=args.epochs)
    # first-call costs (CUDA's start-up, kernel choice) on a few batches, before the barrier
    few = dataset.subset(np.arange(min(dataset.n_samples, 2 * config.batch_size)))
    epoch_ends(few, replace(config, epochs=2), device, OVERLAPPED)
    wait_for_all(args.barrier, args.parties)
    ends, _ = epoch_ends(dataset, config, device, OVERLAPPED)
    print(json.dumps({"ends": ends, "samples_per_epoch": dataset.n_samples}))
    return 0


def run_workers(
    args: argparse.Namespace, count: int, threads: int, folder: Path
) -> list[dict[str, Any]]:
    """Run ``count`` workers that train at the same time; each one's epoch ends."""
    folder.mkdir()
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--device", args.device]
    command += ["--barrier", str(folder), "--parties", str(count)]
    command += ["--windows", str(args.windows), "--channels", str(args.channels)]
    command += ["--times", str(args.times), "--epochs", str(args.epochs)]
    command += ["--batch-sizes", str(args.batch_sizes[0]), "--threads", str(threads)]
    children = [
        subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(count)
    ]
    results = []
    for child in children:
        out, err = child.communicate(timeout=SUBPROCESS_TIMEOUT_S)
        if child.returncode != 0:
            raise RuntimeError(f"a worker exited {child.returncode}: {err}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def part_processes(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    threads = max(1, (os.cpu_count() or 1) // N_PROCESSES)  # as Ray gives each trial its CPUs
    (alone,) = run_workers(args, 1, threads, folder / "one")
    together = run_workers(args, N_PROCESSES, threads, folder / "four")
    one = steady_rate(alone["ends"], alone["samples_per_epoch"])
    rates = [steady_rate(r["ends"], r["samples_per_epoch"]) for r in together]
    # how much of the workers' measured spans ran at the same time
    overlap = min(r["ends"][-1] for r in together) - max(r["ends"][0] for r in together)
    span = statistics.mean(r["ends"][-1] - r["ends"][0] for r in together)
    return {
        "threads_per_process": threads,
        "batch_size": args.batch_sizes[0],
        "one_process_samples_per_s": one,
        "per_process_samples_per_s": rates,
        "total_samples_per_s": sum(rates),
        "ratio": sum(rates) / one,
        "overlap_share": max(0.0, overlap) / span,
    }


# -- report -------------------------------------------------------------------------------


def print_report(report: dict[str, Any]) -> None:
    print(f"device {report['device']} ({report['device_name']}), torch {report['torch']}")
    cli = report["parts"].get("cli", {})
    if "cpu_fold_mae" in cli:
        print("\nfold  MAE on cpu          MAE on device")
        for number, (a, b) in enumerate(
            zip(cli["cpu_fold_mae"], cli["device_fold_mae"], strict=True), 1
        ):
            print(f"{number:>4}  {a!r:<20} {b!r}")
        print(f"largest difference {cli['max_abs_difference']:.3g}")
    rows = report["parts"].get("throughput", {}).get("rows", [])
    if rows:
        print(
            "\nbatch  precision (used)  synchronous/s  overlapped/s  ratio  best-run ratio"
            "  per CPU-s ratio"
        )
        for row in rows:
            rate = row["samples_per_s"]
            print(
                f"{row['batch_size']:>5}  {row['precision']:>4} ({row['precision_used']})"
                f"{rate['synchronous']:>17.1f}{rate['overlapped']:>14.1f}{row['ratio']:>7.2f}"
                f"{row['best_ratio']:>16.2f}{row['cpu_ratio']:>17.2f}"
            )
    busy = report["parts"].get("busy", {})
    for row in busy.get("rows", []):
        share = "n/a" if row["busy_share"] is None else f"{row['busy_share']:.0%}"
        print(f"\nGPU busy during a fold ({busy['method']}), {row['pipeline']}: {share}", end="")
    if busy.get("note") and not busy.get("rows"):
        print(f"\nGPU busy share: {busy['note']}", end="")
    processes = report["parts"].get("processes", {})
    if "ratio" in processes:
        print(
            f"\n\n{N_PROCESSES} processes: {processes['total_samples_per_s']:.1f} samples/s in "
            f"all against {processes['one_process_samples_per_s']:.1f} for one "
            f"({processes['ratio']:.2f}x; overlap {processes['overlap_share']:.0%})",
            end="",
        )
    print()
    for name, part in report["parts"].items():
        print(
            f"{name}: {part['seconds']:.1f} s"
            + (f", ERROR {part['error']}" if "error" in part else "")
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="'cuda', 'cuda:N' or 'cpu'")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes, for CI on a CPU")
    parser.add_argument("--json", type=Path, help="file to write the report to")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--windows", type=int, help="random windows for parts 2-4")
    parser.add_argument("--channels", type=int, help="channels per window")
    parser.add_argument("--times", type=int, help="samples per window")
    parser.add_argument("--batch-sizes", type=int, nargs="+", help="part 2; the first for 3, 4")
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"])
    parser.add_argument("--epochs", type=int, help="epochs per run (the first is the warm-up)")
    parser.add_argument("--repeats", type=int, help="interleaved runs per throughput cell")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument("--barrier", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--parties", type=int, default=1, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for key, value in sizes(args.tiny).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.epochs < 2:
        raise SystemExit("--epochs must be >= 2: the first epoch is the warm-up.")
    if args.worker:
        return worker(args)
    configure_runtime(threads=args.threads)
    device = resolve_device(args.device)
    report: dict[str, Any] = {
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU",
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "sizes": {key: getattr(args, key) for key in sizes(args.tiny)},
        "parts": {},
    }
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as temp:
        runs = {
            "cli": lambda: part_cli(args, Path(temp)),
            "throughput": lambda: part_throughput(args, device),
            "busy": lambda: part_busy(args, device),
            "processes": lambda: part_processes(args, Path(temp)),
        }
        for name in args.parts:
            started = time.perf_counter()
            try:
                result = runs[name]()
            except Exception as err:  # record it and go on: see the module docstring
                traceback.print_exc()
                result = {"error": f"{type(err).__name__}: {err}"[:2000]}
            result["seconds"] = time.perf_counter() - started
            report["parts"][name] = result
            print(f"{name} done in {result['seconds']:.1f} s", file=sys.stderr, flush=True)
    if args.json:
        write_json_file(args.json, report)
    print_report(report)
    return 1 if any("error" in part for part in report["parts"].values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
