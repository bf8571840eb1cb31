"""Per-channel standardisation and batched movement of EEG windows to the device.

Windows stay in their (possibly memory-mapped) array until a batch needs them; only that
batch is copied to float32 and sent to the device.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from centerir.data import EEGDataset

STATS_CHUNK_ROWS = 256  # windows read at a time when computing channel statistics
MIN_STD = 1e-8  # floor for a flat channel's standard deviation


@dataclass(frozen=True)
class ChannelStandardizer:
    """Per-channel mean and standard deviation (µV or the data's unit), shape (C,) each."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, dataset: EEGDataset, indices: np.ndarray) -> ChannelStandardizer:
        """Statistics over the windows ``indices`` (all their time samples), read in chunks.

        Chunk results are merged with Chan et al.'s pairwise formula, so the variance is
        accurate even for channels with a large DC offset.
        """
        count, mean, m2 = 0, 0.0, 0.0
        for start in range(0, len(indices), STATS_CHUNK_ROWS):
            chunk = dataset.subset_x(np.sort(indices[start : start + STATS_CHUNK_ROWS]))
            values = chunk[:, 0].astype(np.float64)  # (n, C, T)
            n = values.shape[0] * values.shape[2]
            chunk_mean = values.mean(axis=(0, 2))
            chunk_m2 = ((values - chunk_mean[None, :, None]) ** 2).sum(axis=(0, 2))
            delta = chunk_mean - mean
            total = count + n
            mean = mean + delta * n / total
            m2 = m2 + chunk_m2 + delta**2 * count * n / total
            count = total
        std = np.sqrt(m2 / count)
        return cls(
            mean=np.asarray(mean, dtype=np.float32), std=np.maximum(std, MIN_STD).astype(np.float32)
        )

    def to_tensors(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and std as (1, 1, C, 1) tensors on ``device``."""
        shape = (1, 1, -1, 1)
        return (
            torch.from_numpy(self.mean).reshape(shape).to(device),
            torch.from_numpy(self.std).reshape(shape).to(device),
        )


def iterate_batches(
    dataset: EEGDataset,
    indices: np.ndarray,
    batch_size: int,
    standardizer: ChannelStandardizer,
    device: torch.device,
    generator: torch.Generator | None = None,
) -> Iterator[tuple[torch.Tensor, np.ndarray]]:
    """Yield (standardised x (b, 1, C, T) float32 on ``device``, its (b,) dataset indices).

    With a ``generator`` the order is shuffled; without one it is ``indices``' order and
    every sample appears exactly once (the last batch may be smaller).
    """
    order = indices
    if generator is not None:
        order = indices[torch.randperm(len(indices), generator=generator).numpy()]
    mean, std = standardizer.to_tensors(device)
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        x = torch.from_numpy(dataset.subset_x(batch)).to(device, non_blocking=True)
        yield (x - mean) / std, batch


def predict_indices(
    model: torch.nn.Module,
    dataset: EEGDataset,
    indices: np.ndarray,
    standardizer: ChannelStandardizer,
    device: torch.device,
    batch_size: int = 128,
) -> np.ndarray:
    """Predictions (len(indices),) float64 for every window in ``indices``, in that order."""
    model.eval()
    outputs = []
    with torch.inference_mode():
        for x, _ in iterate_batches(dataset, indices, batch_size, standardizer, device):
            outputs.append(model(x)[0].reshape(-1).double().cpu())
    if not outputs:
        return np.zeros(0)
    return torch.cat(outputs).numpy()
