"""Loading and checking EEG data from ``.npy`` files.

Three files describe a data set:

- X, the EEG windows: shape (N, 1, C, T) or (N, C, T), any real dtype, microvolts, every
  value finite and within ±:data:`MAX_ABS_X`;
- y, one score per window: shape (N,) or (N, 1), any real dtype, finite, within
  ±:data:`MAX_ABS_Y` and not all equal in float32;
- groups (optional), the subject id of every window: shape (N,), ints or valid Unicode
  strings.

Only regular files are opened (a FIFO would block forever), with ``allow_pickle=False``
(an object array is never unpickled); X is
memory-mapped, so a file larger than RAM is never read whole up front: the NaN/inf scan
reads it in bounded chunks of rows, and training reads one batch of rows at a time through
:meth:`EEGDataset.subset_x`. Every problem is a :class:`DataError` whose message is one line
naming the file (its path as given), what was expected and what was found.
"""

from __future__ import annotations

import math
import os
import stat
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from centerir.contract import UserError
from centerir.data_meta import read_meta

# Bytes of X read at a time by the NaN/inf scan: bounds memory whatever the window size.
FINITE_CHUNK_BYTES = 64 * 2**20
# Largest |X| taken. Training reads X as float32 (largest 3.4e38) and centres it on channel
# means: a bound far below that keeps the copy, the means and the centred values finite.
# Real EEG is ~1e2 µV (1e-4 V); only a corrupt or mis-scaled file comes near it.
MAX_ABS_X = 1e30
# Largest |y| taken. Scores are float32 targets whose errors MSE squares and sums over a
# batch; within 1e6 those stay far inside float32 and keep ~7 significant digits, and a
# larger score (a unit mistake, a corrupt file) would only diverge. Rescale such scores.
MAX_ABS_Y = 1e6
ANY_FINITE = sys.float_info.max  # a limit that refuses only NaN and inf
# Subject ids of floating dtype convert to int64 only where every integer is exact.
MAX_EXACT_FLOAT_ID = 2**53
NPY_MAGIC = b"\x93NUMPY"
REAL_KINDS = "iuf"  # signed int, unsigned int, float; bool, complex, str, object are refused
GROUP_KINDS = "iuUSf"

PathLike = str | os.PathLike[str]


class DataError(UserError):
    """Bad user data; ``str(err)`` is one line naming the file, expectation and finding."""


@dataclass(frozen=True)
class EEGDataset:
    """EEG windows, scores and optional subject ids.

    Attributes
    ----------
    x : ndarray, shape (N, 1, C, T)
        Any real dtype, in microvolts; from :func:`load_dataset` a read-only memory map
        (not in RAM). Use :meth:`subset_x` to read rows as float32.
    y : ndarray of float64, shape (N,)
        Scores (e.g. GDS 0..15), in RAM.
    groups : ndarray, shape (N,), or None
        Subject id of every window (ints or strings); None when unknown.
    source : str
        Short description for messages and reports, e.g. ``"X.npy, y.npy, G.npy"``.
    x_name, y_name, groups_name : str
        The file each array came from, as given ("" when not from a file); messages about
        one array name its file, falling back to ``source``.
    rows : ndarray of int, shape (N,), or None
        For a subset (:meth:`subset`): which rows of ``x`` its windows are; ``x`` stays the
        whole array, shared and never copied. None: all rows of ``x``, in order.
    meta : dict or None
        The ``meta.json`` beside X (sampling rate, channel names, window, processing; see
        :mod:`centerir.data_meta`), None when X was saved without one.
    """

    x: np.ndarray
    y: np.ndarray
    groups: np.ndarray | None = None
    source: str = ""
    x_name: str = ""
    y_name: str = ""
    groups_name: str = ""
    rows: np.ndarray | None = None
    meta: dict[str, Any] | None = None

    @property
    def n_samples(self) -> int:
        """N, the number of windows."""
        return int(self.y.shape[0])

    @property
    def n_channels(self) -> int:
        """C, the number of EEG channels."""
        return int(self.x.shape[2])

    @property
    def n_times(self) -> int:
        """T, the number of time samples per window."""
        return int(self.x.shape[3])

    @property
    def has_groups(self) -> bool:
        """Whether subject ids are known."""
        return self.groups is not None

    def subset_x(self, indices: np.ndarray | list[int]) -> np.ndarray:
        """Rows ``indices`` of X, in the given order, as a contiguous float32 copy.

        Parameters
        ----------
        indices : array-like of int, shape (n,)

        Returns
        -------
        ndarray of float32, shape (n, 1, C, T)
            C-contiguous; only these rows are read from a memory-mapped X.
        """
        rows = np.asarray(indices)
        if rows.size == 0:
            rows = rows.astype(np.intp)  # np.asarray([]) is float64, which cannot index
        elif rows.dtype.kind not in "iu":
            # A boolean mask would silently index rows 0 and 1 if cast to int.
            raise ValueError(f"indices must be integers, got dtype {rows.dtype}.")
        if self.rows is not None:
            rows = self.rows[rows]
        return np.ascontiguousarray(self.x[rows], dtype=np.float32)

    def subset(self, indices: np.ndarray) -> EEGDataset:
        """The windows ``indices`` (int, shape (n,)) as a dataset of n windows, sharing X."""
        indices = np.asarray(indices, dtype=np.intp)
        return replace(
            self,
            y=self.y[indices],
            groups=None if self.groups is None else self.groups[indices],
            rows=indices if self.rows is None else self.rows[indices],
        )


