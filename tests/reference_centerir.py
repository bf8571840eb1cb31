"""A plain per-group loop of the CenterIR loss, the reference the vectorised loss must match.

Written for clarity, not speed: one Python iteration per k and per group. Shared by the
tests and ``benchmarks/bench_core.py``.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def loop_centerir(
    features: torch.Tensor,
    labels: np.ndarray,
    train_labels: np.ndarray,
    boundaries: int,
    k: tuple[int, ...],
) -> torch.Tensor:
    """CenterIR with ``remainder="group"``; features (B, D), labels (B,)."""
    counts, edges = np.histogram(np.asarray(train_labels, dtype=np.float64), bins=boundaries)
    kept_bins = [b for b in range(boundaries) if counts[b] > 0]
    labels = np.asarray(labels, dtype=np.float64)
    sample_bin = []
    for value in labels:
        if value < edges[0] or value > edges[-1]:
            sample_bin.append(None)
            continue
        b = min(int(np.searchsorted(edges, value, side="right")) - 1, boundaries - 1)
        sample_bin.append(kept_bins.index(b) if b in kept_bins else None)
    total = features.new_zeros(())
    for size in k:
        groups = list(range(0, len(kept_bins), size))  # first kept bin of each group
        group_counts = [
            sum(counts[kept_bins[j]] for j in range(start, min(start + size, len(kept_bins))))
            for start in groups
        ]
        largest = max(group_counts)
        spread = max(largest - c for c in group_counts)
        terms = []
        for g, start in enumerate(groups):
            members = [
                i for i, b in enumerate(sample_bin) if b is not None and start <= b < start + size
            ]
            if len(members) < 2:
                continue
            x = features[members]
            center = x.mean(dim=0)
            weight = 0.0 if spread == 0 else (largest - group_counts[g]) / spread
            terms.append(math.exp(weight) * ((x - center) ** 2).sum(dim=1).mean())
        if terms:
            total = total + torch.stack(terms).mean()
    return total
