"""The hold-out split: subject-disjoint, seeded, spanning the scores; the default rule."""

import numpy as np
import pytest

from centerir.contract import UserError
from centerir.demo import make_demo_dataset
from centerir.holdout import default_holdout, holdout_split


@pytest.fixture(scope="module")
def demo():
    return make_demo_dataset(seed=3, n_subjects=40, segments_per_subject=3, window_seconds=0.5)


@pytest.mark.parametrize("fraction", [0.1, 0.2, 0.35, 0.5])
def test_split_is_subject_disjoint_complete_and_of_the_asked_size(demo, fraction):
    tuning, held = holdout_split(demo.y, demo.groups, fraction, seed=1)
    assert sorted(np.concatenate([tuning, held]).tolist()) == list(range(len(demo.y)))
    assert not set(demo.groups[tuning]) & set(demo.groups[held])
    assert len(np.unique(demo.groups[held])) == round(fraction * 40)


def test_split_is_seeded_and_spans_the_score_range(demo):
    a = holdout_split(demo.y, demo.groups, 0.2, seed=1)
    assert all(
        np.array_equal(x, y)
        for x, y in zip(a, holdout_split(demo.y, demo.groups, 0.2, 1), strict=True)
    )
    assert not np.array_equal(a[1], holdout_split(demo.y, demo.groups, 0.2, seed=2)[1])
    held_scores = np.unique(demo.y[a[1]])
    assert held_scores.min() <= np.quantile(demo.y, 0.2) and held_scores.max() >= np.quantile(
        demo.y, 0.8
    )


def test_nothing_held_out_at_zero_and_refusals(demo):
    tuning, held = holdout_split(demo.y, None, 0.0, seed=0)
    assert len(held) == 0 and len(tuning) == len(demo.y)
    with pytest.raises(UserError, match="holdout must be 0 without subject ids"):
        holdout_split(demo.y, None, 0.2, seed=0)
    with pytest.raises(UserError, match="holds out 1, expected at least 2"):
        holdout_split(demo.y, demo.groups, 0.03, seed=0)


def test_default_holds_out_a_fifth_only_when_20_subjects_remain():
    assert default_holdout(np.repeat(np.arange(25), 2))[0] == 0.2  # 20 left
    fraction, reason = default_holdout(np.repeat(np.arange(24), 2))
    assert fraction == 0.0 and "only 24 subjects" in reason
    assert default_holdout(None)[0] == 0.0


def test_a_refit_is_scored_once_and_the_held_out_subjects_never_pick_its_epoch(small_demo):
    from dataclasses import replace

    import torch

    from centerir.config import Config
    from centerir.contract import Role
    from centerir.refit import refit_and_score

    tuning, held = holdout_split(small_demo.y, small_demo.groups, 0.25, seed=0)
    config = Config(folds=3, epochs=2, boundaries=8, k=(1, 2))
    cpu = torch.device("cpu")
    score = refit_and_score(config, small_demo, tuning, held, Role.SEARCH, cpu, "t1")
    assert score.status == "complete" and score.trial_id == "t1" and score.selected_epoch >= 1
    assert set(score.intervals) == {"mae", "subject_mae"}
    low, high = score.intervals["mae"]
    assert low <= score.metrics["mae"] <= high
    assert score.held_out_mean == pytest.approx(small_demo.y[held].mean())
    peeking = replace(config, selection="test")  # would pick the epoch on the held-out part
    assert refit_and_score(peeking, small_demo, tuning, held, Role.SEARCH, cpu).metrics == (
        score.metrics
    )
    mean = refit_and_score(config, small_demo, tuning, held, Role.MEAN_PREDICTOR, cpu)
    guess = small_demo.y[tuning].mean()
    assert mean.config == {} and mean.mean_prediction == pytest.approx(guess)
    assert mean.metrics["mae"] == pytest.approx(np.abs(small_demo.y[held] - guess).mean())
