"""Cross-validation protocol: no leakage, determinism, divergence, resumption, formats."""

import numpy as np
import pytest

import centerir.cv as cv_module
import centerir.training as training_module
from centerir.config import Config, ConfigError
from centerir.cv import Callback, cross_validate
from centerir.data import EEGDataset, load_dataset

FAST = {"folds": 3, "epochs": 2, "lr": 1e-3, "patience": 0}


def fast(**changes):
    return Config.from_dict({**FAST, **changes})


def test_every_window_predicted_once_and_subjects_never_split(small_demo):
    result = cross_validate(fast(), small_demo)
    assert result.status == "complete" and len(result.folds) == 3
    tested = np.concatenate([fold.test_index for fold in result.folds])
    np.testing.assert_array_equal(np.sort(tested), np.arange(small_demo.n_samples))
    for fold in result.folds:
        assert len(fold.predictions) == len(fold.test_index)
        assert np.isfinite(fold.predictions).all()
    subject_fold = {}
    for fold in result.folds:
        for index in fold.test_index:
            subject_fold.setdefault(small_demo.groups[index], set()).add(fold.fold)
    assert all(len(folds) == 1 for folds in subject_fold.values())
    assert result.warnings == []


def test_nothing_fitted_or_selected_on_the_test_fold(small_demo, monkeypatch):
    seen = []
    real_fit_model = training_module.fit_model

    def spy(config, dataset, fit_index, val_index, *args, **kwargs):
        seen.append((fit_index.copy(), val_index.copy()))
        return real_fit_model(config, dataset, fit_index, val_index, *args, **kwargs)

    fitted_stats, fitted_bins = [], []
    real_stats = training_module.ChannelStandardizer.fit.__func__
    real_bins = training_module.CenterIRLoss.from_labels.__func__
    monkeypatch.setattr(cv_module, "fit_model", spy)
    monkeypatch.setattr(
        training_module.ChannelStandardizer,
        "fit",
        classmethod(
            lambda cls, ds, idx: fitted_stats.append(idx.copy()) or real_stats(cls, ds, idx)
        ),
    )
    monkeypatch.setattr(
        training_module.CenterIRLoss,
        "from_labels",
        classmethod(
            lambda cls, labels, *a: fitted_bins.append(labels.copy()) or real_bins(cls, labels, *a)
        ),
    )
    result = cross_validate(fast(), small_demo)
    groups = small_demo.groups
    # the first three fits are the up-front k-set check on the labels each fold's bins are
    # then fitted on
    checked, trained = fitted_bins[:3], fitted_bins[3:]
    for labels, (fit, _) in zip(checked, seen, strict=True):
        np.testing.assert_array_equal(labels, small_demo.y[fit])
    for fold, (fit, val), stats_index, bin_labels in zip(
        result.folds, seen, fitted_stats, trained, strict=True
    ):
        test = np.array(fold.test_index)
        assert not set(fit) & set(test) and not set(val) & set(test)
        assert not set(groups[fit]) & set(groups[val])
        assert not set(groups[val]) & set(groups[test])
        np.testing.assert_array_equal(stats_index, fit)
        np.testing.assert_array_equal(bin_labels, small_demo.y[fit])


def test_same_config_same_metrics_on_cpu(small_demo):
    first = cross_validate(fast(), small_demo)
    second = cross_validate(fast(), small_demo)
    assert [f.metrics for f in first.folds] == [f.metrics for f in second.folds]
    assert [f.predictions for f in first.folds] == [f.predictions for f in second.folds]


def test_resuming_from_a_fold_gives_the_uninterrupted_result(small_demo):
    full = cross_validate(fast(), small_demo)
    resumed = cross_validate(fast(), small_demo, start_fold=2, finished=full.folds[:2])
    assert [f.metrics for f in resumed.folds] == [f.metrics for f in full.folds]
    assert resumed.summary["mae"] == full.summary["mae"]


def test_divergence_stops_the_config_without_raising(small_demo):
    result = cross_validate(fast(lr=1e12, epochs=3), small_demo)
    assert result.status == "diverged"
    assert "loss became" in result.message and "lower learning rate" in result.message


def test_callbacks_after_every_epoch_and_fold(small_demo):
    class Recorder(Callback):
        def __init__(self):
            self.epochs, self.folds = [], []

        def on_epoch_end(self, fold, epoch, logs):
            self.epochs.append((fold, epoch, set(logs)))

        def on_fold_end(self, fold, result):
            self.folds.append((fold.fold, len(result.folds)))

    recorder = Recorder()
    cross_validate(fast(), small_demo, callbacks=[recorder])
    assert [(f, e) for f, e, _ in recorder.epochs] == [(f, e) for f in range(3) for e in (1, 2)]
    assert {"train_loss", "val_mae"} <= recorder.epochs[0][2]
    assert recorder.folds == [(0, 1), (1, 2), (2, 3)]


def test_optimistic_selection_is_labelled(small_demo):
    result = cross_validate(fast(selection="test"), small_demo)
    assert any("optimistic" in warning for warning in result.warnings)


def test_ungrouped_data_warns_about_subject_leakage(small_demo):
    ungrouped = EEGDataset(x=small_demo.x, y=small_demo.y, groups=None, source="no groups")
    result = cross_validate(fast(), ungrouped)
    assert any("split across train and test" in warning for warning in result.warnings)


def test_strict_remainder_that_cannot_work_fails_before_training(small_demo):
    with pytest.raises(ConfigError, match=r"fold 1: remainder='strict' needs every k to divide"):
        cross_validate(fast(remainder="strict", k=(1, 7), boundaries=16), small_demo)


def test_published_format_float64_with_column_targets(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 1, 19, 2500))  # float64, as published
    y = rng.integers(0, 16, size=(12, 1)).astype(np.float64)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    dataset = load_dataset(tmp_path / "x.npy", tmp_path / "y.npy")
    result = cross_validate(fast(folds=2, epochs=1, batch_size=4), dataset)
    assert result.status == "complete" and len(result.folds) == 2


def test_short_cv_on_demo_data_beats_predicting_the_training_mean():
    from centerir.demo import make_demo_dataset

    dataset = make_demo_dataset(seed=0)
    result = cross_validate(Config(folds=3, epochs=10, lr=1e-3), dataset)
    baseline = []
    for fold in result.folds:
        test = np.array(fold.test_index)
        train = np.setdiff1d(np.arange(dataset.n_samples), test)
        baseline.append(np.abs(dataset.y[test] - dataset.y[train].mean()).mean())
    assert result.summary["mae"] < 0.9 * np.mean(baseline)
