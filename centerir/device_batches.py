"""A fold's windows held on the GPU, standardised once, and batches drawn there by index.

Streaming a small model's batches from host memory leaves a GPU mostly idle: each batch is
read, standardised and copied while the device waits. When the fold's fit and validation
windows fit in the process's share of free GPU memory they are copied once per fold, and
every epoch only sends its shuffled order (n int64) to the device. Otherwise the fold is
streamed (:class:`centerir.batches.StreamedWindows`), from pinned memory on CUDA.

The values are those of the streamed batches bit for bit: standardising is elementwise,
and both sources draw their epochs from :func:`centerir.batches.epoch_order`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from centerir.batches import (
    PREDICT_BATCH,
    STATS_CHUNK_ROWS,
    ChannelStandardizer,
    StreamedWindows,
    epoch_order,
    predict_batches,
    to_device,
)
from centerir.data import EEGDataset

# Most of the process's free GPU memory a fold's windows may take; the rest is for the
# model, Adam's moments, activations and the caching allocator's slack.
RESIDENT_SHARE = 0.5
BYTES_PER_VALUE = 4  # windows and scores are held as float32


class FoldWindows(Protocol):
    """Where a fold's training batches and predictions come from."""

    def training_batches(
        self, generator: torch.Generator, batch_size: int
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch of shuffled batches: (x (b, 1, C, T), y (b, 1)) on the device."""

    def predict_fit(self, model: torch.nn.Module) -> np.ndarray:
        """Predictions float64 (n_fit,) for the fit windows, in their order."""

    def predict_val(self, model: torch.nn.Module) -> np.ndarray:
        """Predictions float64 (n_val,) for the validation windows, in their order (none
        without validation windows)."""


@dataclass(frozen=True)
class Pipeline:
    """How a fold's batches reach the device and when the host waits for it.

    The defaults keep a GPU busy; :data:`SYNCHRONOUS` is the baseline that
    ``benchmarks/gpu_check.py`` measures them against. On a CPU both train the same model
    bit for bit.
    """

    resident: bool = True  # CUDA: hold the fold's windows on the device when they fit
    pinned: bool = True  # CUDA, streamed: stage batches in pinned memory (asynchronous copies)
    # check and read every step's loss on the host (a NaN stops before its step); otherwise
    # the epoch's loss is summed on the device and checked once, after the epoch
    sync_each_step: bool = False


OVERLAPPED = Pipeline()
# Every batch copied from pageable memory, every step's loss checked and read on the host.
SYNCHRONOUS = Pipeline(resident=False, pinned=False, sync_each_step=True)


@dataclass(frozen=True)
class ResidentWindows:
    """A fold's standardised fit and validation windows, and their scores, on the device."""

    x: torch.Tensor  # (n_fit + n_val, 1, C, T) float32: fit windows first, then validation
    y: torch.Tensor  # (n_fit + n_val, 1) float32 scores
    n_fit: int

    @classmethod
    def load(
        cls,
        dataset: EEGDataset,
        fit_index: np.ndarray,
        val_index: np.ndarray | None,
        standardizer: ChannelStandardizer,
        targets: torch.Tensor,
        device: torch.device,
    ) -> ResidentWindows:
        """Copy the windows ``fit_index`` then ``val_index`` (int, (n,)) to ``device`` in
        chunks of :data:`centerir.batches.STATS_CHUNK_ROWS`, standardising each there.

        ``targets`` is every window's score, float32 (N,), on the host.
        """
        indices = fit_index if val_index is None else np.concatenate([fit_index, val_index])
        pinned = device.type == "cuda"
        shape = (len(indices), 1, dataset.n_channels, dataset.n_times)
        x = torch.empty(shape, dtype=torch.float32, device=device)
        mean, std = standardizer.to_tensors(device)
        for start in range(0, len(indices), STATS_CHUNK_ROWS):
            rows = indices[start : start + STATS_CHUNK_ROWS]
            chunk = to_device(torch.from_numpy(dataset.subset_x(rows)), device, pinned)
            x[start : start + len(rows)] = (chunk - mean) / std
        y = to_device(targets[indices].unsqueeze(1), device, pinned)
        return cls(x, y, len(fit_index))

    def training_batches(
        self, generator: torch.Generator, batch_size: int
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch of shuffled fit batches (x (b, 1, C, T), y (b, 1)), gathered on the
        device; the epoch's order is the only copy from the host."""
        order = to_device(epoch_order(self.n_fit, generator), self.x.device, self.pinned)
        for start in range(0, self.n_fit, batch_size):
            positions = order[start : start + batch_size]
            yield self.x[positions], self.y[positions]

    def predict_fit(self, model: torch.nn.Module) -> np.ndarray:
        """Predictions float64 (n_fit,) for the fit windows, in ``fit_index`` order."""
        return self.predict_rows(model, 0, self.n_fit)

    def predict_val(self, model: torch.nn.Module) -> np.ndarray:
        """Predictions float64 (n_val,) for the validation windows, in ``val_index`` order
        (none without ``val_index``)."""
        return self.predict_rows(model, self.n_fit, len(self.x))

    def predict_rows(self, model: torch.nn.Module, start: int, stop: int) -> np.ndarray:
        """Predictions float64 (stop - start,) for the held rows ``start:stop``, in batches
        of :data:`centerir.batches.PREDICT_BATCH` as the streamed source makes them."""
        batches = (
            self.x[first : min(first + PREDICT_BATCH, stop)]
            for first in range(start, stop, PREDICT_BATCH)
        )
        return predict_batches(model, batches)

    @property
    def pinned(self) -> bool:
        """Whether host-to-device copies go through pinned memory (on CUDA)."""
        return self.x.device.type == "cuda"


def resident_bytes(n_windows: int, n_channels: int, n_times: int) -> int:
    """Device memory, in bytes, that :class:`ResidentWindows` takes for ``n_windows``
    windows of ``n_channels`` x ``n_times`` samples and their scores."""
    return BYTES_PER_VALUE * n_windows * (n_channels * n_times + 1)


def fits_on_device(n_bytes: int, device: torch.device) -> bool:
    """Whether ``n_bytes`` fit in :data:`RESIDENT_SHARE` of what this process may still
    allocate on the CUDA ``device``: the GPU's free memory, capped by the process's share
    (``torch.cuda.set_per_process_memory_fraction``, all of the GPU unless set) less what
    the process already reserved."""
    free, total = torch.cuda.mem_get_info(device)
    share = torch.cuda.get_per_process_memory_fraction(device) * total
    allowed = min(free, share - torch.cuda.memory_reserved(device))
    return n_bytes <= RESIDENT_SHARE * allowed


def fold_windows(
    dataset: EEGDataset,
    fit_index: np.ndarray,
    val_index: np.ndarray | None,
    standardizer: ChannelStandardizer,
    targets: torch.Tensor,
    device: torch.device,
    pipeline: Pipeline = OVERLAPPED,
) -> ResidentWindows | StreamedWindows:
    """The fold's batch source: held on a CUDA ``device`` when ``pipeline.resident`` and
    they fit (:func:`fits_on_device`), else streamed (pinned on CUDA when
    ``pipeline.pinned``). A CPU always streams: X may be a memory map larger than RAM."""
    cuda = device.type == "cuda"
    if cuda and pipeline.resident:
        n_windows = len(fit_index) + (0 if val_index is None else len(val_index))
        needed = resident_bytes(n_windows, dataset.n_channels, dataset.n_times)
        if fits_on_device(needed, device):
            return ResidentWindows.load(
                dataset, fit_index, val_index, standardizer, targets, device
            )
    return StreamedWindows(
        dataset, fit_index, val_index, standardizer, targets, device, cuda and pipeline.pinned
    )
