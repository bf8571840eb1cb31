"""The synthetic demo data: shapes, determinism, skew, and the planted EEG effects."""

import time

import numpy as np
from scipy.signal import welch

from centerir.demo import CHANNEL_NAMES_10_20, SFREQ, make_demo_dataset


def band_power(x, names, band):
    freqs, power = welch(x[:, 0], fs=SFREQ, nperseg=250, axis=-1)
    mask = (freqs >= band[0]) & (freqs <= band[1])
    index = [CHANNEL_NAMES_10_20.index(n) for n in names]
    return power[:, index][:, :, mask].mean(axis=(1, 2))


def test_shapes_and_types():
    data = make_demo_dataset()
    assert data.x.shape == (480, 1, 19, 500) and data.x.dtype == np.float32
    assert data.y.shape == (480,) and data.groups.shape == (480,)
    assert np.all(np.bincount(data.groups) == 8)
    assert np.all(data.y == data.y.astype(int)) and data.y.min() >= 0 and data.y.max() <= 15
    assert 5 < data.x.std() < 50  # microvolts


def test_deterministic_for_a_seed():
    a, b, c = make_demo_dataset(3), make_demo_dataset(3), make_demo_dataset(4)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.x, c.x)


def test_scores_are_right_skewed_like_the_gds():
    scores = make_demo_dataset().y[::8]  # one per subject
    assert np.median(scores) <= 4
    assert np.mean(scores <= 4) > 0.6
    assert np.sum(scores >= 10) >= 2
    assert np.mean(scores) > np.median(scores)


def test_alpha_falls_theta_rises_and_frontal_asymmetry_grows_with_severity():
    data = make_demo_dataset()
    alpha = band_power(data.x, ("O1", "O2", "Pz"), (8, 12))
    theta = band_power(data.x, ("Fz", "Cz"), (4, 7))
    left = band_power(data.x, ("F3", "F7"), (8, 12))
    right = band_power(data.x, ("F4", "F8"), (8, 12))
    asymmetry = np.log(left) - np.log(right)
    assert np.corrcoef(data.y, np.log(alpha))[0, 1] < -0.3
    assert np.corrcoef(data.y, np.log(theta))[0, 1] > 0.3
    assert np.corrcoef(data.y, asymmetry)[0, 1] > 0.1


def test_builds_fast():
    start = time.perf_counter()
    make_demo_dataset()
    assert time.perf_counter() - start < 5.0
