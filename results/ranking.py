"""Rank complete trials by fold-averaged MAE and pick the best configs."""

from __future__ import annotations

from typing import Any

import pandas as pd


def rank(frame: pd.DataFrame) -> pd.DataFrame:
    """Complete trials, best first: lowest fold-averaged MAE, ties broken by lower std.

    Only trials whose last report is ``status == "complete"`` are ranked, so a running,
    pruned or diverged trial's partial MAE never competes. Adds a 1-based ``rank`` column.
    """
    complete = frame[frame["status"] == "complete"]
    ranked = complete.sort_values(["mae", "mae_std"], kind="stable").reset_index(drop=True)
    ranked.insert(0, "rank", range(1, len(ranked) + 1))
    return ranked


def best_configs(ranked: pd.DataFrame, n: int = 1) -> list[dict[str, Any]]:
    """The full configs of the ``n`` best ranked trials (``centerir train --config`` form)."""
    return [dict(config) for config in ranked["config"].head(n)]
