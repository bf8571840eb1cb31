"""Splitters, tested by their properties."""

import numpy as np
import pytest

from centerir.splits import inner_split, outer_folds


def grouped_data(seed=0, subjects=40, per_subject=5):
    rng = np.random.default_rng(seed)
    scores = np.minimum(rng.geometric(0.25, subjects) - 1, 15).astype(float)
    groups = np.repeat(np.arange(subjects), per_subject)
    return scores[groups], groups


@pytest.mark.parametrize("grouped", [True, False])
@pytest.mark.parametrize("n_folds", [2, 5, 10])
def test_folds_cover_every_index_once_and_never_overlap(grouped, n_folds):
    y, groups = grouped_data()
    folds = outer_folds(y, groups if grouped else None, n_folds, seed=3)
    assert len(folds) == n_folds
    tests = np.concatenate([test for _, test in folds])
    np.testing.assert_array_equal(np.sort(tests), np.arange(len(y)))
    for train, test in folds:
        assert len(np.intersect1d(train, test)) == 0
        assert len(train) + len(test) == len(y)
        if grouped:
            assert not set(groups[train]) & set(groups[test])


def test_ungrouped_fold_sizes_differ_by_at_most_one():
    y = np.arange(103.0)
    sizes = [len(test) for _, test in outer_folds(y, None, 10, seed=0)]
    assert max(sizes) - min(sizes) <= 1


def test_same_seed_same_folds_other_seed_other_folds():
    y, groups = grouped_data()
    a = outer_folds(y, groups, 5, seed=1)
    b = outer_folds(y, groups, 5, seed=1)
    c = outer_folds(y, groups, 5, seed=2)
    assert all(np.array_equal(x[1], z[1]) for x, z in zip(a, b, strict=True))
    assert not all(np.array_equal(x[1], z[1]) for x, z in zip(a, c, strict=True))


def test_rare_high_scores_are_spread_over_folds():
    y, groups = grouped_data(seed=4, subjects=60)
    high = set(groups[y >= 8])
    assert len(high) >= 4
    folds = outer_folds(y, groups, 4, seed=0)
    holding = [len(high & set(groups[test])) for _, test in folds]
    assert min(holding) >= 1  # every test fold sees some of the rare high scores


@pytest.mark.parametrize("grouped", [True, False])
def test_inner_split_stays_inside_the_training_part(grouped):
    y, groups = grouped_data()
    g = groups if grouped else None
    for train, test in outer_folds(y, g, 5, seed=0):
        fit, val = inner_split(y, g, train, val_fraction=0.2, seed=0)
        assert len(val) > 0 and len(fit) > 0
        np.testing.assert_array_equal(np.sort(np.concatenate([fit, val])), np.sort(train))
        assert not set(val) & set(test)
        if grouped:
            assert not set(groups[fit]) & set(groups[val])
            assert not set(groups[val]) & set(groups[test])


def test_shuffled_kfold_lets_subjects_leak_and_group_folds_do_not():
    y, groups = grouped_data()
    leaked = sum(bool(set(groups[tr]) & set(groups[te])) for tr, te in outer_folds(y, None, 5, 0))
    clean = sum(bool(set(groups[tr]) & set(groups[te])) for tr, te in outer_folds(y, groups, 5, 0))
    assert leaked == 5 and clean == 0


def test_more_folds_than_members_of_any_score_class_falls_back_to_group_folds():
    # 12 subjects, all scores distinct: every stratification class is smaller than 5 folds
    y = np.repeat(np.arange(12.0), 2)
    groups = np.repeat(np.arange(12), 2)
    folds = outer_folds(y, groups, 5, seed=0)
    assert len(folds) == 5
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested.tolist()) == list(range(24))
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])
