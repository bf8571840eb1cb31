"""Model-free baselines: the mean predictor's fold metrics equal a direct computation."""

import numpy as np
import pytest
from sklearn.model_selection import StratifiedGroupKFold

from centerir.baselines import constant_predictor_cv
from centerir.config import Config
from centerir.contract import Role
from centerir.splits import outer_folds, stratify_classes


def test_mean_predictor_row_equals_a_direct_computation(small_demo):
    config = Config(folds=3, seed=5)
    result = constant_predictor_cv(config, small_demo, Role.MEAN_PREDICTOR)
    y, groups = small_demo.y, small_demo.groups
    splitter = StratifiedGroupKFold(3, shuffle=True, random_state=5)
    folds = list(splitter.split(np.zeros((len(y), 1)), stratify_classes(y), groups))
    assert [len(t) for _, t in folds] == [len(t) for _, t in outer_folds(y, groups, 3, 5)]
    for fold, (train, test) in zip(result.folds, folds, strict=True):
        guess = y[train].mean()
        assert fold.test_index == test.tolist()
        assert fold.metrics["mae"] == pytest.approx(np.abs(y[test] - guess).mean())
        per_subject = [y[test][groups[test] == s].mean() for s in np.unique(groups[test])]
        assert fold.metrics["subject_mae"] == pytest.approx(
            np.mean(np.abs(np.subtract(per_subject, guess)))
        )
    report = result.report()
    assert report["mae"] == pytest.approx(np.mean(report["mae_folds"]))
    assert report["folds_done"] == 3 and report["status"] == "complete"


def test_median_predictor_predicts_the_training_median(small_demo):
    result = constant_predictor_cv(Config(folds=2), small_demo, Role.MEDIAN_PREDICTOR)
    for fold, (train, _) in zip(
        result.folds, outer_folds(small_demo.y, small_demo.groups, 2, 42), strict=True
    ):
        assert set(fold.predictions) == {float(np.median(small_demo.y[train]))}
