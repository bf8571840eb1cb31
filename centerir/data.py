"""Loading and checking EEG data from ``.npy`` files.

X holds EEG windows, shape (N, 1, C, T) or (N, C, T); y the scores, (N,) or (N, 1); groups
the subject id of every window, (N,). Files are opened with ``allow_pickle=False`` and
memory-mapped, so a file larger than RAM is never read whole up front. Every problem is a
:class:`DataError` whose message is one line naming the file, what was expected and what
was found.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

FINITE_CHUNK_ROWS = 512  # windows scanned at a time for NaN/inf
NPY_MAGIC = b"\x93NUMPY"


class DataError(ValueError):
    """Bad user data; ``str(err)`` is one line naming the file, expectation and finding."""


@dataclass(frozen=True)
class EEGDataset:
    """EEG windows, scores and optional subject ids.

    Attributes
    ----------
    x : ndarray, shape (N, 1, C, T)
        Any real dtype, often a read-only memory map; converted to float32 per batch.
    y : ndarray of float64, shape (N,)
        Scores (e.g. GDS 0..15).
    groups : ndarray, shape (N,), or None
        Subject id of every window (ints or strings).
    source : str
        Where the data came from, for messages and reports.
    """

    x: np.ndarray
    y: np.ndarray
    groups: np.ndarray | None = None
    source: str = ""

    @property
    def n_samples(self) -> int:
        return int(self.x.shape[0])

    @property
    def n_channels(self) -> int:
        return int(self.x.shape[2])

    @property
    def n_times(self) -> int:
        return int(self.x.shape[3])

    def subset_x(self, indices: np.ndarray) -> np.ndarray:
        """Windows ``indices`` (in that order) as a contiguous float32 array (n, 1, C, T)."""
        return np.ascontiguousarray(self.x[np.asarray(indices)], dtype=np.float32)


def open_npy(path: str | Path, role: str) -> np.ndarray:
    """Memory-map a ``.npy`` without unpickling; every failure is a one-line ``DataError``."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: {role} file not found.")
    if path.is_dir() or path.suffix.lower() != ".npy":
        raise DataError(
            f"{path}: expected a NumPy .npy file for {role}, got "
            f"{'a folder' if path.is_dir() else repr(path.suffix or 'no suffix')}."
        )
    with open(path, "rb") as handle:
        magic = handle.read(len(NPY_MAGIC))
    if magic != NPY_MAGIC:
        raise DataError(
            f"{path}: expected a valid .npy file for {role}, got a file without "
            "the NumPy header (was it saved with numpy.save?)."
        )
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as err:
        text = str(err)
        if "pickle" in text.lower() or "object" in text.lower():
            raise DataError(
                f"{path}: expected a numeric array for {role}, got an object "
                "(pickled) array, which is never loaded for safety."
            ) from None
        raise DataError(
            f"{path}: expected a valid .npy file for {role}, got an unreadable "
            f"one ({text.splitlines()[0] if text else 'bad header'})."
        ) from None
    except (OSError, EOFError) as err:
        raise DataError(
            f"{path}: expected a valid .npy file for {role}, got an unreadable "
            f"one ({type(err).__name__})."
        ) from None
    if not isinstance(array, np.ndarray):
        raise DataError(f"{path}: expected one array for {role}, got a .npz archive.")
    return array


def check_real(array: np.ndarray, path: str | Path, role: str) -> None:
    kind = array.dtype.kind
    if kind == "c":
        raise DataError(
            f"{path}: expected real numbers for {role}, got complex dtype {array.dtype}."
        )
    if kind not in "iuf":
        raise DataError(f"{path}: expected a numeric {role} array, got dtype {array.dtype}.")


def first_non_finite(array: np.ndarray) -> int | None:
    """Index of the first row holding NaN or inf, scanning in chunks of rows; else None."""
    if array.dtype.kind in "iu":
        return None
    for start in range(0, array.shape[0], FINITE_CHUNK_ROWS):
        chunk = np.asarray(array[start : start + FINITE_CHUNK_ROWS])
        bad = ~np.isfinite(chunk.reshape(chunk.shape[0], -1)).all(axis=1)
        if bad.any():
            return start + int(np.argmax(bad))
    return None


