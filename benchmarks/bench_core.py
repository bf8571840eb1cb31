"""Core speed benchmark: fused vs two-convolution training step, vectorised vs loop CenterIR.

Run from the repository root:  python benchmarks/bench_core.py [--repeats 10]

Prints the median of repeated, warmed-up measurements on the CPU, and the ratios the
project holds itself to (training ratio >= 3.5, CenterIR ratio >= 5, CenterIR <= 4 % of a
training step).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from centerir.contract import PUBLISHED  # noqa: E402
from centerir.loss import CenterIRLoss  # noqa: E402
from centerir.model import CNNBiLSTM  # noqa: E402
from tests.reference_centerir import loop_centerir  # noqa: E402

BATCH, CHANNELS, TIMES = 32, 19, 2500
LAMBDA = PUBLISHED["lambda"]


def median_seconds(step, repeats: int, warmup: int = 2) -> float:
    """Median wall time of ``step()`` over ``repeats`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def training_step_seconds(fused: bool, repeats: int) -> float:
    """One forward, backward and Adam step on a (32, 1, 19, 2500) batch."""
    torch.manual_seed(0)
    model = CNNBiLSTM(CHANNELS, TIMES, fused_conv=fused)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, fused=True)
    rng = np.random.default_rng(0)
    labels = np.minimum(rng.geometric(0.25, 500) - 1, 15).astype(np.float32)
    criterion = CenterIRLoss.from_labels(labels, boundaries=16, k=(1, 3, 5, 15))
    x = torch.randn(BATCH, 1, CHANNELS, TIMES)
    y = torch.from_numpy(labels[:BATCH]).unsqueeze(1)

    def step():
        optimizer.zero_grad(set_to_none=True)
        prediction, features = model(x)
        loss = torch.nn.functional.mse_loss(prediction, y) + LAMBDA * criterion(features, y)
        loss.backward()
        optimizer.step()

    return median_seconds(step, repeats)


def centerir_seconds(vectorised: bool, repeats: int) -> float:
    """CenterIR forward + backward on (32, 22464) features, 16 kept bins, k = (1, 2, 4, 8)."""
    rng = np.random.default_rng(1)
    train_labels = np.concatenate([np.arange(16), np.minimum(rng.geometric(0.25, 500) - 1, 15)])
    labels = np.minimum(rng.geometric(0.25, BATCH) - 1, 15).astype(np.float64)
    k = (1, 2, 4, 8)
    criterion = CenterIRLoss.from_labels(train_labels, boundaries=16, k=k)
    assert criterion.n_kept == 16
    features = torch.randn(BATCH, 22464, requires_grad=True)
    label_tensor = torch.from_numpy(labels)

    def step():
        features.grad = None
        if vectorised:
            loss = criterion(features, label_tensor)
        else:
            loss = loop_centerir(features, labels, train_labels, 16, k)
        loss.backward()

    return median_seconds(step, repeats, warmup=3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="timed repetitions (median)")
    args = parser.parse_args(argv)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    fused = training_step_seconds(True, args.repeats)
    two_conv = training_step_seconds(False, args.repeats)
    print(f"training step, batch {BATCH}, {CHANNELS} x {TIMES}:")
    print(f"  composed kernel : {BATCH / fused:8.1f} samples/s ({fused * 1e3:7.1f} ms/step)")
    print(f"  two convolutions: {BATCH / two_conv:8.1f} samples/s ({two_conv * 1e3:7.1f} ms/step)")
    train_ratio = two_conv / fused
    print(f"  ratio           : {train_ratio:8.2f}x  (floor 3.5)")
    vec = centerir_seconds(True, args.repeats * 5)
    loop = centerir_seconds(False, args.repeats * 5)
    print("CenterIR forward+backward, features (32, 22464), 16 kept bins, k = (1, 2, 4, 8):")
    print(f"  vectorised      : {vec * 1e3:8.2f} ms/call")
    print(f"  per-group loop  : {loop * 1e3:8.2f} ms/call")
    loss_ratio = loop / vec
    share = vec / fused
    print(f"  ratio           : {loss_ratio:8.2f}x  (floor 5)")
    print(f"  share of step   : {100 * share:8.2f} %  (ceiling 4 %)")
    ok = train_ratio >= 3.5 and loss_ratio >= 5 and share <= 0.04
    print("all floors met" if ok else "FLOOR MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
