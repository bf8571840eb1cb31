"""Plain-text views of a ranking for the terminal."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from centerir.contract import (
    CENTERIR_SHARE,
    FOLDS_DONE,
    FOLDS_TOTAL,
    MESSAGE,
    MODEL_FREE_ROLES,
    PUBLISHED,
    ROLE,
    ROLE_LABELS,
    STATUS,
    Role,
    Status,
    folds_key,
    std_key,
)
from results.experiment import trials_only
from results.pareto import dominating_rows
from results.ranking import candidates, front

SHOWN_METRICS = ("mae", "subject_mae", "balanced_mae", "few_mae", "r2")
PARAMETER_COLUMNS = ("lr", "boundaries", "k", "lambda")


def table_columns(ranked: pd.DataFrame, objectives: Sequence[str]) -> list[str]:
    """Rank (and Pareto front), each objective and its std, the other shown metrics that
    hold any value, the CenterIR share, the hyperparameters, the trial id."""
    metrics = [column for name in objectives for column in (name, std_key(name))]
    metrics += [m for m in SHOWN_METRICS if m not in objectives and ranked[m].notna().any()]
    fronts = ["front"] if "front" in ranked else []
    return ["rank", *fronts, *metrics, CENTERIR_SHARE, *PARAMETER_COLUMNS, "trial_id"]


def fold_summary(row: pd.Series, objective: str) -> str:
    """``"2.012 ± 0.141 [1.850, 2.204]"``: mean ± std over folds [lowest, highest fold]."""
    values = row.get(folds_key(objective))
    folds = np.asarray(values if isinstance(values, list) else [], dtype=float)
    folds = folds[np.isfinite(folds)]  # a fold with no window in a region has no value
    spread = f" [{folds.min():.4g}, {folds.max():.4g}]" if folds.size else ""
    return f"{row[objective]:.4g} ± {row[std_key(objective)]:.3g}{spread}"


def format_front(ranked: pd.DataFrame, objectives: Sequence[str]) -> list[str]:
    """The Pareto front (front 1) of a multi-objective ranking: each configuration with every
    objective's fold mean, std and range, and the baselines that dominate it; a warning
    first when a constant predictor (mean or median) dominates the whole front."""
    shown = front(ranked)
    if shown.empty:
        return []
    baselines = ranked[ranked["rank"].isna() & ranked[list(objectives)].notna().all(axis=1)]
    dominators = [dominating_rows(row, baselines, objectives) for _, row in shown.iterrows()]
    table = pd.DataFrame(
        {
            "rank": shown["rank"],
            **{
                name: [fold_summary(row, name) for _, row in shown.iterrows()]
                for name in objectives
            },
            **{key: shown[key] for key in PARAMETER_COLUMNS},
            "trial_id": shown_rows(shown, len(shown))["trial_id"],
            "dominated by": [", ".join(labels(rows)) for rows in dominators],
        }
    )
    lines = [
        f"Pareto front on {', '.join(objectives)}: {len(shown)} of "
        f"{int(ranked['rank'].notna().sum())} complete configurations, none beaten on every "
        "objective by another (fold mean ± std [lowest, highest fold]; selection-biased CV "
        f"values); the exported best is the front's best {objectives[0]}:",
        table.to_string(index=False, float_format=lambda v: f"{v:.4g}"),
    ]
    constants = [str(role) for role in MODEL_FREE_ROLES]
    if all(rows[ROLE].isin(constants).any() for rows in dominators):
        lines.insert(
            0,
            "WARNING: predicting a constant (the training mean or median) dominates every "
            f"configuration on the Pareto front (no worse on each of {', '.join(objectives)}, "
            "better on one): the search found nothing usable.",
        )
    return lines


def labels(rows: pd.DataFrame) -> list[str]:
    """The role labels of baseline rows (``["mean predictor", ...]``)."""
    return [ROLE_LABELS[Role(role)].strip("()") for role in rows[ROLE]]


def shown_rows(ranked: pd.DataFrame, top: int) -> pd.DataFrame:
    """The top ``top`` candidates and every baseline row, in ranking order, labelled."""
    top_ids = set(candidates(ranked)["trial_id"].head(top))
    keep = ranked["trial_id"].isin(top_ids) | ranked["rank"].isna()
    shown = ranked[keep].copy()
    for column in ("rank", "front"):
        if column in shown:
            shown[column] = shown[column].astype(object).where(shown[column].notna(), "-")
    shown["k"] = shown["k"].astype(str).replace("None", "")
    labels = shown[ROLE].map(lambda role: ROLE_LABELS[Role(role)])
    shown["trial_id"] = (shown["trial_id"] + " " + labels).str.strip()
    return shown


def format_ranking(
    ranked: pd.DataFrame, frame: pd.DataFrame, objectives: Sequence[str], top: int = 5
) -> str:
    """Top ``top`` complete configurations with the baselines among them, the published
    config's rank, and the other trials by status."""
    objective = objectives[0]
    order = (
        f"by Pareto front, then fold-averaged {objective}"
        if len(objectives) > 1
        else f"by fold-averaged {objective}"
    )
    n_candidates = len(candidates(ranked))
    trials = trials_only(frame)
    lines = [
        f"{n_candidates} of {len(trials[trials[ROLE] != str(Role.PLAIN_MSE)])} searched trials "
        f"complete; top {min(top, n_candidates)} {order} (mean over CV "
        "folds, ± std; selection-biased: chosen on these same folds), with the baselines:"
    ]
    if len(ranked):
        shown = shown_rows(ranked, top)
        lines.append(
            shown.loc[:, table_columns(ranked, objectives)].to_string(
                index=False, float_format=lambda v: f"{v:.4g}", na_rep=""
            )
        )
    valueless = ranked[ranked[list(objectives)].isna().any(axis=1)]
    if len(valueless):
        lines.append(
            f"WARNING: {len(valueless)} complete row(s) have no {' or '.join(objectives)} (no "
            "test window in that region in any fold): they are not ranked; choose other "
            "--objectives."
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