def load_x(path: str | Path) -> np.ndarray:
    """EEG windows as an (N, 1, C, T) memory map; (N, C, T) gains the axis as a view."""
    x = open_npy(path, "X")
    check_real(x, path, "X")
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] != 1:
        raise DataError(
            f"{path}: expected X of shape (N, 1, C, T) or (N, C, T) — windows x channels x "
            f"samples — got shape {tuple(x.shape)}."
        )
    if x.shape[0] == 0:
        raise DataError(f"{path}: expected at least one window in X, got 0.")
    bad = first_non_finite(x)
    if bad is not None:
        raise DataError(f"{path}: expected finite values in X, got NaN or inf in window {bad}.")
    return x


def load_y(path: str | Path) -> np.ndarray:
    """Scores as a float64 (N,) array."""
    y = open_npy(path, "y")
    check_real(y, path, "y")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(
            f"{path}: expected y of shape (N,) or (N, 1), got shape "
            f"{tuple(y.shape)}; reshape with y.reshape(-1) if it holds one score "
            "per window."
        )
    y = np.array(y, dtype=np.float64)
    bad = first_non_finite(y)
    if bad is not None:
        raise DataError(f"{path}: expected finite scores in y, got NaN or inf at index {bad}.")
    if y.size and np.all(y == y[0]):
        raise DataError(
            f"{path}: expected scores that vary, got the constant {y[0]:g} for every "
            "window: there is nothing to regress."
        )
    return y


def load_groups(path: str | Path) -> np.ndarray:
    """Subject ids as an (N,) array of ints or strings."""
    groups = open_npy(path, "groups")
    if groups.ndim != 1:
        raise DataError(
            f"{path}: expected groups of shape (N,) — one subject id per window — "
            f"got shape {tuple(groups.shape)}."
        )
    if groups.dtype.kind not in "iuUSf":
        raise DataError(
            f"{path}: expected integer or string subject ids, got dtype {groups.dtype}."
        )
    groups = np.array(groups)
    if groups.dtype.kind == "f":
        if not np.all(np.isfinite(groups)) or not np.all(groups == np.round(groups)):
            raise DataError(
                f"{path}: expected integer or string subject ids, got non-integer or NaN floats."
            )
        groups = groups.astype(np.int64)
    return groups


def load_dataset(
    x_path: str | Path, y_path: str | Path, groups_path: str | Path | None = None
) -> EEGDataset:
    """Load and check X, y and (optionally) subject ids from ``.npy`` files.

    Raises
    ------
    DataError
        One line naming the file, what was expected and what was found.
    """
    x = load_x(x_path)
    y = load_y(y_path)
    if len(y) != x.shape[0]:
        raise DataError(
            f"{y_path}: expected one score per window of {x_path} ({x.shape[0]}), got {len(y)}."
        )
    groups = None
    if groups_path is not None:
        groups = load_groups(groups_path)
        if len(groups) != x.shape[0]:
            raise DataError(
                f"{groups_path}: expected one subject id per window of {x_path} "
                f"({x.shape[0]}), got {len(groups)}."
            )
    names = ", ".join(str(p) for p in (x_path, y_path, groups_path) if p is not None)
    return EEGDataset(x=x, y=y, groups=groups, source=names)


def load_windows(path: str | Path) -> EEGDataset:
    """Windows to predict on (no scores): a dataset whose ``y`` is all NaN."""
    x = load_x(path)
    return EEGDataset(x=x, y=np.full(x.shape[0], np.nan), source=str(path))


def check_for_cv(dataset: EEGDataset, n_folds: int, min_n_times: int) -> None:
    """Check the data can feed an ``n_folds``-fold CV of a model needing ``min_n_times``.

    Every training part also gives up an inner validation split, so each fold needs at
    least two windows (and, with subject ids, two subjects) on its training side.
    """
    source = dataset.source or "data"
    if dataset.n_times < min_n_times:
        raise DataError(
            f"{source}: expected windows of at least {min_n_times} samples for the model's "
            f"kernel and pooling, got T={dataset.n_times}; use longer windows or a smaller "
            "temporal_kernel/pool_size."
        )
    if dataset.n_samples < 2 * n_folds:
        raise DataError(
            f"{source}: expected at least {2 * n_folds} windows for {n_folds} folds (each "
            f"training part needs an inner validation split), got {dataset.n_samples}; use "
            "fewer --folds."
        )
    if dataset.groups is not None:
        n_groups = len(np.unique(dataset.groups))
        if n_groups < n_folds + 2:
            raise DataError(
                f"{source}: expected at least {n_folds + 2} subjects for {n_folds} "
                f"subject-disjoint folds with an inner validation split, got {n_groups}; use "
                f"--folds {max(2, n_groups - 2)} or fewer."
            )
