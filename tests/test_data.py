"""Data loading: every check is a one-line DataError naming the file; happy paths load lazily."""

import re

import numpy as np
import pytest

import centerir.data
from centerir.data import (
    DataError,
    EEGDataset,
    check_finite,
    check_for_cv,
    load_dataset,
    load_windows,
)

N = 20


def save(path, array, **kwargs):
    np.save(path, array, **kwargs)
    return path


@pytest.fixture
def good(tmp_path):
    rng = np.random.default_rng(0)
    return {
        "x": save(tmp_path / "x.npy", rng.normal(size=(N, 1, 3, 60))),
        "y": save(tmp_path / "y.npy", rng.integers(0, 16, N).astype(float)),
        "groups": save(tmp_path / "g.npy", np.repeat(np.arange(10), 2)),
    }


def one_line(err):
    message = str(err)
    assert message and "\n" not in message, message
    return message


def expect_error(pattern, *paths, names=()):
    """load_dataset(*paths) fails with one line matching ``pattern`` and naming ``names``."""
    with pytest.raises(DataError) as info:
        load_dataset(*paths)
    message = one_line(info.value)
    assert re.search(pattern, message), message
    for name in names:
        assert str(name) in message, message
    return message


# -- happy paths -------------------------------------------------------------------------


def test_published_format_loads_memory_mapped(tmp_path):
    """(N, 1, 19, 2500) float64 with (N, 1) y, as the published data set ships."""
    rng = np.random.default_rng(1)
    x = save(tmp_path / "X.npy", rng.normal(size=(6, 1, 19, 2500)))
    y = save(tmp_path / "Y.npy", np.arange(6.0).reshape(-1, 1))
    dataset = load_dataset(x, y)
    assert dataset.x.shape == (6, 1, 19, 2500) and dataset.x.dtype == np.float64
    assert isinstance(dataset.x, np.memmap) and not dataset.x.flags.writeable
    assert dataset.y.shape == (6,) and dataset.y.dtype == np.float64
    assert (dataset.n_samples, dataset.n_channels, dataset.n_times) == (6, 19, 2500)
    assert not dataset.has_groups and dataset.groups is None
    assert dataset.source == f"{x}, {y}"
    assert (dataset.x_name, dataset.y_name, dataset.groups_name) == (str(x), str(y), "")


def test_three_dimensional_float32_x_gains_the_axis_as_a_memmap_view(tmp_path, good):
    raw = np.arange(N * 3 * 60, dtype=np.float32).reshape(N, 3, 60)
    dataset = load_dataset(save(tmp_path / "x3.npy", raw), good["y"])
    assert dataset.x.shape == (N, 1, 3, 60) and dataset.x.dtype == np.float32
    assert isinstance(dataset.x, np.memmap) and isinstance(dataset.x.base, np.memmap)
    np.testing.assert_array_equal(dataset.x[:, 0], raw)


def test_int_subject_ids(good):
    dataset = load_dataset(good["x"], good["y"], good["groups"])
    assert dataset.has_groups and dataset.groups.dtype.kind == "i"
    assert dataset.groups_name == str(good["groups"]) and str(good["groups"]) in dataset.source


def test_string_subject_ids(tmp_path, good):
    groups = save(tmp_path / "gs.npy", np.array([f"s{i // 2}" for i in range(N)]))
    dataset = load_dataset(good["x"], good["y"], groups)
    assert dataset.groups.dtype.kind == "U" and dataset.groups[0] == "s0"


def test_integral_float_subject_ids_become_int64(tmp_path, good):
    groups = save(tmp_path / "gf.npy", np.repeat(np.arange(10.0), 2))
    assert load_dataset(good["x"], good["y"], groups).groups.dtype == np.int64


def test_subset_x_is_float32_contiguous_in_the_given_order(good):
    dataset = load_dataset(good["x"], good["y"])
    order = np.array([5, 1, 3, 1])
    batch = dataset.subset_x(order)
    assert batch.shape == (4, 1, 3, 60) and batch.dtype == np.float32
    assert batch.flags["C_CONTIGUOUS"] and not isinstance(batch, np.memmap)
    np.testing.assert_allclose(batch, np.load(good["x"])[order].astype(np.float32))
    assert dataset.subset_x([]).shape == (0, 1, 3, 60)
    with pytest.raises(ValueError, match="indices must be integers, got dtype bool"):
        dataset.subset_x(np.ones(N, dtype=bool))


