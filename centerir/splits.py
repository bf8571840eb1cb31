"""Outer k-fold splits and the inner validation split, subject-disjoint when groups exist.

With subject ids, scikit-learn's ``StratifiedGroupKFold`` on binned scores keeps every
subject on one side and spreads the rare high scores over the folds; ``GroupKFold`` is the
fallback when stratification leaves a fold empty. Without subject ids, shuffled ``KFold``:
segments of one person may then land on both sides, which inflates every score, so
:data:`UNGROUPED_WARNING` is attached to every output.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold

from centerir.bins import LabelBins

UNGROUPED_WARNING = (
    "no subject ids (groups) given: segments of one person may be split across train and "
    "test folds, which makes every score optimistic"
)
STRATIFY_BINS = 8  # score bins used only to balance the folds, never to train


def stratify_classes(y: np.ndarray) -> np.ndarray:
    """Coarse score classes (N,) for stratification."""
    return LabelBins.fit(y, STRATIFY_BINS).bin_index(y, clip=True)


def outer_folds(
    y: np.ndarray, groups: np.ndarray | None, n_folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """K (train indices, test indices) pairs that together test every sample once.

    Parameters
    ----------
    y : ndarray, shape (N,)
        Scores.
    groups : ndarray, shape (N,), or None
        Subject id per sample; a subject's samples are never on both sides.
    n_folds : int
    seed : int
        Shuffling seed: the same seed gives the same folds.
    """
    n = len(y)
    dummy = np.zeros((n, 1))
    if groups is None:
        splitter = KFold(n_folds, shuffle=True, random_state=seed)
        return [(train, test) for train, test in splitter.split(dummy)]
    with warnings.catch_warnings():
        # Rare scores have fewer subjects than folds; stratification is best-effort there.
        warnings.filterwarnings("ignore", message="The least populated class")
        splitter = StratifiedGroupKFold(n_folds, shuffle=True, random_state=seed)
        try:
            folds = list(splitter.split(dummy, stratify_classes(y), groups))
        except ValueError:  # every score class has fewer windows than folds
            folds = []
    if folds and all(len(test) for _, test in folds):
        return folds
    splitter = GroupKFold(n_folds, shuffle=True, random_state=seed)
    return list(splitter.split(dummy, y, groups))


def inner_split(
    y: np.ndarray,
    groups: np.ndarray | None,
    train_index: np.ndarray,
    val_fraction: float,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Split a fold's training indices into (fit, validation) indices.

    The validation part, about ``val_fraction`` of the training part, picks the best epoch
    and drives early stopping; it never contains a test-fold sample, and with groups it
    shares no subject with the fit part.
    """
    n_parts = min(max(2, round(1 / val_fraction)), len(train_index))
    if groups is not None:
        n_parts = min(n_parts, len(np.unique(groups[train_index])))
    if n_parts < 2:
        raise ValueError(
            "the training part must hold at least two windows (two subjects with groups) "
            f"for an inner validation split, got {len(train_index)} windows; use fewer folds."
        )
    sub_groups = None if groups is None else groups[train_index]
    fit, val = outer_folds(y[train_index], sub_groups, n_parts, seed)[0]
    return train_index[fit], train_index[val]
