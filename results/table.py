"""Plain-text views of a ranking for the terminal."""

from __future__ import annotations

import pandas as pd

TABLE_COLUMNS = (
    "rank",
    "mae",
    "mae_std",
    "balanced_mae",
    "few_mae",
    "r2",
    "lr",
    "boundaries",
    "k",
    "lambda",
    "trial_id",
)


def format_ranking(ranked: pd.DataFrame, frame: pd.DataFrame, top: int = 5) -> str:
    """Top ``top`` complete trials, the published config's rank, and the other trials by status."""
    lines = [
        f"{len(ranked)} of {len(frame)} trials complete; top {min(top, len(ranked))} "
        "by fold-averaged MAE (mean over folds, ± std):"
    ]
    if len(ranked):
        shown = ranked.head(top).copy()
        shown["k"] = shown["k"].astype(str)
        shown["trial_id"] = shown["trial_id"] + shown["is_paper"].map({True: " (paper)", False: ""})
        lines.append(
            shown.loc[:, list(TABLE_COLUMNS)].to_string(
                index=False, float_format=lambda v: f"{v:.4g}"
            )
        )
    paper = ranked[ranked["is_paper"]]
    if len(paper):
        lines.append(
            f"published configuration (lr 1e-4, 16 bins, k 1-3-5-15, lambda 5e-8): "
            f"rank {int(paper['rank'].iloc[0])} of {len(ranked)}, "
            f"MAE {paper['mae'].iloc[0]:.4f}"
        )
    others = frame[frame["status"] != "complete"]
    for status, group in others.groupby("status"):
        lines.append(f"{status}: {len(group)} trial(s)")
        for _, row in group.iterrows():
            done = f"{row['folds_done']}/{row['folds_total']} folds"
            reason = f": {row['message']}" if row["message"] else ""
            lines.append(f"  {row['trial_id']} ({done}){reason}")
    return "\n".join(lines)
