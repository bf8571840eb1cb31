"""The synthetic demo data: shapes, determinism, skew, and the planted EEG effects."""

import time

import numpy as np
import pytest
from scipy.signal import welch
from sklearn.model_selection import GroupKFold, KFold, cross_val_predict
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from centerir.demo import CHANNEL_NAMES_10_20, SFREQ, make_demo_dataset


@pytest.fixture(scope="module")
def demo():
    return make_demo_dataset()


@pytest.fixture(scope="module")
def spectra(demo):
    """Welch power spectra of every window and channel, 1 Hz resolution."""
    return welch(demo.x[:, 0], fs=SFREQ, nperseg=int(SFREQ), axis=-1)


def band_power(spectra, names, band):
    """Mean power (N,) over ``names`` channels and the ``band`` frequencies (Hz)."""
    freqs, power = spectra
    mask = (freqs >= band[0]) & (freqs <= band[1])
    index = [CHANNEL_NAMES_10_20.index(name) for name in names]
    return power[:, index][:, :, mask].mean(axis=(1, 2))


def test_channel_names_and_rate():
    assert len(CHANNEL_NAMES_10_20) == len(set(CHANNEL_NAMES_10_20)) == 19
    assert CHANNEL_NAMES_10_20[:3] == ("Fp1", "Fp2", "F7") and CHANNEL_NAMES_10_20[-1] == "O2"
    assert SFREQ == 250.0


def test_shapes_and_types(demo):
    assert demo.x.shape == (480, 1, 19, 500) and demo.x.dtype == np.float32
    assert demo.x.flags["C_CONTIGUOUS"] and not isinstance(demo.x, np.memmap)
    assert demo.y.shape == (480,) and demo.y.dtype == np.float64
    assert demo.groups.shape == (480,) and demo.groups.dtype == np.int64
    assert demo.source == "demo data (seed 0)" and demo.has_groups
    assert np.isfinite(demo.x).all()
    assert 5 < demo.x.std() < 50  # microvolts, tens of µV like scalp EEG


def test_segments_per_subject_share_the_subjects_score(demo):
    assert np.all(np.bincount(demo.groups) == 8)
    for subject in np.unique(demo.groups):
        assert len(np.unique(demo.y[demo.groups == subject])) == 1


def test_other_sizes():
    data = make_demo_dataset(
        seed=2, n_subjects=5, segments_per_subject=3, n_channels=4, sfreq=128.0, window_seconds=1.5
    )
    assert data.x.shape == (15, 1, 4, 192)
    np.testing.assert_array_equal(data.groups, np.repeat(np.arange(5), 3))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_subjects": 0}, r"n_subjects must be >= 1, got 0\."),
        ({"segments_per_subject": 0}, r"segments_per_subject must be >= 1, got 0\."),
        ({"n_channels": 20}, r"n_channels must be between 1 and 19 .*got 20\."),
        ({"sfreq": 0.0}, r"sfreq must be > 0 Hz, got 0\.0\."),
        ({"window_seconds": 0.001}, r"must give at least 2 samples"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_demo_dataset(**kwargs)


def test_deterministic_for_a_seed_and_different_across_seeds():
    a, b, c = (make_demo_dataset(seed, n_subjects=20) for seed in (3, 3, 4))
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_array_equal(a.groups, b.groups)
    assert not np.array_equal(a.x, c.x) and not np.array_equal(a.y, c.y)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_scores_are_right_skewed_like_the_gds(seed):
    scores = make_demo_dataset(seed, segments_per_subject=1, window_seconds=0.1).y
    assert np.all(scores == np.round(scores)) and scores.min() >= 0 and scores.max() <= 15
    assert np.median(scores) <= 4 and np.mean(scores <= 4) > 0.6
    assert np.sum(scores >= 10) >= 2
    assert np.mean(scores) > np.median(scores)


def test_alpha_falls_and_theta_rises_with_severity(demo, spectra):
    alpha = band_power(spectra, ("O1", "O2", "Pz"), (8, 12))
    theta = band_power(spectra, ("Fz", "Cz"), (4, 7))
    assert np.corrcoef(demo.y, np.log(alpha))[0, 1] < -0.3
    assert np.corrcoef(demo.y, np.log(theta))[0, 1] > 0.3


def test_frontal_alpha_asymmetry_grows_with_severity(demo, spectra):
    left = band_power(spectra, ("F3", "F7"), (8, 12))
    right = band_power(spectra, ("F4", "F8"), (8, 12))
    asymmetry = np.log(left) - np.log(right)
    assert np.corrcoef(demo.y, asymmetry)[0, 1] > 0.1


def test_rhythms_have_their_topography(spectra):
    alpha_back = band_power(spectra, ("O1", "O2"), (8, 12))
    alpha_front = band_power(spectra, ("Fz",), (8, 12))
    theta_front = band_power(spectra, ("Fz",), (4, 7))
    theta_back = band_power(spectra, ("O1", "O2"), (4, 7))
    assert np.median(alpha_back / alpha_front) > 2
    assert np.median(theta_front / theta_back) > 1.5


def test_subject_leakage_inflates_scores(demo, spectra):
    """A nearest-neighbour model scores far better when subjects straddle the folds."""
    freqs, power = spectra
    bands = [(1, 4), (4, 7), (8, 12), (13, 30)]
    features = np.concatenate(
        [np.log(power[:, :, (freqs >= lo) & (freqs <= hi)].mean(axis=-1)) for lo, hi in bands],
        axis=1,
    )
    model = make_pipeline(StandardScaler(), KNeighborsRegressor(n_neighbors=1))
    leaky = cross_val_predict(model, features, demo.y, cv=KFold(5, shuffle=True, random_state=0))
    grouped = cross_val_predict(model, features, demo.y, cv=GroupKFold(5), groups=demo.groups)
    leaky_mae = np.mean(np.abs(leaky - demo.y))
    grouped_mae = np.mean(np.abs(grouped - demo.y))
    assert leaky_mae < 0.7 * grouped_mae


def test_builds_fast():
    make_demo_dataset(seed=5, n_subjects=2)  # imports and caches warmed up
    start = time.perf_counter()
    make_demo_dataset()
    assert time.perf_counter() - start < 2.0
