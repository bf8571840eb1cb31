"""Regression metrics for one test fold, and their mean and spread over folds.

Besides MAE, RMSE, MSE and R², the imbalance-aware metrics of deep imbalanced regression
(Yang et al., "Delving into Deep Imbalanced Regression", ICML 2021): the balanced MAE
(mean of per-bin MAEs, so rare scores count as much as common ones) and the MAE over
many-, medium- and few-shot label regions, by how many *training* samples a test label's
bin has (> 100, 20-100, < 20 by default).
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from centerir.bins import LabelBins

METRIC_NAMES = (
    "mae",
    "rmse",
    "mse",
    "r2",
    "balanced_mae",
    "many_mae",
    "medium_mae",
    "few_mae",
)


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
        ``METRIC_NAMES`` -> float. A region with no test sample is NaN, and so is R² on a
        test fold whose scores are all equal.
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


def summarize(per_fold: list[dict[str, float]]) -> dict[str, float]:
    """Mean and sample standard deviation over folds: ``{"mae": ..., "mae_std": ...}``.

    NaN folds (e.g. no few-shot test sample) are left out of that metric's mean; the std of
    fewer than two values is 0.
    """
    summary: dict[str, float] = {}
    for name in METRIC_NAMES:
        values = np.array([fold[name] for fold in per_fold], dtype=np.float64)
        values = values[~np.isnan(values)]
        summary[name] = float(values.mean()) if values.size else math.nan
        summary[f"{name}_std"] = float(values.std(ddof=1)) if values.size > 1 else 0.0
    return summary
