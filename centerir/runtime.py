"""Process-wide settings for training in this process, made in one place at start-up."""

from __future__ import annotations

import torch

from centerir.cpu_math import resolve_vector_math


def configure_runtime(threads: int | None = None) -> None:
    """Set torch's intra-op threads (``None``: torch's default) and resolve MKL's
    vector-math dispatch on one thread, so the same seed gives the same model in every
    process (see :mod:`centerir.cpu_math`). Call it before the first model is built."""
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}.")
        torch.set_num_threads(threads)
    resolve_vector_math()
