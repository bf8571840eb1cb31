"""A nested study's answer: the whole tuning procedure scored on outer folds it never saw.

Each outer fold is a study of its own (its folder inside the nested study's): the search
tunes on the other outer folds' subjects, and its best configuration, refitted, is scored
once on the outer fold's subjects. The mean of those scores estimates how well "tune
CenterIR with this search, then refit" does on new subjects: the number for a paper.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

from centerir.contract import (
    BEST_REFIT,
    SETTINGS_FILE,
    Role,
    Status,
    outer_fold_folder,
)
from results.experiment import study_settings
from results.files import within
from results.ranking import candidates
from results.summary import open_study

COMPARED = {
    BEST_REFIT: "tuned (best refitted)",
    str(Role.PUBLISHED): "published",
    str(Role.PLAIN_MSE): "plain MSE",
    str(Role.MEAN_PREDICTOR): "mean predictor",
}


def is_nested(settings: dict[str, Any]) -> bool:
    """Whether the settings are those of a nested study (one study per outer fold)."""
    return bool(settings.get("outer_folds"))


def outer_rows(path: Path, settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Per outer fold: the chosen configuration, its CV value and every outer-test score."""
    objective = settings["objective"]
    rows = []
    for number in range(1, settings["outer_folds"] + 1):
        sub = path / outer_fold_folder(path.name, number)
        row: dict[str, Any] = {"outer fold": number}
        if not os.path.lexists(sub / SETTINGS_FILE):
            rows.append({**row, "status": "not started"})
            continue
        study = open_study(within(path, sub, "an outer fold's study"))
        chosen = candidates(study.ranked)
        scores = (study.holdout or {}).get("scores", {})
        row["subjects"] = len((study.holdout or {}).get("subjects", []))
        if len(chosen):
            best = chosen.iloc[0]
            row.update({key: best[key] for key in ("lr", "boundaries", "k", "lambda")})
            row["boundaries"] = int(row["boundaries"])
            row[f"CV {objective}"] = best[objective]
        for key, label in COMPARED.items():
            score = scores.get(key)
            if score is not None and score.status == Status.COMPLETE:
                row[f"{label} MAE"] = score.metrics.get("mae", math.nan)
                row[f"{label} subject MAE"] = score.metrics.get("subject_mae", math.nan)
        row["status"] = "complete" if BEST_REFIT in scores else "running"
        rows.append(row)
    return rows


def nested_lines(path: Path) -> list[str]:
    """The nested study's summary: the outer-fold table, the procedure's outer MAE (mean ±
    std) beside the baselines', a paired test against the mean predictor, and how often the
    outer folds chose the same configuration."""
    settings = study_settings(path)
    rows = outer_rows(path, settings)
    table = pd.DataFrame(rows)
    n_outer = settings["outer_folds"]
    done = table[table["status"] == "complete"] if "status" in table else table.iloc[:0]
    lines = [
        f"nested CV: {len(done)} of {n_outer} outer folds complete; each outer fold tuned "
        "on the others' subjects only and scored once on its own (unbiased):",
        table.to_string(index=False, float_format=lambda v: f"{v:.4g}", na_rep=""),
    ]
    if done.empty:
        return lines
    for label in COMPARED.values():
        column = f"{label} MAE"
        if column in done and done[column].notna().any():
            values = done[column].dropna()
            subject = done.get(f"{label} subject MAE", pd.Series(dtype=float)).dropna()
            extra = (
                f"; subject MAE {subject.mean():.3f} ± {subject.std(ddof=1):.3f}"
                if len(subject) > 1
                else ""
            )
            spread = f" ± {values.std(ddof=1):.3f}" if len(values) > 1 else ""
            lines.append(
                f"outer-fold MAE of {label}: {values.mean():.3f}{spread} over {len(values)} "
                f"outer folds{extra}"
            )
    lines.insert(0, procedure_verdict(done))
    lines.append(agreement(done))
    return [line for line in lines if line]


def procedure_verdict(done: pd.DataFrame) -> str:
    """Does tuning beat predicting the training mean on the outer folds?"""
    ours, theirs = "tuned (best refitted) MAE", "mean predictor MAE"
    if ours not in done or theirs not in done:
        return ""
    pairs = done[[ours, theirs]].dropna()
    if pairs.empty:
        return ""
    wins = int((pairs[ours] < pairs[theirs]).sum())
    differences = pairs[theirs] - pairs[ours]
    p_value = math.nan
    if len(pairs) >= 2 and not np.all(differences == 0):
        p_value = float(wilcoxon(differences).pvalue)
    evidence = f"better on {wins} of {len(pairs)} outer folds, Wilcoxon p = {p_value:.3g}"
    if pairs[ours].mean() >= pairs[theirs].mean():
        return (
            f"WARNING: the tuning procedure is NO BETTER than predicting the training mean on "
            f"unseen subjects (outer MAE {pairs[ours].mean():.3f} vs "
            f"{pairs[theirs].mean():.3f}; {evidence})."
        )
    return (
        f"the tuning procedure beats predicting the training mean on unseen subjects (outer "
        f"MAE {pairs[ours].mean():.3f} vs {pairs[theirs].mean():.3f}; {evidence})."
    )


def agreement(done: pd.DataFrame) -> str:
    """How often the outer folds chose the same bins and k set, and the spread of lr and
    lambda they chose."""
    if "k" not in done or done["k"].isna().all():
        return ""
    choices = Counter(zip(done["boundaries"], done["k"], strict=True))
    (boundaries, k), count = choices.most_common(1)[0]
    return (
        f"configurations chosen: boundaries {boundaries} with k {k} in {count} of {len(done)} "
        f"outer folds; lr {done['lr'].min():.3g}..{done['lr'].max():.3g}, lambda "
        f"{done['lambda'].min():.3g}..{done['lambda'].max():.3g}"
    )
