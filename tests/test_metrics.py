"""Fold metrics: hand-checked values and the shot regions."""

import math

import numpy as np
import pytest

from centerir.contract import WINDOW_METRICS
from centerir.metrics import (
    bootstrap_mae_intervals,
    regression_metrics,
    subject_metrics,
    summarize,
)


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
    folds = [dict.fromkeys(WINDOW_METRICS, 1.0), dict.fromkeys(WINDOW_METRICS, 3.0)]
    folds[1]["few_mae"] = math.nan
    s = summarize(folds)
    assert s["mae"] == 2.0 and s["mae_std"] == pytest.approx(math.sqrt(2))
    assert s["few_mae"] == 1.0 and s["few_mae_std"] == 0.0
    assert "subject_mae" not in s  # no subject ids, no subject metrics


def test_subject_metrics_average_each_subjects_windows_first():
    # test: subject a (score 2) has 3 windows, subject b (score 6) one
    y_true = np.array([2.0, 2.0, 2.0, 6.0])
    y_pred = np.array([1.0, 2.0, 6.0, 5.0])  # a's mean prediction 3, b's 5
    subjects = np.array(["a", "a", "a", "b"])
    # training: subjects at scores 0, 0, 2, 6, 6, 6 (windows repeated: counted once each)
    train_y = np.repeat([0.0, 0.0, 2.0, 6.0, 6.0, 6.0], [5, 1, 2, 3, 1, 4])
    train_s = np.repeat(["p", "q", "r", "s", "t", "u"], [5, 1, 2, 3, 1, 4])
    m = subject_metrics(y_true, y_pred, subjects, train_y, train_s, 3, few_shot=2, many_shot=2)
    assert m["subject_mae"] == pytest.approx((1 + 1) / 2)  # |3-2|, |5-6|
    assert m["subject_rmse"] == pytest.approx(1.0)
    assert m["subject_r2"] == pytest.approx(1 - 2 / 8)  # SS_res 2, SS_tot (2-4)^2+(6-4)^2
    assert m["subject_balanced_mae"] == pytest.approx(1.0)  # bins [0,2), [2,4), [4,6]
    # training subjects per bin: 2 (scores 0), 1 (score 2), 3 (scores 6)
    assert m["subject_few_mae"] == pytest.approx(1.0)  # a's bin: 1 subject < 2
    assert m["subject_many_mae"] == pytest.approx(1.0)  # b's bin: 3 subjects > 2
    assert math.isnan(m["subject_medium_mae"])
    # the window MAE weighs a three times: (1 + 0 + 4 + 1) / 4
    assert regression_metrics(y_true, y_pred, train_y, 3)["mae"] == pytest.approx(1.5)


def test_bootstrap_intervals_resample_subjects_and_bracket_the_estimate():
    rng = np.random.default_rng(0)
    subjects = np.repeat(np.arange(30), 5)
    y_true = rng.normal(size=150)
    y_pred = y_true + rng.normal(size=150)
    intervals = bootstrap_mae_intervals(y_true, y_pred, subjects, seed=1)
    mae = np.abs(y_true - y_pred).mean()
    low, high = intervals["mae"]
    assert low < mae < high and high - low < 1
    assert set(intervals) == {"mae", "subject_mae"}
    assert bootstrap_mae_intervals(y_true, y_pred, subjects, seed=1) == intervals  # seeded
    # identical errors for every subject: a zero-width interval
    same = bootstrap_mae_intervals(np.zeros(6), np.ones(6), np.repeat([1, 2, 3], 2))
    assert same["mae"] == [1.0, 1.0] and same["subject_mae"] == [1.0, 1.0]