def open_npy(path: PathLike, role: str) -> np.ndarray:
    """Memory-map a ``.npy`` file without unpickling anything.

    Parameters
    ----------
    path : str or path-like
        The file, named in messages as given.
    role : str
        What the file should hold ("X", "y", "groups"), for messages.

    Returns
    -------
    numpy.memmap
        Read-only; nothing is read beyond the header.

    Raises
    ------
    DataError
        Missing file, folder, wrong suffix, no NumPy header, unreadable or truncated file,
        object (pickled) array.
    """
    name = os.fspath(path)
    path = Path(path)
    check_npy_file_kind(name, role)
    if path.suffix.lower() != ".npy":
        found = repr(path.suffix) if path.suffix else "no suffix"
        raise DataError(
            f"{name}: expected a NumPy .npy file for {role}, got {found}; save arrays with "
            "numpy.save(path, array)."
        )
    try:
        with open(path, "rb") as handle:
            magic = handle.read(len(NPY_MAGIC))
    except OSError as err:
        raise DataError(f"{name}: expected a readable {role} file, got {err.strerror}.") from None
    if magic != NPY_MAGIC:
        # Checked up front because np.load on a non-.npy file tries other formats first.
        raise DataError(
            f"{name}: expected a valid .npy file for {role}, got a file without the NumPy "
            "header; save arrays with numpy.save(path, array)."
        )
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as err:
        raise DataError(describe_load_error(name, role, str(err))) from None
    except OverflowError:  # mmap's word for a negative dimension in the header
        raise DataError(
            f"{name}: expected a valid .npy file for {role}, got a header whose shape has a "
            "negative or impossible dimension."
        ) from None
    except (OSError, EOFError) as err:
        raise DataError(
            f"{name}: expected a valid .npy file for {role}, got an unreadable or truncated "
            f"one ({type(err).__name__})."
        ) from None


def check_npy_file_kind(name: str, role: str) -> None:
    """Refuse a missing file, a folder and anything but a regular file before opening it:
    reading a FIFO (or a terminal) blocks until someone writes to it."""
    try:
        mode = os.stat(name).st_mode
    except FileNotFoundError:
        raise DataError(f"{name}: {role} file not found.") from None
    except OSError as err:
        raise DataError(f"{name}: expected a readable {role} file, got {err.strerror}.") from None
    if stat.S_ISDIR(mode):
        raise DataError(f"{name}: expected a NumPy .npy file for {role}, got a folder.")
    if not stat.S_ISREG(mode):
        raise DataError(
            f"{name}: expected a NumPy .npy file for {role}, got a FIFO, socket or device, "
            "which is never read (it could block forever); save the array to a regular file."
        )


def describe_load_error(name: str, role: str, text: str) -> str:
    """One-line message for a ValueError raised by ``np.load``."""
    lowered = text.lower()
    # Memory-mapping refuses object dtypes with its own wording ("Python objects in dtype")
    # before allow_pickle is consulted; plain loading says "allow_pickle=False".
    if "pickle" in lowered or "object" in lowered:
        return (
            f"{name}: expected a numeric array for {role}, got an object (pickled) array, "
            "which is never loaded for safety; save a plain numeric or string array instead."
        )
    first_line = text.splitlines()[0] if text.strip() else "bad header"
    return (
        f"{name}: expected a valid .npy file for {role}, got an unreadable or truncated one "
        f"({first_line})."
    )


