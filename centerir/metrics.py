"""Regression metrics for one test fold, and their mean and spread over folds.

Besides MAE, RMSE, MSE and R², the imbalance-aware metrics of deep imbalanced regression
(Yang et al., "Delving into Deep Imbalanced Regression", ICML 2021): the balanced MAE
(mean of per-bin MAEs, so rare scores count as much as common ones) and the MAE over
many-, medium- and few-shot label regions, by how many *training* samples a test label's
bin has (> 100, 20-100, < 20 by default).

Severity is one score per person, so with subject ids every fold is also scored over
subjects (:func:`subject_metrics`): each subject's window predictions are averaged into one
prediction, and the bins and shot regions count training *subjects*. Metric names are
those of :mod:`centerir.contract`.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from centerir.bins import LabelBins
from centerir.contract import METRICS, SUBJECT_METRICS, std_key


def regression_metrics(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    train_labels: np.ndarray,
    metric_bins: int = 16,
    few_shot: int = 20,
    many_shot: int = 100,
) -> dict[str, float]:
    """Metrics of one test fold.

    Parameters
    ----------
    y_true, y_pred : ndarray, shape (N,)
        Test scores and predictions, in score units.
    train_labels : ndarray, shape (M,)
        The fold's training labels; they define the label bins and the shot regions.
    metric_bins : int
        Equal-width label bins over the training range; test labels outside it go to the
        nearest end bin.
    few_shot, many_shot : int
        A bin with fewer than ``few_shot`` training samples is few-shot, with more than
        ``many_shot`` many-shot, otherwise medium-shot.

    Returns
    -------
    dict
        ``centerir.contract.WINDOW_METRICS`` -> float. A region with no test sample is NaN,
        and so is R² on a test fold whose scores are all equal.
    """
    y_true = np.asarray(y_true, dtype=np.float64).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(
            f"y_true and y_pred must be non-empty and of one length, got {y_true.size} and "
            f"{y_pred.size}."
        )
    errors = np.abs(y_true - y_pred)
    bins = LabelBins.fit(train_labels, metric_bins)
    test_bin = bins.bin_index(y_true, clip=True)
    per_bin = [errors[test_bin == b].mean() for b in np.unique(test_bin)]
    shots = bins.counts[test_bin]
    regions = {
        "many_mae": shots > many_shot,
        "medium_mae": (shots >= few_shot) & (shots <= many_shot),
        "few_mae": shots < few_shot,
    }
    mse = mean_squared_error(y_true, y_pred)
    constant = np.all(y_true == y_true[0])
    return {
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "rmse": math.sqrt(mse),
        "mse": float(mse),
        "r2": math.nan if constant else float(r2_score(y_true, y_pred)),
        "balanced_mae": float(np.mean(per_bin)),
        **{
            name: float(errors[mask].mean()) if mask.any() else math.nan
            for name, mask in regions.items()
        },
    }


def subject_means(values: np.ndarray, subjects: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``values`` (N,) per subject: (subject ids (S,), sorted; means (S,) float64)."""
    ids, inverse = np.unique(subjects, return_inverse=True)
    sums = np.bincount(inverse, weights=np.asarray(values, dtype=np.float64), minlength=len(ids))
    return ids, sums / np.bincount(inverse, minlength=len(ids))


def subject_metrics(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    subjects: np.ndarray,
    train_labels: np.ndarray,
    train_subjects: np.ndarray,
    metric_bins: int = 16,
    few_shot: int = 3,
    many_shot: int = 10,
) -> dict[str, float]:
    """Metrics of one test fold over subjects rather than windows.

    Parameters
    ----------
    y_true, y_pred : ndarray, shape (N,)
        Test windows' scores and predictions.
    subjects : ndarray, shape (N,)
        Subject id of each test window; a subject's prediction is the mean of its windows'.
    train_labels, train_subjects : ndarray, shape (M,)
        The fold's training windows' scores and subject ids; each training subject counts
        once (at its mean score) in the bins and shot regions.
    metric_bins, few_shot, many_shot : int
        As in :func:`regression_metrics`, with the thresholds in training subjects.

    Returns
    -------
    dict
        ``centerir.contract.SUBJECT_METRICS`` -> float (NaN as in :func:`regression_metrics`).
    """
    _, true_means = subject_means(y_true, subjects)
    _, pred_means = subject_means(y_pred, subjects)
    _, train_means = subject_means(train_labels, train_subjects)
    metrics = regression_metrics(
        true_means, pred_means, train_means, metric_bins, few_shot, many_shot
    )
    return {name: metrics[name.removeprefix("subject_")] for name in SUBJECT_METRICS}


def summarize(per_fold: list[dict[str, float]]) -> dict[str, float]:
    """Mean and sample standard deviation over folds: ``{"mae": ..., "mae_std": ...}``.

    Every metric of ``centerir.contract.METRICS`` the folds hold is summarised (subject
    metrics only exist with subject ids). NaN folds (e.g. no few-shot test sample) are left
    out of that metric's mean; the std of fewer than two values is 0.
    """
    summary: dict[str, float] = {}
    present = [name for name in METRICS if per_fold and name in per_fold[0]]
    for name in present:
        values = np.array([fold[name] for fold in per_fold], dtype=np.float64)
        values = values[~np.isnan(values)]
        summary[name] = float(values.mean()) if values.size else math.nan
        summary[std_key(name)] = float(values.std(ddof=1)) if values.size > 1 else 0.0
    return summary


def bootstrap_mae_intervals(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    subjects: np.ndarray | None,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, list[float]]:
    """Percentile bootstrap intervals of the window MAE and, with subject ids, the subject
    MAE, resampling whole subjects (windows of one person are not independent).

    Parameters
    ----------
    y_true, y_pred : ndarray, shape (N,)
    subjects : ndarray, shape (N,), or None
        Subject of each window; None resamples windows.
    n_resamples : int
    seed : int
    level : float
        Coverage of the interval.

    Returns
    -------
    dict
        ``{"mae": [low, high]}`` and, with subjects, ``"subject_mae": [low, high]``.
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    errors = np.abs(y_true - np.asarray(y_pred, dtype=np.float64))
    units = np.arange(len(errors)) if subjects is None else subjects
    ids, inverse = np.unique(units, return_inverse=True)
    error_sum = np.bincount(inverse, weights=errors, minlength=len(ids))
    window_count = np.bincount(inverse, minlength=len(ids))
    # a unit's prediction error: |mean score - mean prediction| = |mean signed error|
    signed = np.bincount(inverse, weights=np.asarray(y_pred, dtype=np.float64) - y_true)
    unit_error = np.abs(signed / window_count)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(ids), size=(n_resamples, len(ids)))
    tails = [100 * (1 - level) / 2, 100 * (1 + level) / 2]
    window_mae = error_sum[draws].sum(axis=1) / window_count[draws].sum(axis=1)
    intervals = {"mae": [float(v) for v in np.percentile(window_mae, tails)]}
    if subjects is not None:
        subject_mae = unit_error[draws].mean(axis=1)
        intervals["subject_mae"] = [float(v) for v in np.percentile(subject_mae, tails)]
    return intervals
