"""Fold metrics: hand-checked values and the shot regions."""

import math

import numpy as np
import pytest

from centerir.metrics import METRIC_NAMES, regression_metrics, summarize


def test_values_by_hand():
    train = np.array([0.0] * 150 + [1.0] * 50 + [2.0] * 5)  # bins: many, medium, few
    y_true = np.array([0.0, 0.0, 1.0, 2.0])
    y_pred = np.array([1.0, 0.0, 3.0, 2.5])
    m = regression_metrics(y_true, y_pred, train, metric_bins=3)
    assert m["mae"] == pytest.approx((1 + 0 + 2 + 0.5) / 4)
    assert m["mse"] == pytest.approx((1 + 0 + 4 + 0.25) / 4)
    assert m["rmse"] == pytest.approx(math.sqrt(m["mse"]))
    assert m["balanced_mae"] == pytest.approx((0.5 + 2 + 0.5) / 3)
    assert m["many_mae"] == pytest.approx(0.5)
    assert m["medium_mae"] == pytest.approx(2.0)
    assert m["few_mae"] == pytest.approx(0.5)
    assert m["r2"] == pytest.approx(1 - 5.25 / np.sum((y_true - y_true.mean()) ** 2))


def test_empty_region_and_constant_fold_are_nan():
    m = regression_metrics(np.array([3.0, 3.0]), np.array([2.0, 4.0]), np.arange(10.0), 10)
    assert math.isnan(m["many_mae"]) and math.isnan(m["r2"])
    assert m["few_mae"] == pytest.approx(1.0)


def test_labels_outside_training_range_go_to_the_end_bins():
    m = regression_metrics(np.array([20.0]), np.array([18.0]), np.arange(16.0), 16)
    assert m["balanced_mae"] == pytest.approx(2.0) and m["few_mae"] == pytest.approx(2.0)


def test_summarize_mean_std_ignoring_nan():
    folds = [dict.fromkeys(METRIC_NAMES, 1.0), dict.fromkeys(METRIC_NAMES, 3.0)]
    folds[1]["few_mae"] = math.nan
    s = summarize(folds)
    assert s["mae"] == 2.0 and s["mae_std"] == pytest.approx(math.sqrt(2))
    assert s["few_mae"] == 1.0 and s["few_mae_std"] == 0.0
