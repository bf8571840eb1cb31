"""A ``.npy`` file written row block by row block, its row count fixed at the end.

The file is sized for the most rows it can get (:func:`numpy.lib.format.open_memmap`), and
rows are then written with plain file writes, not through the map: the dirty pages of a
memory map count as the writing process's resident memory, so a map would grow it to the
size of the output. :meth:`NpyRowWriter.finish` rewrites the header with the rows actually
written and truncates the rest: NumPy pads a header so that its first axis can grow to 21
digits, so the header keeps its length and the data its offset.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class NpyRowWriter:
    """Append rows of shape ``row_shape`` to a ``.npy`` file of at most ``max_rows`` rows.

    Parameters
    ----------
    path : Path
        The file to create (replaced if present).
    row_shape : tuple of int
        Shape of one row, e.g. ``(1, C, T)``.
    dtype : numpy dtype
        Stored dtype; appended rows are converted to it.
    max_rows : int
        Most rows the file will hold (>= 0).
    """

    def __init__(self, path: Path, row_shape: tuple[int, ...], dtype: np.dtype, max_rows: int):
        self.path = path
        self.row_shape = tuple(row_shape)
        self.dtype = np.dtype(dtype)
        sized = np.lib.format.open_memmap(
            path, mode="w+", dtype=self.dtype, shape=(max_rows, *self.row_shape)
        )
        self.offset = int(sized.offset)  # bytes before the data: the header's length
        del sized  # nothing was written through the map: the file is sparse, not in RAM
        self.max_rows = max_rows
        self.rows = 0
        self.handle = open(path, "r+b")  # closed by finish or close
        self.handle.seek(self.offset)

    def append(self, rows: np.ndarray) -> None:
        """Write ``rows`` (n, *row_shape) after those already written."""
        if rows.shape[1:] != self.row_shape or self.rows + len(rows) > self.max_rows:
            raise ValueError(
                f"rows must have shape (n, {self.row_shape}) with at most "
                f"{self.max_rows - self.rows} more rows, got {rows.shape}."
            )
        self.handle.write(np.ascontiguousarray(rows, dtype=self.dtype).data)
        self.rows += len(rows)

    def finish(self) -> None:
        """Fix the header at the rows written, drop the unused space and close the file."""
        header = {
            "descr": np.lib.format.dtype_to_descr(self.dtype),
            "fortran_order": False,
            "shape": (self.rows, *self.row_shape),
        }
        self.handle.seek(0)
        np.lib.format.write_array_header_1_0(self.handle, header)
        if self.handle.tell() != self.offset:
            raise RuntimeError(f"{self.path}: the rewritten .npy header changed length.")
        self.handle.truncate(self.offset + self.rows * self.dtype.itemsize * self.row_size)
        self.close()

    @property
    def row_size(self) -> int:
        """Values in one row."""
        return int(np.prod(self.row_shape, dtype=np.int64))

    def close(self) -> None:
        """Close the file without fixing it (a failed run removes it)."""
        self.handle.close()
