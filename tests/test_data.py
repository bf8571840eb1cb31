"""Data loading: every check is a one-line DataError naming the file; happy paths load lazily."""

import re

import numpy as np
import pytest

from centerir.data import DataError, EEGDataset, check_for_cv, load_dataset, load_windows


def save(path, array, **kwargs):
    np.save(path, array, **kwargs)
    return path


@pytest.fixture
def good(tmp_path):
    rng = np.random.default_rng(0)
    return {
        "x": save(tmp_path / "x.npy", rng.normal(size=(20, 1, 3, 60))),
        "y": save(tmp_path / "y.npy", rng.integers(0, 16, 20).astype(float)),
        "groups": save(tmp_path / "g.npy", np.repeat(np.arange(10), 2)),
    }


def expect_error(pattern, *paths):
    with pytest.raises(DataError) as info:
        load_dataset(*paths)
    message = str(info.value)
    assert "\n" not in message
    assert re.search(pattern, message), message
    return message


def test_published_format_loads_memory_mapped(good, tmp_path):
    y = save(tmp_path / "y2.npy", np.load(good["y"]).reshape(-1, 1))
    dataset = load_dataset(good["x"], y, good["groups"])
    assert dataset.x.shape == (20, 1, 3, 60) and dataset.y.shape == (20,)
    assert dataset.y.dtype == np.float64
    assert isinstance(dataset.x, np.memmap) or isinstance(dataset.x.base, np.memmap)
    batch = dataset.subset_x(np.array([5, 1, 3]))
    assert batch.dtype == np.float32 and batch.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(batch[0], np.load(good["x"])[5], rtol=1e-6)
    assert (dataset.n_channels, dataset.n_times) == (3, 60)


def test_three_dimensional_x_gains_the_filter_axis(tmp_path, good):
    x = save(tmp_path / "x3.npy", np.zeros((20, 3, 60), dtype=np.float32))
    assert load_dataset(x, good["y"]).x.shape == (20, 1, 3, 60)


def test_string_subject_ids(tmp_path, good):
    groups = save(tmp_path / "gs.npy", np.array([f"s{i // 2}" for i in range(20)]))
    dataset = load_dataset(good["x"], good["y"], groups)
    assert dataset.groups[0] == "s0"


def test_missing_file(good, tmp_path):
    expect_error(r"missing\.npy: X file not found", tmp_path / "missing.npy", good["y"])


def test_not_an_npy_suffix(good, tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("0 1 2")
    expect_error(r"x\.txt: expected a NumPy \.npy file for X", path, good["y"])


def test_corrupt_npy(good, tmp_path):
    path = tmp_path / "bad.npy"
    path.write_bytes(b"this is not numpy")
    expect_error(r"bad\.npy: expected a valid \.npy file for X", path, good["y"])


def test_pickled_object_array_is_refused(good, tmp_path):
    path = save(
        tmp_path / "obj.npy", np.array([{"evil": 1}, None], dtype=object), allow_pickle=True
    )
    expect_error(r"obj\.npy: .*pickled.*never loaded", path, good["y"])


def test_complex_dtype(good, tmp_path):
    path = save(tmp_path / "c.npy", np.zeros((20, 1, 3, 60), dtype=complex))
    expect_error(r"c\.npy: expected real numbers for X, got complex", path, good["y"])


def test_non_numeric_dtype(good, tmp_path):
    path = save(tmp_path / "s.npy", np.array(["a"] * 20))
    expect_error(r"s\.npy: expected a numeric y array, got dtype <U1", good["x"], path)


def test_wrong_dimensions_for_x_and_y(good, tmp_path):
    flat = save(tmp_path / "flat.npy", np.zeros((20, 180)))
    expect_error(
        r"expected X of shape \(N, 1, C, T\) or \(N, C, T\).*got shape \(20, 180\)", flat, good["y"]
    )
    many = save(tmp_path / "k.npy", np.zeros((20, 2, 3, 60)))
    expect_error(r"got shape \(20, 2, 3, 60\)", many, good["y"])
    y2 = save(tmp_path / "y2.npy", np.zeros((20, 2)))
    expect_error(
        r"y2\.npy: expected y of shape \(N,\) or \(N, 1\), got shape \(20, 2\)", good["x"], y2
    )


def test_length_mismatch_names_both_files(good, tmp_path):
    y = save(tmp_path / "short.npy", np.arange(19.0))
    message = expect_error(r"expected one score per window", good["x"], y)
    assert "short.npy" in message and "x.npy" in message and "(20)" in message and "19" in message
    groups = save(tmp_path / "gshort.npy", np.arange(5))
    expect_error(r"gshort\.npy: expected one subject id per window", good["x"], good["y"], groups)


def test_nan_far_into_x_is_found_in_chunks(tmp_path, good):
    x = np.zeros((1500, 1, 2, 60), dtype=np.float32)
    x[1234, 0, 1, 7] = np.inf
    path = save(tmp_path / "big.npy", x)
    y = save(tmp_path / "yb.npy", np.arange(1500.0))
    expect_error(r"big\.npy: expected finite values in X, got NaN or inf in window 1234", path, y)


def test_nan_in_y(good, tmp_path):
    values = np.arange(20.0)
    values[3] = np.nan
    expect_error(
        r"expected finite scores in y, got NaN or inf at index 3",
        good["x"],
        save(tmp_path / "yn.npy", values),
    )


def test_constant_target(good, tmp_path):
    expect_error(
        r"constant 4 .*nothing to regress", good["x"], save(tmp_path / "yc.npy", np.full(20, 4.0))
    )


def test_bad_groups(good, tmp_path):
    expect_error(
        r"expected groups of shape \(N,\)",
        good["x"],
        good["y"],
        save(tmp_path / "g2.npy", np.zeros((20, 2))),
    )
    floats = np.arange(20.0)
    floats[0] = np.nan
    expect_error(r"non-integer or NaN", good["x"], good["y"], save(tmp_path / "gf.npy", floats))


def dataset(n=20, subjects=10, n_times=60):
    groups = None if subjects is None else np.arange(n) % subjects
    return EEGDataset(np.zeros((n, 1, 2, n_times)), np.arange(n, dtype=float), groups, "d.npy")


def test_check_for_cv():
    check_for_cv(dataset(), n_folds=5, min_n_times=50)
    with pytest.raises(DataError, match=r"d\.npy: expected at least 20 windows for 10 folds"):
        check_for_cv(dataset(n=12, subjects=None), n_folds=10, min_n_times=50)
    with pytest.raises(DataError, match=r"expected at least 12 subjects .* got 10; use --folds 8"):
        check_for_cv(dataset(), n_folds=10, min_n_times=50)
    with pytest.raises(DataError, match=r"at least 50 samples .* got T=40"):
        check_for_cv(dataset(n_times=40), n_folds=2, min_n_times=50)


def test_windows_for_prediction(good):
    windows = load_windows(good["x"])
    assert windows.n_samples == 20 and np.isnan(windows.y).all()
