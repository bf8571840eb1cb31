"""The held-out subjects' scores: unbiased, beside the selection-biased CV numbers."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from centerir.contract import (
    BEST_REFIT,
    HOLDOUT_FILE,
    METRICS,
    REFITS,
    ROLE,
    HeldOutScore,
    Role,
    Status,
    UserError,
)
from results.experiment import ExperimentError
from results.files import read_study_file
from results.ranking import candidates
from results.report_values import metric_problem

SCORE_KEYS = tuple(str(key) for key in REFITS)  # what HOLDOUT_FILE's scores are keyed by
NAMES = {
    BEST_REFIT: "best configuration",
    Role.PUBLISHED: "published configuration",
    Role.PLAIN_MSE: "plain MSE (no CenterIR)",
    Role.MEAN_PREDICTOR: "mean predictor",
}


def load_holdout(experiment: Path) -> dict[str, Any] | None:
    """``HOLDOUT_FILE`` with its ``scores`` as :class:`HeldOutScore` (None if no file)."""
    path = experiment / HOLDOUT_FILE
    saved = read_study_file(experiment, HOLDOUT_FILE, "held-out subjects and scores")
    if saved is None:
        return None
    if (
        not isinstance(saved, dict)
        or not isinstance(saved.get("subjects"), list)
        or not isinstance(saved.get("reason"), str)
        or not isinstance(saved.get("scores"), dict)
    ):
        raise ExperimentError(
            f"{path}: expected held-out 'subjects' (a list), 'reason' and 'scores' (a table), "
            "got a broken file."
        )
    scores = {}
    for key, value in saved["scores"].items():
        if key not in SCORE_KEYS:
            raise ExperimentError(
                f"{path}: expected scores of {', '.join(SCORE_KEYS)}, got {key!r:.60}."
            )
        try:
            scores[key] = HeldOutScore.from_dict(value)
        except UserError as err:
            raise ExperimentError(f"{path}: {err}") from None
        problem = score_problem(scores[key])
        if problem:
            raise ExperimentError(f"{path}: scores {key}: expected {problem}.")
    saved["scores"] = scores
    return saved


def score_problem(score: HeldOutScore) -> str | None:
    """What is wrong with a held-out score's metrics or intervals (None: nothing): a name
    that is no metric, a value the metric cannot take, an interval whose ends are reversed."""
    named = [*score.metrics, *score.intervals]
    strange = next((name for name in named if name not in METRICS), None)
    if strange is not None:
        return f"metrics named as in {', '.join(METRICS)}, got {strange!r:.60}"
    for name, (low, high) in score.intervals.items():
        if low > high:
            return f"{name}'s interval as [low, high], got [{low!r}, {high!r}]"
    values = [
        *score.metrics.items(),
        *((name, end) for name, ends in score.intervals.items() for end in ends),
    ]
    return next(filter(None, (metric_problem(name, value) for name, value in values)), None)


def cv_value(ranked: pd.DataFrame, key: str, score: HeldOutScore, objective: str) -> float:
    """The CV value (selection-biased) of the row a held-out score belongs to."""
    if key == BEST_REFIT:
        rows = ranked[ranked["trial_id"] == score.trial_id]
    else:
        rows = ranked[ranked[ROLE] == str(key)]
    return float(rows[objective].iloc[0]) if len(rows) else math.nan


def interval(score: HeldOutScore, metric: str) -> str:
    """'2.31 [1.84, 2.90]' (value and 95 % bootstrap interval), '' when unknown."""
    value = score.metrics.get(metric, math.nan)
    if value is None or math.isnan(value):
        return ""
    low, high = score.intervals.get(metric, (math.nan, math.nan))
    return f"{value:.3f} [{low:.2f}, {high:.2f}]"


def holdout_lines(
    holdout: dict[str, Any] | None, ranked: pd.DataFrame, objective: str
) -> list[str]:
    """The hold-out section of a study's summary: what was held out, the side-by-side table
    of CV (selection-biased) and held-out (unbiased) scores, and the verdict."""
    if holdout is None:
        return ["held-out subjects: none (no --holdout): every number above is selection-biased."]
    if not holdout["subjects"]:
        return [
            f"held-out subjects: none ({holdout['reason']}); every number above is "
            "selection-biased."
        ]
    scores: dict[str, HeldOutScore] = holdout["scores"]
    lines = [
        f"held-out subjects: {holdout['reason']}, never seen by the search; each row refitted "
        "once on all tuning subjects (epoch picked on an inner subject-wise split) and scored "
        "once on them:"
    ]
    rows = []
    for key in REFITS:
        score = scores.get(str(key))
        if score is None:
            continue
        if score.status != Status.COMPLETE:
            rows.append({"": NAMES[key], "held-out": f"{score.status}: {score.message}"})
            continue
        rows.append(
            {
                "": f"{NAMES[key]} {score.trial_id}".strip(),
                f"CV {objective} (selection-biased)": cv_value(ranked, key, score, objective),
                "held-out MAE [95% CI] (unbiased)": interval(score, "mae"),
                "held-out subject MAE [95% CI]": interval(score, "subject_mae"),
                "mean prediction / held-out mean": f"{score.mean_prediction:.2f} / "
                f"{score.held_out_mean:.2f}",
            }
        )
    if rows:
        lines.append(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    missing = [NAMES[key] for key in REFITS if str(key) not in scores]
    if missing and not candidates(ranked).empty:
        lines.append(
            f"not yet scored on the held-out subjects: {', '.join(missing)} "
            "(resume the study to finish)"
        )
    lines += holdout_verdict(scores)
    return lines


def holdout_verdict(scores: dict[str, HeldOutScore]) -> list[str]:
    """Does the refitted best configuration beat the mean predictor on unseen subjects?"""
    best, mean = scores.get(BEST_REFIT), scores.get(str(Role.MEAN_PREDICTOR))
    if best is None or mean is None or best.status != Status.COMPLETE:
        return []
    metric = "subject_mae" if "subject_mae" in best.metrics else "mae"
    ours = best.metrics.get(metric, math.nan)
    theirs = mean.metrics.get(metric, math.nan)
    low, high = best.intervals.get(metric, (math.nan, math.nan))
    if math.isnan(ours) or math.isnan(theirs):
        return [f"the held-out {metric} of the best or of the mean predictor is unknown."]
    if ours >= theirs:
        return [
            f"WARNING: on the held-out subjects the best configuration is NO BETTER than "
            f"predicting the training mean ({metric} {ours:.3f} vs {theirs:.3f}): do not "
            "report it as a result."
        ]
    overlap = low <= theirs
    return [
        f"on the held-out subjects the best configuration beats predicting the training mean "
        f"({metric} {ours:.3f} [95% CI {low:.2f}, {high:.2f}] vs {theirs:.3f})"
        + (
            "; the interval reaches the mean predictor's value, so that is not certain."
            if overlap
            else "."
        )
    ]