def check_real(array: np.ndarray, name: str, role: str) -> None:
    """Refuse anything but real integer or floating dtypes (bool, complex, str, object...)."""
    kind = array.dtype.kind
    if kind == "c":
        raise DataError(
            f"{name}: expected real numbers for {role}, got complex dtype {array.dtype}; "
            "keep the real part or the magnitude (np.abs)."
        )
    if kind not in REAL_KINDS:
        raise DataError(f"{name}: expected a numeric {role} array, got dtype {array.dtype}.")


def first_out_of_range(
    array: np.ndarray, limit: float = ANY_FINITE, chunk_rows: int | None = None
) -> tuple[int, float] | None:
    """The first row holding NaN, inf or a value beyond ``±limit``: (its index along axis 0,
    its largest magnitude: NaN when it holds a NaN), or None.

    Parameters
    ----------
    array : ndarray, shape (N, ...)
        Any real dtype; may be a memory map, read ``chunk_rows`` rows at a time.
    limit : float
        Largest magnitude allowed (default: any finite value).
    chunk_rows : int, optional
        Rows per read; default: as many as fit in :data:`FINITE_CHUNK_BYTES`.
    """
    if array.shape[0] == 0 or (array.dtype.kind in "iu" and int_fits(array.dtype, limit)):
        return None
    if chunk_rows is None:
        row_bytes = max(1, array.itemsize * int(np.prod(array.shape[1:], dtype=np.int64)))
        chunk_rows = max(1, FINITE_CHUNK_BYTES // row_bytes)
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}.")
    row_axes = tuple(range(1, array.ndim))
    for start in range(0, array.shape[0], chunk_rows):
        chunk = np.asarray(array[start : start + chunk_rows])
        # abs of the most negative int is itself: compare integers as floats
        chunk = np.abs(chunk.astype(np.float64) if chunk.dtype.kind in "iu" else chunk)
        # NumPy compares in the chunk's dtype, where a limit past its range would be inf
        inside = chunk <= min(limit, float(np.finfo(chunk.dtype).max))  # False for NaN, inf
        fine = inside.all(axis=row_axes) if row_axes else inside
        if not fine.all():
            bad = int(np.argmin(fine))
            return start + bad, float(np.max(chunk[bad]))
    return None


def int_fits(dtype: np.dtype, limit: float) -> bool:
    """Whether every value of integer ``dtype`` lies within ``±limit``."""
    info = np.iinfo(dtype)
    return -limit <= int(info.min) and int(info.max) <= limit


def check_finite(
    array: np.ndarray,
    name: str,
    role: str = "X",
    chunk_rows: int | None = None,
    limit: float = ANY_FINITE,
) -> None:
    """Raise :class:`DataError` naming the first window with NaN, inf or a value beyond
    ``±limit``.

    Parameters
    ----------
    array : ndarray, shape (N, ...)
        X (N, 1, C, T) or y (N,); a memory map is scanned in bounded chunks of rows.
    name : str
        The file, for the message.
    role : str
        "X", "y", ... for the message.
    chunk_rows : int, optional
        Rows per read (see :func:`first_out_of_range`).
    limit : float
        Largest magnitude allowed (default: any finite value).
    """
    found = first_out_of_range(array, limit, chunk_rows)
    if found is None:
        return
    window, magnitude = found
    if not math.isfinite(magnitude):
        raise DataError(
            f"{name}: expected finite values in {role}, got NaN or inf in window {window}; "
            "drop or repair that window."
        )
    raise DataError(
        f"{name}: expected {role} values within ±{limit:g}, got {magnitude:g} in window "
        f"{window}; check the file's units or rescale it."
    )


def load_x(path: PathLike, scan: bool = True) -> np.ndarray:
    """EEG windows as a read-only (N, 1, C, T) memory map; (N, C, T) gains axis 1 as a view.

    ``scan=False`` skips the NaN/inf scan (the caller runs it after cheaper checks).
    """
    name = os.fspath(path)
    x = open_npy(path, "X")
    check_real(x, name, "X")
    expected = "expected X of shape (N, 1, C, T) or (N, C, T) (windows, channels, samples)"
    if x.ndim == 2:
        raise DataError(
            f"{name}: {expected}, got shape {x.shape}; if each row is a flattened window use "
            "X.reshape(N, C, T), and for single-channel windows X[:, None, :]."
        )
    if x.ndim == 4 and x.shape[1] != 1:
        raise DataError(
            f"{name}: {expected}, got shape {x.shape} with {x.shape[1]} on axis 1, which must "
            "be 1; save (N, C, T) windows, or move the channel and time axes to the end "
            "(np.moveaxis)."
        )
    if x.ndim not in (3, 4):
        raise DataError(f"{name}: {expected}, got shape {x.shape}.")
    if x.ndim == 3:
        x = x[:, None]  # a view: stays memory-mapped
    if 0 in x.shape:
        raise DataError(
            f"{name}: expected X with at least one window, channel and sample, got shape {x.shape}."
        )
    if scan:
        check_finite(x, name, "X", limit=MAX_ABS_X)
    return x


