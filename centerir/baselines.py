"""Model-free baselines on the same folds: predict the training side's mean (or median).

A configuration that cannot beat the training mean has learnt nothing about severity from
the EEG. These baselines cost nothing to compute and use the trials' exact folds, so their
per-fold scores pair with every trial's.
"""

from __future__ import annotations

import numpy as np

from centerir.config import Config
from centerir.contract import Role, Status
from centerir.cv import CVResult, FoldResult, fold_metrics
from centerir.data import EEGDataset
from centerir.splits import outer_folds

STATISTICS = {Role.MEAN_PREDICTOR: np.mean, Role.MEDIAN_PREDICTOR: np.median}


def constant_predictions(role: Role, train_labels: np.ndarray, n: int) -> np.ndarray:
    """``n`` copies (float64) of the training labels' mean or median (by ``role``)."""
    return np.full(n, float(STATISTICS[role](train_labels)))


def constant_predictor_cv(config: Config, dataset: EEGDataset, role: Role) -> CVResult:
    """The config's outer folds, each test window predicted by the training side's mean or
    median score; metrics exactly as a trial's (``centerir.cv.fold_metrics``)."""
    result = CVResult({}, [], config.folds)
    for number, (train, test) in enumerate(
        outer_folds(dataset.y, dataset.groups, config.folds, config.seed)
    ):
        predictions = constant_predictions(role, dataset.y[train], len(test))
        result.folds.append(
            FoldResult(
                fold=number,
                metrics=fold_metrics(config, dataset, train, test, predictions),
                selected_epoch=0,
                epochs_run=0,
                seconds=0.0,
                device="",
                test_index=test.tolist(),
                predictions=predictions.tolist(),
            )
        )
    result.status = Status.COMPLETE
    return result
