"""The CenterIR regulariser: pull features of similar labels toward their group center.

For each k in the k set, consecutive kept label bins form groups of k bins. In a batch,
every group with at least two samples contributes the mean squared L2 distance of its
samples' features to the group's batch mean, multiplied by ``exp(w_g)`` where ``w_g`` is
larger for groups with fewer training samples. The term for one k is the mean over those
groups (0 when there is none); the loss is the sum over k.

Kim et al., "CenterIR: An Imbalance-Aware Deep Regression Framework for EEG-Based
Depression Severity Estimation in Older Adults", Expert Systems with Applications 323
(2026) 132358. Unlike the published code, every group keeps its own center and weight when
another group is absent from the batch, and a batch with no group of two is a zero loss,
not an error.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from centerir.bins import LabelBins
from centerir.config import check_k_set
from centerir.contract import REMAINDER_POLICIES


def divisors(n: int) -> list[int]:
    """Positive divisors of ``n`` in increasing order."""
    return [d for d in range(1, n + 1) if n % d == 0]


def group_weights(group_counts: np.ndarray) -> np.ndarray:
    """Imbalance weights ``w_g`` from training samples per group, shape (G,) -> (G,).

    ``w_g = (max s - s_g) / max_g (max s - s_g)``: 0 for the largest group, 1 for the
    smallest; all 0 when every group has the same count.
    """
    counts = np.asarray(group_counts, dtype=np.float64)
    gap = counts.max() - counts
    spread = gap.max()
    if spread == 0:
        return np.zeros_like(counts)
    return gap / spread


class CenterIRLoss(nn.Module):
    """CenterIR loss over label groups fitted on a fold's training labels.

    Build it with :meth:`from_labels`; call it as ``loss(features, labels)``.

    Parameters
    ----------
    bins : LabelBins
        Bins fitted on the training labels.
    k : sequence of int
        Group sizes in kept bins, e.g. ``(1, 3, 5, 15)``.
    remainder : {"group", "strict"}
        What to do when k does not divide the number of kept bins: ``"group"`` lets the
        leftover bins form one final, smaller group; ``"strict"`` raises ``ValueError``
        (the published behaviour).
    """

    def __init__(self, bins: LabelBins, k: Sequence[int] = (1, 3, 5, 15), remainder: str = "group"):
        super().__init__()
        if remainder not in REMAINDER_POLICIES:
            raise ValueError(
                f"remainder must be one of {REMAINDER_POLICIES}, got remainder={remainder!r}."
            )
        self.bins = bins
        self.k = check_k_set(k)
        self.remainder = remainder
        n_kept = bins.n_kept
        if remainder == "strict":
            bad = [value for value in self.k if n_kept % value]
            if bad:
                raise ValueError(
                    f"remainder='strict' needs every k to divide the {n_kept} kept bins, "
                    f"but k={bad} do not; k values that divide {n_kept}: {divisors(n_kept)} "
                    "(or use remainder='group')."
                )
        kept_counts = bins.kept_counts
        self.weights_per_k: list[np.ndarray] = []
        for index, value in enumerate(self.k):
            group_of_kept_bin = np.arange(n_kept) // value
            counts = np.bincount(group_of_kept_bin, weights=kept_counts)
            weights = group_weights(counts)
            self.weights_per_k.append(weights)
            self.register_buffer(f"exp_weight_{index}", torch.from_numpy(np.exp(weights)))
        # Label -> kept-bin lookup done on the features' device, in float64 so that labels
        # that sit exactly on an edge fall in the same bin as in numpy.histogram.
        self.register_buffer("edges", torch.from_numpy(bins.edges.astype(np.float64)))
        self.register_buffer("kept_of_bin", torch.from_numpy(bins.kept_index()))

    @classmethod
    def from_labels(
        cls,
        train_labels: np.ndarray,
        boundaries: int = 16,
        k: Sequence[int] = (1, 3, 5, 15),
        remainder: str = "group",
    ) -> CenterIRLoss:
        """Fit ``boundaries`` equal-width bins on training labels (N,) or (N, 1)."""
        return cls(LabelBins.fit(train_labels, boundaries), k=k, remainder=remainder)

    @property
    def n_kept(self) -> int:
        """Number of non-empty training bins the groups are made of."""
        return self.bins.n_kept

    def n_groups(self, k: int) -> int:
        """Number of groups for group size ``k`` (the last one may be smaller)."""
        return -(-self.n_kept // k)

    def kept_bin(self, labels: torch.Tensor) -> torch.Tensor:
        """Kept-bin index of each label, shape (B,), int64; -1 outside the kept bins."""
        edges = self.edges.to(labels.device)
        values = labels.reshape(-1).detach().to(edges.dtype)
        n_bins = self.bins.n_bins
        index = torch.bucketize(values, edges, right=True) - 1
        index = torch.where(values == edges[-1], n_bins - 1, index)
        inside = (index >= 0) & (index < n_bins)
        kept_of_bin = self.kept_of_bin.to(labels.device)
        return torch.where(inside, kept_of_bin[index.clamp(0, n_bins - 1)], -1)

    def forward(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """CenterIR loss of a batch.

        Parameters
        ----------
        features : Tensor, shape (B, D)
        labels : Tensor, shape (B,) or (B, 1)

        Returns
        -------
        Tensor, shape ()
            On the features' device and dtype.
        """
        if features.ndim != 2:
            raise ValueError(f"features must have shape (B, D), got {tuple(features.shape)}.")
        if labels.numel() != features.shape[0]:
            raise ValueError(
                f"labels must hold one value per feature row ({features.shape[0]}), "
                f"got shape {tuple(labels.shape)}."
            )
        kept = self.kept_bin(labels.to(features.device))
        membership = self.membership(kept).to(features.dtype)
        weights = torch.cat([getattr(self, f"exp_weight_{i}") for i in range(len(self.k))]).to(
            features.device, features.dtype
        )
        return _CenterIRFunction.apply(features, membership, weights, self.group_slices())

    def group_slices(self) -> tuple[tuple[int, int], ...]:
        """Column range of each k's groups in the stacked membership matrix."""
        slices, start = [], 0
        for value in self.k:
            stop = start + self.n_groups(value)
            slices.append((start, stop))
            start = stop
        return tuple(slices)

    def membership(self, kept: torch.Tensor) -> torch.Tensor:
        """One-hot group membership for every k, stacked: (B,) kept bins -> (B, G_total).

        Samples outside the kept bins (``kept == -1``) belong to no group.
        """
        inside = (kept >= 0).unsqueeze(1)
        blocks = [
            F.one_hot(kept.clamp(min=0) // value, self.n_groups(value)) * inside for value in self.k
        ]
        return torch.cat(blocks, dim=1)


class _CenterIRFunction(torch.autograd.Function):
    """CenterIR value and its closed-form gradient, one k block at a time.

    With ``E`` the (B, G) membership, ``c_g`` the batch mean of group g and
    ``SS_g = sum_{i in g} |x_i - c_g|^2``, the loss is ``sum_g coef_g * SS_g`` where
    ``coef_g = exp(w_g) / (n_g * P_k)`` for groups with ``n_g >= 2`` (``P_k`` such groups
    for the group's k) and 0 otherwise. Because deviations from a group mean sum to zero,
    ``d SS_g / d x_i = 2 (x_i - c_g)`` for members, so the backward pass is one matmul
    instead of autograd's many passes over the (B, D) features.
    """

    @staticmethod
    def forward(ctx, features, membership, weights, slices):
        # Deviations from group means do not change when every row is shifted by the same
        # vector; shifting by the batch mean keeps the group sums small, so float32 stays
        # accurate when features share a large offset.
        x = features - features.mean(dim=0, keepdim=True)
        counts = membership.sum(dim=0)  # (G,)
        centers = (membership.t() @ x) / counts.clamp(min=1).unsqueeze(1)  # (G, D)
        squares = torch.zeros_like(counts)
        coef = torch.zeros_like(counts)
        present = counts >= 2
        for start, stop in slices:
            block = membership[:, start:stop]  # (B, G_k)
            deviation = torch.addmm(x, block, centers[start:stop], alpha=-1)  # (B, D)
            squares[start:stop] = block.t() @ torch.linalg.vector_norm(deviation, dim=1).square()
            n_present = present[start:stop].sum().clamp(min=1).to(x.dtype)
            coef[start:stop] = torch.where(
                present[start:stop],
                weights[start:stop] / (counts[start:stop].clamp(min=1) * n_present),
                0,
            )
        ctx.save_for_backward(x, membership, centers, coef)
        return (coef * squares).sum()

    @staticmethod
    def backward(ctx, grad_output):
        x, membership, centers, coef = ctx.saved_tensors
        scale = 2 * grad_output
        per_sample = membership @ (scale * coef)  # (B,)
        grad = torch.addmm(
            x * per_sample.unsqueeze(1), membership * (scale * coef), centers, alpha=-1
        )
        return grad, None, None, None
