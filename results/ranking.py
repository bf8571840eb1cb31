"""Rank complete trials and baselines by fold-averaged objectives; pick the best configs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from centerir.contract import (
    DEFAULT_OBJECTIVE,
    ROLE,
    STATUS,
    Role,
    Status,
    objective_mode,
    std_key,
)
from results.pareto import as_minimised, front_numbers

CANDIDATE_ROLES = (str(Role.SEARCH), str(Role.PUBLISHED))  # what may be called "best"


def rank(frame: pd.DataFrame, objective: str = DEFAULT_OBJECTIVE, *more: str) -> pd.DataFrame:
    """Complete trials and baselines, best first by ``objective`` (ties: lower std); with
    ``more`` objectives, by Pareto front first.

    Only rows whose status is complete are kept, so a running, pruned or diverged trial's
    partial value never competes. A 1-based ``rank`` column numbers the candidates (searched
    and published configurations with a value of every objective); baseline rows (plain MSE,
    mean and median predictors) stay in the order at their place, with no rank, and can
    never be best; rows without a value (e.g. ``many_mae`` with no many-shot test window in
    any fold) come last, unranked.

    With several objectives a ``front`` column gives each candidate's non-dominated front
    (``results.pareto``; 1 is the Pareto front), candidates are ordered by front and then by
    ``objective``, and the baselines follow, by ``objective``. The best is the front-1
    candidate with the best ``objective``.
    """
    objectives = (objective, *more)
    complete = frame[frame[STATUS] == Status.COMPLETE]
    ascending = objective_mode(objective) == "min"
    ranked = complete.sort_values(
        [objective, std_key(objective)], ascending=[ascending, True], kind="stable"
    ).reset_index(drop=True)
    is_candidate = ranked[ROLE].isin(CANDIDATE_ROLES) & ranked[list(objectives)].notna().all(axis=1)
    if more:
        fronts = pd.Series(pd.NA, index=ranked.index, dtype="Int64")
        fronts[is_candidate] = front_numbers(as_minimised(ranked[is_candidate], objectives))
        ranked.insert(0, "front", fronts)
        order = np.lexsort((ranked.index, fronts.fillna(len(ranked) + 1).to_numpy(int)))
        ranked = ranked.iloc[order].reset_index(drop=True)
        is_candidate = ranked["front"].notna()
    ranks = pd.Series(pd.NA, index=ranked.index, dtype="Int64")
    ranks[is_candidate] = range(1, int(is_candidate.sum()) + 1)
    ranked.insert(0, "rank", ranks)
    return ranked


def front(ranked: pd.DataFrame, number: int = 1) -> pd.DataFrame:
    """The candidates on Pareto front ``number`` of a multi-objective ranking, best first."""
    return ranked[ranked["front"] == number].reset_index(drop=True)


def candidates(ranked: pd.DataFrame) -> pd.DataFrame:
    """The ranked rows that may be best (no baselines), best first."""
    return ranked[ranked["rank"].notna()].reset_index(drop=True)


def best_configs(ranked: pd.DataFrame, n: int = 1) -> list[dict[str, Any]]:
    """The full configs of the ``n`` best candidates (``centerir train --config`` form)."""
    return [dict(config) for config in candidates(ranked)["config"].head(n)]
