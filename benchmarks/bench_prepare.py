"""``prepare`` on ~2 GB of recordings: wall time and the peak memory of the process.

Writes synthetic FIF recordings (float32, 32 channels at 250 Hz) into a temporary folder,
runs ``python -m centerir prepare`` on them as a child process (as is, and with band-pass
and resampling, which load one recording at a time), and reads the child's peak resident
memory (``ru_maxrss`` of that child, from ``os.wait4``; the recordings are written by
another child, as Linux counts the RSS a child inherits at fork in its peak). Exits 1 when
the peak of the run as recorded is not well under the size of its output (more than
``--max-share`` of it). A processed
recording is loaded whole, so that run's peak is bounded by one recording, not by the data
set: it is reported against one recording's size on disk. Everything is deleted afterwards.

    python benchmarks/bench_prepare.py                # ~2 GB: 20 recordings of 100 MB
    python benchmarks/bench_prepare.py --recordings 2 # a quick check
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_CHANNELS = 32
SFREQ = 250.0
BYTES_PER_RECORDING = 100 * 2**20  # float32 on disk


def write_recordings(folder: Path, count: int) -> None:
    """``count`` FIF recordings of ~100 MB and a score table."""
    import mne

    n_times = BYTES_PER_RECORDING // (4 * N_CHANNELS)
    rng = np.random.default_rng(0)
    names = [f"EEG{c:03d}" for c in range(N_CHANNELS)]
    for index in range(count):
        data = rng.standard_normal((N_CHANNELS, n_times), dtype=np.float32) * 20e-6
        raw = mne.io.RawArray(data, mne.create_info(names, SFREQ, "eeg"), verbose="error")
        raw.save(folder / f"sub{index:03d}_raw.fif", fmt="single", verbose="error")
        del raw, data
    rows = "".join(f"sub{index:03d}_raw,{index % 16}\n" for index in range(count))
    (folder / "scores.csv").write_text("subject,score\n" + rows)


def run_prepare(folder: Path, out: Path, extra: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS bytes of one ``prepare`` child process."""
    command = [
        sys.executable, "-m", "centerir", "prepare", str(folder / "*.fif"),
        "--scores", str(folder / "scores.csv"), "--target", "score", "--window", "5",
        "--out", str(out), *extra,
    ]  # fmt: skip
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"prepare failed: {' '.join(command)}")
    return seconds, usage.ru_maxrss * 1024  # KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recordings", type=int, default=20, help="100 MB each (default 20)")
    parser.add_argument("--write-into", type=Path, help=argparse.SUPPRESS)  # the writing child
    parser.add_argument(
        "--max-share", type=float, default=0.25, help="largest peak RSS / output size (0.25)"
    )
    args = parser.parse_args()
    if args.write_into is not None:
        write_recordings(args.write_into, args.recordings)
        return 0
    runs = {"as recorded": [], "band-pass 1-40 Hz, resample 125 Hz": ["--l-freq", "1",
            "--h-freq", "40", "--sfreq", "125"]}  # fmt: skip
    failed = False
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp) / "recordings"
        folder.mkdir()
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--recordings", str(args.recordings), "--write-into",
             str(folder)],
            check=True,
        )  # fmt: skip
        size = sum(p.stat().st_size for p in folder.glob("*.fif"))
        print(f"wrote {args.recordings} recordings, {size / 2**30:.2f} GiB, in "
              f"{time.perf_counter() - start:.0f} s")  # fmt: skip
        print(
            "| run | input GiB | output GiB | wall s | MB/s in | peak RSS MiB | peak / output "
            "| peak / one recording |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for index, (name, extra) in enumerate(runs.items()):
            out = Path(temp) / f"out{index}"
            seconds, peak = run_prepare(folder, out, extra)
            output = sum(p.stat().st_size for p in out.iterdir())
            share = peak / output
            if not extra:  # as recorded: read in chunks, so the peak must not follow the size
                failed |= share > args.max_share
            print(
                f"| {name} | {size / 2**30:.2f} | {output / 2**30:.2f} | {seconds:.0f} | "
                f"{size / 2**20 / seconds:.0f} | {peak / 2**20:.0f} | {share:.3f} | "
                f"{peak / (size / args.recordings):.1f} |"
            )
            for path in out.iterdir():
                path.unlink()
    if failed:
        print(f"FAIL: peak memory as recorded above {args.max_share:g} of the output size")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
