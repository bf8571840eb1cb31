"""Non-dominated sorting of trials on several objectives (front 1 is the Pareto front).

Optuna sorts its own trials this way inside its samplers but offers no public function for
rows of a table, so the sort is written here (O(n² m) for n trials and m objectives: a
study has at most a few hundred complete trials).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from centerir.contract import objective_mode


def as_minimised(frame: pd.DataFrame, objectives: Sequence[str]) -> np.ndarray:
    """The objectives' values, negated where higher is better, so lower is better in every
    column. Shape (n_rows, n_objectives)."""
    values = frame.loc[:, list(objectives)].to_numpy(dtype=float)
    signs = np.array([1.0 if objective_mode(name) == "min" else -1.0 for name in objectives])
    return values * signs


def dominates(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether each row of ``a`` dominates the matching row of ``b`` (no worse on every
    objective, better on one; lower is better). Shapes (..., n_objectives) -> (...)."""
    return np.all(a <= b, axis=-1) & np.any(a < b, axis=-1)


def front_numbers(values: np.ndarray) -> np.ndarray:
    """The front of each point (1: dominated by none; 2: only by front 1; ...).

    Parameters
    ----------
    values : ndarray, shape (n_points, n_objectives)
        Finite values, lower is better in every column (see :func:`as_minimised`).

    Returns
    -------
    ndarray of int, shape (n_points,)
    """
    dominated_by = dominates(values[:, None, :], values[None, :, :])  # [i, j]: i dominates j
    fronts = np.zeros(len(values), dtype=int)
    remaining = np.ones(len(values), dtype=bool)
    number = 0
    while remaining.any():
        number += 1
        beaten = dominated_by[remaining][:, remaining].any(axis=0)
        current = np.flatnonzero(remaining)[~beaten]
        fronts[current] = number
        remaining[current] = False
    return fronts


def dominating_rows(
    row: pd.Series, others: pd.DataFrame, objectives: Sequence[str]
) -> pd.DataFrame:
    """The rows of ``others`` that dominate ``row`` on ``objectives``."""
    if others.empty:
        return others
    mine = as_minimised(row.to_frame().T, objectives)[0]
    theirs = as_minimised(others, objectives)
    return others[dominates(theirs, mine[None, :])]