def load_y(path: PathLike) -> np.ndarray:
    """Scores as a float64 (N,) array in RAM (finite, within ±:data:`MAX_ABS_Y`, not all
    equal in float32, the precision training uses)."""
    name = os.fspath(path)
    y = open_npy(path, "y")
    check_real(y, name, "y")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        if y.ndim == 2 and y.shape[0] == 1:
            hint = "; it looks transposed: use y.reshape(-1)"
        elif y.ndim == 2:
            hint = "; y must hold one score per window (a single column)"
        else:
            hint = ""
        raise DataError(f"{name}: expected y of shape (N,) or (N, 1), got shape {y.shape}{hint}.")
    y = np.array(y, dtype=np.float64)
    check_finite(y, name, "y", limit=MAX_ABS_Y)
    if y.size and np.all(y == y[0]):
        raise DataError(
            f"{name}: expected scores that vary, got the constant {y[0]:g} for every window: "
            "there is nothing to regress."
        )
    as_trained = y.astype(np.float32)
    if y.size and np.all(as_trained == as_trained[0]):
        raise DataError(
            f"{name}: expected scores that vary in float32, the precision training uses, got "
            f"scores that all round to {as_trained[0]:g}; rescale them (e.g. to z-scores)."
        )
    return y


def load_groups(path: PathLike) -> np.ndarray:
    """Subject ids as an (N,) array in RAM: ints, strings (bytes decoded as UTF-8; every id
    valid Unicode, as the outputs are UTF-8), or floats (exact integral ones -> int64)."""
    name = os.fspath(path)
    groups = open_npy(path, "groups")
    if groups.ndim != 1:
        raise DataError(
            f"{name}: expected groups of shape (N,), one subject id per window, got shape "
            f"{groups.shape}."
        )
    if groups.dtype.kind not in GROUP_KINDS:
        raise DataError(
            f"{name}: expected integer or string subject ids, got dtype {groups.dtype}."
        )
    groups = np.array(groups)
    if groups.dtype.kind == "S":  # bytes: ids are written to JSON files, so as text
        try:
            groups = np.char.decode(groups, "utf-8")
        except UnicodeDecodeError:
            raise DataError(
                f"{name}: expected subject ids as numbers or UTF-8 text, got bytes that are "
                "not UTF-8; save the ids as str or int."
            ) from None
    if groups.dtype.kind == "U":
        check_text_ids(groups, name)
    if groups.dtype.kind == "f":
        groups = float_ids(groups, name)
    return groups


def check_text_ids(groups: np.ndarray, name: str) -> None:
    """Refuse string ids (N,) holding a code point UTF-8 cannot hold (a lone surrogate such
    as U+D800, or one past U+10FFFF): the outputs write ids as UTF-8, so this must fail
    here, not after the whole cross-validation."""
    order = groups.dtype.byteorder if groups.dtype.byteorder in "<>" else "="
    codes = np.ascontiguousarray(groups).view(np.dtype(f"{order}u4")).reshape(len(groups), -1)
    bad = ((codes >= 0xD800) & (codes <= 0xDFFF)) | (codes > 0x10FFFF)
    if bad.any():
        window = int(np.argmax(bad.any(axis=1)))
        code = int(codes[window][bad[window]][0])
        raise DataError(
            f"{name}: expected subject ids as valid Unicode text, got code point U+{code:04X} "
            f"in the id of window {window}, which UTF-8 cannot hold (a lone surrogate or past "
            "U+10FFFF); save clean text or int ids."
        )


def float_ids(groups: np.ndarray, name: str) -> np.ndarray:
    """Floating ids (N,): int64 when all are integral and exactly representable, else as
    given (1e300 and 2e300 must not both become the same int64)."""
    finite = np.isfinite(groups)
    if not finite.all():
        raise DataError(
            f"{name}: expected integer or string subject ids, got a NaN or inf id in "
            f"window {int(np.argmin(finite))}."
        )
    exact = np.all(groups == np.round(groups)) and np.all(np.abs(groups) <= MAX_EXACT_FLOAT_ID)
    return groups.astype(np.int64) if exact else groups


