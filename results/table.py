"""Plain-text views of a ranking for the terminal."""

from __future__ import annotations

import pandas as pd

from centerir.contract import (
    CENTERIR_SHARE,
    FOLDS_DONE,
    FOLDS_TOTAL,
    MESSAGE,
    PUBLISHED,
    ROLE,
    ROLE_LABELS,
    STATUS,
    Role,
    Status,
    std_key,
)
from results.experiment import trials_only
from results.ranking import candidates

SHOWN_METRICS = ("mae", "subject_mae", "balanced_mae", "few_mae", "r2")
PARAMETER_COLUMNS = ("lr", "boundaries", "k", "lambda")


def table_columns(ranked: pd.DataFrame, objective: str) -> list[str]:
    """Rank, the objective and its std, the other shown metrics that hold any value, the
    CenterIR share, the hyperparameters, the trial id."""
    metrics = [objective, std_key(objective)]
    metrics += [m for m in SHOWN_METRICS if m != objective and ranked[m].notna().any()]
    return ["rank", *metrics, CENTERIR_SHARE, *PARAMETER_COLUMNS, "trial_id"]


def shown_rows(ranked: pd.DataFrame, top: int) -> pd.DataFrame:
    """The top ``top`` candidates and every baseline row, in ranking order, labelled."""
    top_ids = set(candidates(ranked)["trial_id"].head(top))
    keep = ranked["trial_id"].isin(top_ids) | ranked["rank"].isna()
    shown = ranked[keep].copy()
    shown["rank"] = shown["rank"].astype(object).where(shown["rank"].notna(), "-")
    shown["k"] = shown["k"].astype(str).replace("None", "")
    labels = shown[ROLE].map(lambda role: ROLE_LABELS[Role(role)])
    shown["trial_id"] = (shown["trial_id"] + " " + labels).str.strip()
    return shown


def format_ranking(ranked: pd.DataFrame, frame: pd.DataFrame, objective: str, top: int = 5) -> str:
    """Top ``top`` complete configurations with the baselines among them, the published
    config's rank, and the other trials by status."""
    n_candidates = len(candidates(ranked))
    trials = trials_only(frame)
    lines = [
        f"{n_candidates} of {len(trials[trials[ROLE] != str(Role.PLAIN_MSE)])} searched trials "
        f"complete; top {min(top, n_candidates)} by fold-averaged {objective} (mean over CV "
        "folds, ± std; selection-biased: chosen on these same folds), with the baselines:"
    ]
    if len(ranked):
        shown = shown_rows(ranked, top)
        lines.append(
            shown.loc[:, table_columns(ranked, objective)].to_string(
                index=False, float_format=lambda v: f"{v:.4g}", na_rep=""
            )
        )
    valueless = ranked[ranked[objective].isna()]
    if len(valueless):
        lines.append(
            f"WARNING: {len(valueless)} complete row(s) have no {objective} (no test window in "
            f"that region in any fold): they are not ranked; choose another --objective."
        )
    paper = ranked[(ranked[ROLE] == str(Role.PUBLISHED)) & ranked["rank"].notna()]
    if len(paper):
        lines.append(
            f"published configuration (lr {PUBLISHED['lr']:g}, {PUBLISHED['boundaries']} bins, "
            f"k {PUBLISHED['k']}, lambda {PUBLISHED['lambda']:g}): rank "
            f"{int(paper['rank'].iloc[0])} of {n_candidates}, {objective} "
            f"{paper[objective].iloc[0]:.4f}"
        )
    others = trials[trials[STATUS] != Status.COMPLETE]
    for status, group in others.groupby(STATUS):
        lines.append(f"{status}: {len(group)} trial(s)")
        for _, row in group.iterrows():
            done = f"{row[FOLDS_DONE]}/{row[FOLDS_TOTAL]} folds"
            reason = f": {row[MESSAGE]}" if row[MESSAGE] else ""
            lines.append(f"  {row['trial_id']} ({done}){reason}")
    return "\n".join(lines)
