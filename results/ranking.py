"""Rank complete trials and baselines by a fold-averaged objective; pick the best configs."""

from __future__ import annotations

from typing import Any

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

CANDIDATE_ROLES = (str(Role.SEARCH), str(Role.PUBLISHED))  # what may be called "best"


def rank(frame: pd.DataFrame, objective: str = DEFAULT_OBJECTIVE) -> pd.DataFrame:
    """Complete trials and baselines, best first by ``objective`` (ties: lower std).

    Only rows whose status is complete are kept, so a running, pruned or diverged trial's
    partial value never competes. A 1-based ``rank`` column numbers the candidates (searched
    and published configurations with a value of ``objective``); baseline rows (plain MSE,
    mean and median predictors) stay in the order at their place, with no rank, and can
    never be best; rows without a value (e.g. ``many_mae`` with no many-shot test window in
    any fold) come last, unranked.
    """
    complete = frame[frame[STATUS] == Status.COMPLETE]
    ascending = objective_mode(objective) == "min"
    ranked = complete.sort_values(
        [objective, std_key(objective)], ascending=[ascending, True], kind="stable"
    ).reset_index(drop=True)
    is_candidate = ranked[ROLE].isin(CANDIDATE_ROLES) & ranked[objective].notna()
    ranks = pd.Series(pd.NA, index=ranked.index, dtype="Int64")
    ranks[is_candidate] = range(1, int(is_candidate.sum()) + 1)
    ranked.insert(0, "rank", ranks)
    return ranked


def candidates(ranked: pd.DataFrame) -> pd.DataFrame:
    """The ranked rows that may be best (no baselines), best first."""
    return ranked[ranked["rank"].notna()].reset_index(drop=True)


def best_configs(ranked: pd.DataFrame, n: int = 1) -> list[dict[str, Any]]:
    """The full configs of the ``n`` best candidates (``centerir train --config`` form)."""
    return [dict(config) for config in candidates(ranked)["config"].head(n)]
