"""Equal-width label bins fitted on a fold's training labels.

CenterIR groups samples by label bins, and the imbalance-aware metrics (balanced MAE,
many/medium/few-shot MAE) need the same notion of "how many training samples share this
label's bin". Both use :class:`LabelBins`, always fitted on the training part of a fold so
that nothing about the test fold leaks into the loss or the metric regions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LabelBins:
    """``boundaries`` equal-width bins over [min, max] of the training labels.

    The edges are exactly those of ``numpy.histogram(labels, bins=boundaries)``: every bin
    is half-open ``[lo, hi)`` except the last, which is closed. Bins that received no
    training label are *empty*; CenterIR keeps only the non-empty ("kept") bins.

    Attributes
    ----------
    edges : ndarray of float64, shape (boundaries + 1,)
    counts : ndarray of int64, shape (boundaries,)
        Training samples per bin (empty bins included).
    """

    edges: np.ndarray
    counts: np.ndarray

    @classmethod
    def fit(cls, labels: np.ndarray, boundaries: int) -> LabelBins:
        """Fit the bins on training labels of shape (N,) or (N, 1)."""
        if isinstance(boundaries, bool) or not isinstance(boundaries, (int, np.integer)):
            raise TypeError(f"boundaries must be an int, got {boundaries!r}.")
        if boundaries < 1:
            raise ValueError(f"boundaries must be >= 1, got boundaries={boundaries}.")
        values = np.asarray(labels, dtype=np.float64).reshape(-1)
        if values.size == 0:
            raise ValueError("labels must hold at least one value, got an empty array.")
        if not np.all(np.isfinite(values)):
            raise ValueError("labels must be finite, got NaN or inf.")
        counts, edges = np.histogram(values, bins=int(boundaries))
        return cls(edges=edges, counts=counts.astype(np.int64))

    @property
    def n_bins(self) -> int:
        """Number of bins, empty ones included (the ``boundaries`` asked for)."""
        return int(self.counts.size)

    @property
    def kept(self) -> np.ndarray:
        """Boolean mask of shape (n_bins,): bins with at least one training label."""
        return self.counts > 0

    @property
    def n_kept(self) -> int:
        """Number of non-empty bins; can be lower than ``boundaries``."""
        return int(self.kept.sum())

    @property
    def kept_counts(self) -> np.ndarray:
        """Training samples per kept bin, shape (n_kept,), in label order."""
        return self.counts[self.kept]

    def bin_index(self, labels: np.ndarray, clip: bool = False) -> np.ndarray:
        """Bin of each label, shape (N,), int64.

        Labels outside [edges[0], edges[-1]] get -1, or the nearest end bin with
        ``clip=True`` (used for test labels outside the training range in metrics).
        """
        values = np.asarray(labels, dtype=np.float64).reshape(-1)
        index = np.searchsorted(self.edges, values, side="right") - 1
        # The last bin is closed: its upper edge belongs to it.
        index[values == self.edges[-1]] = self.n_bins - 1
        if clip:
            return np.clip(index, 0, self.n_bins - 1)
        index[(index < 0) | (index >= self.n_bins)] = -1
        return index

    def kept_index(self) -> np.ndarray:
        """Map from bin index to kept-bin index, shape (n_bins,); -1 for empty bins."""
        mapping = np.full(self.n_bins, -1, dtype=np.int64)
        mapping[self.kept] = np.arange(self.n_kept)
        return mapping