def test_windows_for_prediction(good):
    windows = load_windows(good["x"])
    assert windows.n_samples == N and np.isnan(windows.y).all()
    assert windows.x_name == str(good["x"])


# -- file-level checks ------------------------------------------------------------------


def test_missing_file(good, tmp_path):
    missing = tmp_path / "missing.npy"
    expect_error(r"missing\.npy: X file not found", missing, good["y"], names=[missing])


def test_path_is_named_as_given(good, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    expect_error(r"^\./nope\.npy: y file not found", good["x"], "./nope.npy")


def test_not_an_npy_suffix(good, tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("0 1 2")
    expect_error(r"x\.txt: expected a NumPy \.npy file for X, got '\.txt'", path, good["y"])


def test_folder_instead_of_file(good, tmp_path):
    folder = tmp_path / "dir.npy"
    folder.mkdir()
    expect_error(r"dir\.npy: expected a NumPy \.npy file for y, got a folder", good["x"], folder)


def test_bad_magic(good, tmp_path):
    path = tmp_path / "bad.npy"
    path.write_bytes(b"this is not numpy")
    expect_error(
        r"bad\.npy: expected a valid \.npy file for X, got a file without", path, good["y"]
    )


def test_truncated_npy(good, tmp_path):
    path = save(tmp_path / "cut.npy", np.zeros((N, 1, 3, 60)))
    path.write_bytes(path.read_bytes()[:500])
    expect_error(r"cut\.npy: expected a valid \.npy file for X, got an unreadable", path, good["y"])


def test_pickled_object_array_is_refused_when_memory_mapping(good, tmp_path):
    path = save(
        tmp_path / "obj.npy", np.array([{"evil": 1}, None], dtype=object), allow_pickle=True
    )
    expect_error(
        r"obj\.npy: expected a numeric array for X, got an object \(pickled\)", path, good["y"]
    )


def test_pickled_object_array_is_refused_when_loading(good, tmp_path, monkeypatch):
    """np.load without mmap words the refusal differently; both must give the same error."""
    path = save(tmp_path / "obj.npy", np.array([1, None], dtype=object), allow_pickle=True)

    real_load = np.load

    def plain_load(file, *args, **kwargs):
        if file == path:
            raise ValueError("Object arrays cannot be loaded when allow_pickle=False")
        return real_load(file, *args, **kwargs)

    monkeypatch.setattr(centerir.data.np, "load", plain_load)
    expect_error(
        r"obj\.npy: expected a numeric array for y, got an object \(pickled\)", good["x"], path
    )


# -- dtype and shape checks -------------------------------------------------------------


def test_complex_dtype(good, tmp_path):
    path = save(tmp_path / "c.npy", np.zeros((N, 1, 3, 60), dtype=complex))
    expect_error(
        r"c\.npy: expected real numbers for X, got complex dtype complex128", path, good["y"]
    )


@pytest.mark.parametrize(
    ("role", "array", "found"),
    [
        ("X", np.zeros((N, 1, 3, 60), dtype=bool), "bool"),
        ("X", np.full((N, 3, 60), "a"), "<U1"),
        ("y", np.array(["a"] * N), "<U1"),
        ("y", np.ones(N, dtype=bool), "bool"),
    ],
)
def test_non_numeric_dtype(good, tmp_path, role, array, found):
    path = save(tmp_path / "s.npy", array)
    paths = (path, good["y"]) if role == "X" else (good["x"], path)
    expect_error(rf"s\.npy: expected a numeric {role} array, got dtype {found}\.", *paths)


def test_two_dimensional_x_gets_a_reshape_hint(good, tmp_path):
    flat = save(tmp_path / "flat.npy", np.zeros((N, 180)))
    expect_error(
        r"flat\.npy: expected X of shape \(N, 1, C, T\) or \(N, C, T\).*got shape \(20, 180\); "
        r".*X\.reshape\(N, C, T\)",
        flat,
        good["y"],
    )


def test_x_with_more_than_one_on_axis_1(good, tmp_path):
    many = save(tmp_path / "k.npy", np.zeros((N, 2, 3, 60)))
    expect_error(
        r"k\.npy: expected X .*got shape \(20, 2, 3, 60\) with 2 on axis 1", many, good["y"]
    )


def test_x_with_five_dimensions_or_empty(good, tmp_path):
    expect_error(
        r"got shape \(20, 1, 1, 3, 60\)\.",
        save(tmp_path / "x5.npy", np.zeros((N, 1, 1, 3, 60))),
        good["y"],
    )
    expect_error(
        r"e\.npy: expected X with at least one window, channel and sample",
        save(tmp_path / "e.npy", np.zeros((N, 1, 0, 60))),
        good["y"],
    )


def test_y_with_two_columns_or_transposed(good, tmp_path):
    y2 = save(tmp_path / "y2.npy", np.zeros((N, 2)))
    expect_error(
        r"y2\.npy: expected y of shape \(N,\) or \(N, 1\), got shape \(20, 2\); .*single column",
        good["x"],
        y2,
    )
    row = save(tmp_path / "row.npy", np.arange(float(N)).reshape(1, -1))
    expect_error(r"got shape \(1, 20\); it looks transposed: use y\.reshape\(-1\)", good["x"], row)


def test_length_mismatch_names_both_files_and_both_counts(good, tmp_path):
    y = save(tmp_path / "short.npy", np.arange(19.0))
    expect_error(
        r"short\.npy: expected one score per window of .*x\.npy \(20 windows\), got 19 scores",
        good["x"],
        y,
    )
    groups = save(tmp_path / "gshort.npy", np.arange(5))
    expect_error(
        r"gshort\.npy: expected one subject id per window of .*x\.npy \(20 windows\), got 5 ids",
        good["x"],
        good["y"],
        groups,
    )


# -- values ------------------------------------------------------------------------------


class ReadRecorder:
    """Array stand-in that records which rows each read asks for."""

    def __init__(self, array):
        self.array, self.reads = array, []
        self.dtype, self.shape, self.ndim = array.dtype, array.shape, array.ndim
        self.itemsize = array.itemsize

    def __getitem__(self, key):
        self.reads.append(key)
        return self.array[key]


def test_nan_far_into_x_is_found_in_chunks(tmp_path, monkeypatch):
    x = np.zeros((1500, 1, 2, 60), dtype=np.float32)
    x[1234, 0, 1, 7] = np.inf
    path = save(tmp_path / "big.npy", x)
    y = save(tmp_path / "yb.npy", np.arange(1500.0))
    # 480 bytes per window: a 1 KiB budget scans two windows at a time.
    monkeypatch.setattr(centerir.data, "FINITE_CHUNK_BYTES", 1024)
    expect_error(r"big\.npy: expected finite values in X, got NaN or inf in window 1234", path, y)
    recorder = ReadRecorder(np.load(path, mmap_mode="r"))
    with pytest.raises(DataError, match="window 1234"):
        check_finite(recorder, "big.npy")
    assert all(read.stop - read.start == 2 for read in recorder.reads)
    assert len(recorder.reads) == 1234 // 2 + 1  # stops at the first bad chunk


def test_check_finite_on_arrays_with_explicit_chunks():
    x = np.zeros((50, 1, 2, 5))
    check_finite(x, "a.npy", chunk_rows=7)
    x[43, 0, 0, 0] = np.nan
    with pytest.raises(
        DataError,
        match=r"^a\.npy: expected finite values in X, got NaN or inf "
        r"in window 43; drop or repair",
    ):
        check_finite(x, "a.npy", chunk_rows=7)
    check_finite(np.arange(5), "ints.npy", role="y")  # integers are always finite
    with pytest.raises(ValueError, match="chunk_rows must be >= 1, got 0"):
        check_finite(x, "a.npy", chunk_rows=0)


def test_nan_in_y(good, tmp_path):
    values = np.arange(float(N))
    values[3] = np.nan
    expect_error(
        r"yn\.npy: expected finite values in y, got NaN or inf in window 3",
        good["x"],
        save(tmp_path / "yn.npy", values),
    )


def test_bad_y_is_reported_before_bad_x(tmp_path):
    x = save(tmp_path / "xn.npy", np.full((N, 2, 60), np.nan))
    expect_error(r"yc\.npy: .*nothing to regress", x, save(tmp_path / "yc.npy", np.ones(N)))


def test_constant_target(good, tmp_path):
    expect_error(
        r"yc\.npy: expected scores that vary, got the constant 4 for every window: there is "
        "nothing to regress",
        good["x"],
        save(tmp_path / "yc.npy", np.full(N, 4.0)),
    )


def test_groups_with_wrong_dimensions(good, tmp_path):
    path = save(tmp_path / "g2.npy", np.zeros((N, 2)))
    expect_error(
        r"g2\.npy: expected groups of shape \(N,\).*got shape \(20, 2\)", good["x"], good["y"], path
    )


def test_groups_with_nan_or_bad_dtype(good, tmp_path):
    floats = np.arange(float(N))
    floats[6] = np.nan
    expect_error(
        r"gn\.npy: expected integer or string subject ids, got a NaN or inf id in "
        r"window 6",
        good["x"],
        good["y"],
        save(tmp_path / "gn.npy", floats),
    )
    expect_error(
        r"gb\.npy: expected integer or string subject ids, got dtype bool",
        good["x"],
        good["y"],
        save(tmp_path / "gb.npy", np.ones(N, dtype=bool)),
    )


# -- check_for_cv ------------------------------------------------------------------------


def dataset(n=20, subjects=10, n_times=60):
    groups = None if subjects is None else np.arange(n) % subjects
    return EEGDataset(
        np.zeros((n, 1, 2, n_times)),
        np.arange(n, dtype=float),
        groups,
        "x.npy, y.npy, g.npy",
        x_name="x.npy",
        y_name="y.npy",
        groups_name="g.npy" if subjects else "",
    )


def cv_error(pattern, data, n_folds, min_n_times=50):
    with pytest.raises(DataError, match=pattern) as info:
        check_for_cv(data, n_folds=n_folds, min_n_times=min_n_times)
    return one_line(info.value)


def test_check_for_cv_accepts_enough_data():
    check_for_cv(dataset(), n_folds=5, min_n_times=50)
    check_for_cv(dataset(n=4, subjects=None), n_folds=2, min_n_times=60)
    check_for_cv(dataset(subjects=4), n_folds=2, min_n_times=50)


def test_check_for_cv_refuses_fewer_than_two_folds():
    with pytest.raises(ValueError, match=r"^folds must be >= 2, got 1\.$"):
        check_for_cv(dataset(), n_folds=1, min_n_times=50)


def test_check_for_cv_too_few_windows():
    cv_error(
        r"^x\.npy: expected at least 20 windows for 10 folds \(each training part needs an "
        r"inner validation split\), got 12; use --folds 6 or fewer\.$",
        dataset(n=12, subjects=None),
        10,
    )
    cv_error(r"got 3; collect at least 4 windows", dataset(n=3, subjects=None), 2)


def test_check_for_cv_too_few_subjects():
    cv_error(
        r"^g\.npy: expected at least 12 subjects for 10 subject-disjoint folds with an inner "
        r"validation split, got 10; use --folds 8 or fewer\.$",
        dataset(),
        10,
    )
    cv_error(r"got 3; collect at least 4 subjects", dataset(subjects=3), 2)


def test_check_for_cv_too_short_windows():
    cv_error(
        r"^x\.npy: expected windows of at least 50 samples .* got T=40; use longer windows or "
        r"a smaller temporal_kernel/pool_size\.$",
        dataset(n_times=40),
        2,
    )


def test_check_for_cv_falls_back_to_source_for_names():
    data = EEGDataset(np.zeros((4, 1, 2, 10)), np.arange(4.0), None, "demo data (seed 0)")
    cv_error(r"^demo data \(seed 0\): expected windows of at least 50", data, 2)


def test_bytes_subject_ids_are_read_as_text_and_non_utf8_is_refused(tmp_path):
    from centerir.data import load_groups

    path = tmp_path / "g.npy"
    np.save(path, np.array([b"s1", b"s1", b"s2"]))
    groups = load_groups(path)
    assert groups.dtype.kind == "U" and groups.tolist() == ["s1", "s1", "s2"]
    np.save(path, np.array([b"\xff\xfe", b"a"]))
    with pytest.raises(DataError, match="g.npy: expected subject ids as numbers or UTF-8 text"):
        load_groups(path)
