"""Subjects the search never sees: a seeded, score-stratified, subject-disjoint hold-out.

The best of many configurations, picked on the same folds its CV score comes from, is
scored optimistically (the winner's curse). Holding some subjects out of the whole search
and scoring the chosen configuration on them once gives an unbiased estimate.
"""

from __future__ import annotations

import numpy as np

from centerir.contract import UserError
from centerir.metrics import subject_means

DEFAULT_HOLDOUT = 0.2  # share of subjects held out when the data allow it
MIN_TUNING_SUBJECTS = 20  # the default hold-out applies only when this many remain to tune
MIN_HOLDOUT_SUBJECTS = 2  # fewer cannot give a subject-level spread or bootstrap


def default_holdout(groups: np.ndarray | None) -> tuple[float, str]:
    """The hold-out share to use when the user gave none, and a line saying why.

    ``DEFAULT_HOLDOUT`` with subject ids and at least ``MIN_TUNING_SUBJECTS`` subjects left
    to tune; otherwise 0.
    """
    if groups is None:
        return 0.0, "no subject ids (--groups): no subjects can be held out"
    n = len(np.unique(groups))
    held = n_held_out(n, DEFAULT_HOLDOUT)
    if n - held < MIN_TUNING_SUBJECTS:
        return 0.0, (
            f"only {n} subjects: holding out {DEFAULT_HOLDOUT:.0%} would leave {n - held} to "
            f"tune (fewer than {MIN_TUNING_SUBJECTS}), so none is held out"
        )
    return DEFAULT_HOLDOUT, f"{held} of {n} subjects held out (default {DEFAULT_HOLDOUT:g})"


def n_held_out(n_subjects: int, fraction: float) -> int:
    """Subjects held out for a share ``fraction`` of ``n_subjects`` (rounded)."""
    return int(round(fraction * n_subjects))


def holdout_split(
    y: np.ndarray, groups: np.ndarray | None, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(tuning window indices, held-out window indices), both sorted; no subject in both.

    Subjects are ordered by their mean score (ties in a seeded random order) and cut into
    as many consecutive blocks as subjects to hold out; one subject is drawn from each block,
    so the held-out subjects span the score range, rare high scores included.

    Parameters
    ----------
    y : ndarray, shape (N,)
        Scores of every window.
    groups : ndarray, shape (N,), or None
        Subject ids; required when ``fraction`` > 0.
    fraction : float
        Share of subjects to hold out, in [0, 0.5]; 0 holds out nothing.
    seed : int
        The same seed gives the same split.

    Raises
    ------
    UserError
        A hold-out without subject ids, or one of fewer than ``MIN_HOLDOUT_SUBJECTS``.
    """
    everything = np.arange(len(y))
    if fraction == 0:
        return everything, everything[:0]
    if groups is None:
        raise UserError(
            f"holdout must be 0 without subject ids, got holdout={fraction:g}; pass --groups "
            "(windows of one person must never be on both sides) or --holdout 0."
        )
    subjects, scores = subject_means(y, groups)
    held = n_held_out(len(subjects), fraction)
    if held < MIN_HOLDOUT_SUBJECTS:
        raise UserError(
            f"holdout={fraction:g} of {len(subjects)} subjects holds out {held}, expected at "
            f"least {MIN_HOLDOUT_SUBJECTS}; use a larger --holdout or --holdout 0."
        )
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.permutation(len(subjects)), scores))  # by score, random ties
    chosen = [block[rng.integers(len(block))] for block in np.array_split(order, held)]
    is_held = np.isin(groups, subjects[chosen])
    return everything[~is_held], everything[is_held]
