"""Resolve MKL's vector-math dispatch once, on one thread, before any parallel use.

PyTorch's CPU builds route contiguous float unary ops (``log``, ``exp``, ``sqrt``, ``tanh``,
...) to MKL VML, calling it from every intra-op thread on its own chunk. oneMKL picks each
function's kernel lazily on its first call; when that first call runs on several threads at
once, one thread can use a low-accuracy kernel for its chunk of that one call
(pytorch/pytorch#188792, oneMKL 2024.2). Here that was the first ``safe_log`` of a fresh
process with two torch threads: in about one process in eight to ten, the first batch's
features differed in the last bits, so the same seed trained to a slightly different model
(fold MAE 1.8720 instead of 1.8702 in one such run). One call of each function on a single
element, before training, resolves the dispatch on one thread; later calls are unchanged bit
for bit.
"""

from __future__ import annotations

import functools

import torch

# ATen's unary ops that MKL VML may serve (aten/src/ATen/cpu/vml.h), by torch name.
VML_UNARY_OPS = (
    "abs",
    "acos",
    "asin",
    "atan",
    "cos",
    "cosh",
    "erf",
    "erfc",
    "erfinv",
    "exp",
    "expm1",
    "lgamma",
    "log",
    "log10",
    "log1p",
    "log2",
    "sin",
    "sinh",
    "sqrt",
    "tan",
    "tanh",
    "trunc",
)


@functools.cache
def resolve_vector_math() -> None:
    """Call every VML-served op once on a 1-element float32 and float64 CPU tensor.

    Runs once per process (later calls return at once); takes about 3 ms.
    """
    with torch.no_grad():
        for dtype in (torch.float32, torch.float64):
            one = torch.full((1,), 0.5, dtype=dtype)
            for name in VML_UNARY_OPS:
                getattr(torch, name)(one)