def load_dataset(
    x_path: PathLike, y_path: PathLike, groups_path: PathLike | None = None
) -> EEGDataset:
    """Load and check X, y and (optionally) subject ids from ``.npy`` files.

    Parameters
    ----------
    x_path : str or path-like
        EEG windows, (N, 1, C, T) or (N, C, T), real dtype; memory-mapped, never copied.
    y_path : str or path-like
        Scores, (N,) or (N, 1), real dtype.
    groups_path : str or path-like, optional
        Subject ids, (N,), ints or strings.

    Returns
    -------
    EEGDataset
        ``x`` a read-only memory map (N, 1, C, T), ``y`` float64 (N,), ``groups`` (N,) or None,
        ``meta`` the ``meta.json`` beside X or None.

    Raises
    ------
    DataError
        One line naming the file, what was expected and what was found.
    """
    x_name, y_name = os.fspath(x_path), os.fspath(y_path)
    groups_name = "" if groups_path is None else os.fspath(groups_path)
    # Cheap checks on every file first, so a bad y is reported before a long scan of X.
    x = load_x(x_path, scan=False)
    y = load_y(y_path)
    n = x.shape[0]
    if len(y) != n:
        raise DataError(
            f"{y_name}: expected one score per window of {x_name} ({n} windows), got "
            f"{len(y)} scores."
        )
    groups = None
    if groups_path is not None:
        groups = load_groups(groups_path)
        if len(groups) != n:
            raise DataError(
                f"{groups_name}: expected one subject id per window of {x_name} ({n} windows), "
                f"got {len(groups)} ids."
            )
    meta = read_meta(x_path, x.shape)
    check_finite(x, x_name, "X", limit=MAX_ABS_X)
    source = ", ".join(name for name in (x_name, y_name, groups_name) if name)
    return EEGDataset(x, y, groups, source, x_name, y_name, groups_name, meta=meta)


def load_windows(path: PathLike) -> EEGDataset:
    """Windows to predict on (no scores): a dataset whose ``y`` is all NaN, with the
    ``meta.json`` beside them (or None)."""
    x = load_x(path)
    name = os.fspath(path)
    meta = read_meta(path, x.shape)
    return EEGDataset(x=x, y=np.full(x.shape[0], np.nan), source=name, x_name=name, meta=meta)


def check_for_cv(dataset: EEGDataset, n_folds: int, min_n_times: int) -> None:
    """Check the data can feed an ``n_folds``-fold CV of a model needing ``min_n_times``.

    Every outer training part gives up an inner validation split, so it needs at least two
    windows, and with subject ids two subjects: hence at least ``2 * n_folds`` windows and
    ``n_folds + 2`` subjects (with ``n_folds + 1`` a two-subject test fold can leave a single
    training subject).

    Parameters
    ----------
    dataset : EEGDataset
    n_folds : int
        Outer folds, >= 2.
    min_n_times : int
        Shortest window T (samples) the model accepts.

    Raises
    ------
    ValueError
        ``n_folds`` < 2.
    DataError
        Too few windows or subjects for ``n_folds``, or windows shorter than ``min_n_times``.
    """
    if n_folds < 2:
        raise ValueError(f"folds must be >= 2, got {n_folds}.")
    x_name = dataset.x_name or dataset.source or "data"
    n = dataset.n_samples
    if n < 2 * n_folds:
        fix = f"use --folds {n // 2} or fewer" if n >= 4 else "collect at least 4 windows"
        raise DataError(
            f"{x_name}: expected at least {2 * n_folds} windows for {n_folds} folds (each "
            f"training part needs an inner validation split), got {n}; {fix}."
        )
    if dataset.groups is not None:
        groups_name = dataset.groups_name or dataset.source or "groups"
        n_groups = len(np.unique(dataset.groups))
        if n_groups < n_folds + 2:
            fix = (
                f"use --folds {n_groups - 2} or fewer"
                if n_groups >= 4
                else "collect at least 4 subjects"
            )
            raise DataError(
                f"{groups_name}: expected at least {n_folds + 2} subjects for {n_folds} "
                "subject-disjoint folds with an inner validation split, got "
                f"{n_groups}; {fix}."
            )
    check_window_length(dataset, min_n_times)


def check_window_length(dataset: EEGDataset, min_n_times: int) -> None:
    """Raise :class:`DataError` when the windows are shorter than ``min_n_times`` samples,
    the shortest the model's temporal kernel and pooling accept."""
    if dataset.n_times < min_n_times:
        x_name = dataset.x_name or dataset.source or "data"
        raise DataError(
            f"{x_name}: expected windows of at least {min_n_times} samples for the model's "
            f"temporal kernel and pooling, got T={dataset.n_times}; use longer windows or a "
            "smaller temporal_kernel/pool_size."
        )
