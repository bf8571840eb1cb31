"""Per-channel standardisation and batched movement of EEG windows to the device.

Windows stay in their (possibly memory-mapped) array until a batch needs them; only that
batch is copied to float32 and sent to the device. On CUDA a batch can be staged in
page-locked (pinned) memory, so that its copy runs while the host reads the next one.
:mod:`centerir.device_batches` holds a fold's windows on the GPU instead, when they fit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from centerir.data import EEGDataset

STATS_CHUNK_ROWS = 256  # windows read at a time when computing channel statistics
MIN_STD = 1e-8  # floor for a flat channel's standard deviation
PREDICT_BATCH = 128  # windows per forward pass when predicting (no gradients kept)


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


def epoch_order(n: int, generator: torch.Generator) -> torch.Tensor:
    """A shuffled order of positions 0..n-1, int64 (n,) on the host: one training epoch.

    Every batch source draws its epochs here, so the same generator state gives the same
    batches whether windows are streamed or held on the device.
    """
    return torch.randperm(n, generator=generator)


def to_device(values: torch.Tensor, device: torch.device, pinned: bool = False) -> torch.Tensor:
    """``values`` (host tensor, any shape) on ``device``.

    ``pinned`` (CUDA only) stages them in page-locked memory first, so the copy is queued
    and the host goes on at once; from ordinary (pageable) memory the host waits for it.
    """
    if pinned:
        values = values.pin_memory()
    return values.to(device, non_blocking=True)


def iterate_batches(
    dataset: EEGDataset,
    indices: np.ndarray,
    batch_size: int,
    standardizer: ChannelStandardizer,
    device: torch.device,
    generator: torch.Generator | None = None,
    pinned: bool = False,
) -> Iterator[tuple[torch.Tensor, np.ndarray]]:
    """Yield (standardised x (b, 1, C, T) float32 on ``device``, its (b,) dataset indices).

    With a ``generator`` the order is shuffled (:func:`epoch_order`); without one it is
    ``indices``' order and every sample appears exactly once (the last batch may be
    smaller). ``pinned``: see :func:`to_device`.
    """
    order = indices
    if generator is not None:
        order = indices[epoch_order(len(indices), generator).numpy()]
    mean, std = standardizer.to_tensors(device)
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        x = to_device(torch.from_numpy(dataset.subset_x(batch)), device, pinned)
        yield (x - mean) / std, batch


def predict_batches(model: torch.nn.Module, batches: Iterable[torch.Tensor]) -> np.ndarray:
    """Predictions float64 (total windows,) for standardised batches (b, 1, C, T), in order;
    the device's results are read once, at the end."""
    model.eval()
    outputs = []
    with torch.inference_mode():
        for x in batches:
            outputs.append(model(x)[0].reshape(-1).double())
    if not outputs:
        return np.zeros(0)
    return torch.cat(outputs).cpu().numpy()


def predict_indices(
    model: torch.nn.Module,
    dataset: EEGDataset,
    indices: np.ndarray,
    standardizer: ChannelStandardizer,
    device: torch.device,
    batch_size: int = PREDICT_BATCH,
) -> np.ndarray:
    """Predictions (len(indices),) float64 for every window in ``indices``, in that order."""
    batches = iterate_batches(dataset, indices, batch_size, standardizer, device)
    return predict_batches(model, (x for x, _ in batches))


@dataclass(frozen=True)
class StreamedWindows:
    """A fold's windows read from X (possibly memory-mapped) one batch at a time.

    The batch source for CPUs, and for GPUs whose free memory cannot hold the fold.
    """

    dataset: EEGDataset
    fit_index: np.ndarray  # (n_fit,) windows trained on
    val_index: np.ndarray | None  # (n_val,) windows that pick the epoch, or None
    standardizer: ChannelStandardizer
    targets: torch.Tensor  # every window's score, float32 (N,), on the host
    device: torch.device
    pinned: bool = False  # stage batches in page-locked memory (CUDA; see to_device)

    def training_batches(
        self, generator: torch.Generator, batch_size: int
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch of shuffled batches: (x (b, 1, C, T), y (b, 1)) on the device."""
        for x, batch in iterate_batches(
            self.dataset,
            self.fit_index,
            batch_size,
            self.standardizer,
            self.device,
            generator,
            self.pinned,
        ):
            yield x, to_device(self.targets[batch].unsqueeze(1), self.device, self.pinned)

    def predict_fit(self, model: torch.nn.Module) -> np.ndarray:
        """Predictions float64 (n_fit,) for the fit windows, in ``fit_index`` order."""
        return predict_indices(model, self.dataset, self.fit_index, self.standardizer, self.device)

    def predict_val(self, model: torch.nn.Module) -> np.ndarray:
        """Predictions float64 (n_val,) for the validation windows, in ``val_index`` order
        (none without ``val_index``)."""
        if self.val_index is None:
            return np.zeros(0)
        return predict_indices(model, self.dataset, self.val_index, self.standardizer, self.device)
