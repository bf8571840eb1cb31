"""Plain-words verdicts from paired tests over folds: is the best configuration better
than predicting the mean, does CenterIR beat plain MSE, is the best better than the
runner-up?

Every trial and baseline of a study ran the same folds (same seed, same subjects), so
their per-fold values pair, and the Wilcoxon signed-rank test asks whether one side's
fold-by-fold advantage could be chance. These verdicts are about the CV folds the search
selected on: they say nothing unbiased about new subjects (the hold-out does).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

from centerir.contract import (
    CENTERIR_SHARE,
    ROLE,
    ROLE_LABELS,
    Role,
    folds_key,
    objective_mode,
)
from results.ranking import candidates

ALPHA = 0.05
NEGLIGIBLE_SHARE = 1e-3  # CenterIR's pull below this share of MSE's changes next to nothing


@dataclass(frozen=True)
class Paired:
    """Two rows compared fold by fold on one metric (``a`` the one asked about)."""

    a: float  # fold-averaged value of a
    b: float
    wins: int  # folds where a is better
    n: int  # folds compared (both values known)
    p_value: float  # two-sided Wilcoxon signed-rank; NaN when not computable
    a_mean_better: bool = False  # a's fold-averaged value is the better one

    def evidence(self) -> str:
        """'better on 3 of 5 folds, Wilcoxon p = 0.31' and what that allows."""
        if self.n < 2 or math.isnan(self.p_value):
            return f"better on {self.wins} of {self.n} folds; too few folds for a test"
        floor = 2 * 0.5**self.n  # smallest two-sided p a signed-rank test can give
        text = (
            f"better on {self.wins} of {self.n} folds, Wilcoxon signed-rank p = {self.p_value:.3g}"
        )
        if floor >= ALPHA:
            text += f" (with {self.n} folds no test can go below p = {floor:.3g})"
        return text

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA


def compare(a: pd.Series, b: pd.Series, metric: str) -> Paired:
    """Rows ``a`` and ``b`` of a ranking, paired over their folds on ``metric``."""
    sign = 1.0 if objective_mode(metric) == "min" else -1.0
    a_folds = np.asarray(a[folds_key(metric)], dtype=float)
    b_folds = np.asarray(b[folds_key(metric)], dtype=float)
    if len(a_folds) != len(b_folds):
        return Paired(a[metric], b[metric], 0, 0, math.nan)
    known = ~(np.isnan(a_folds) | np.isnan(b_folds))
    gains = sign * (b_folds[known] - a_folds[known])  # > 0 where a is better
    p_value = math.nan
    if known.sum() >= 2:
        p_value = 1.0 if np.all(gains == 0) else float(wilcoxon(gains).pvalue)
    return Paired(
        a=float(a[metric]),
        b=float(b[metric]),
        wins=int((gains > 0).sum()),
        n=int(known.sum()),
        p_value=p_value,
        a_mean_better=bool(sign * (b[metric] - a[metric]) > 0),
    )


def label(row: pd.Series) -> str:
    """How a row is named in verdicts: its trial id and role label."""
    tag = ROLE_LABELS[Role(row[ROLE])]
    return " ".join(part for part in (row["trial_id"], tag) if part)


def verdicts(ranked: pd.DataFrame, objectives: Sequence[str]) -> list[str]:
    """The study's verdict lines, the most important first.

    If the best configuration is not shown to beat the mean predictor, that is the first
    line. Then CenterIR against plain MSE, the best against the runner-up (one objective
    only: with several, the Pareto front says more), and a note on trials whose CenterIR
    term pulled too weakly to matter. With several objectives the best is judged on each.
    """
    rows = candidates(ranked)
    if rows.empty:
        return []
    best = rows.iloc[0]
    by_role = {role: ranked[ranked[ROLE] == str(role)] for role in Role}
    mean = by_role[Role.MEAN_PREDICTOR]
    plain = by_role[Role.PLAIN_MSE]
    published = by_role[Role.PUBLISHED]
    lines = []
    for objective in objectives:
        if len(mean):
            lines.append(mean_verdict(best, mean.iloc[0], objective))
        if len(plain) and len(published):
            lines.append(centerir_verdict(published.iloc[0], plain.iloc[0], objective, "published"))
        if len(plain) and best[ROLE] != str(Role.PUBLISHED):
            lines.append(centerir_verdict(best, plain.iloc[0], objective, "best"))
    if len(objectives) == 1:
        lines.append(runner_up_verdict(rows, objectives[0]))
    weak = rows[rows[CENTERIR_SHARE] < NEGLIGIBLE_SHARE]
    if len(weak):
        lines.append(
            f"note: in {len(weak)} of {len(rows)} ranked configurations the CenterIR term "
            f"pulled on the features with under {NEGLIGIBLE_SHARE:g} of MSE's gradient "
            f"({CENTERIR_SHARE}): there it changed next to nothing, whatever lambda, "
            "boundaries and k were."
        )
    return lines


def mean_verdict(best: pd.Series, mean: pd.Series, objective: str) -> str:
    """Does the best configuration beat predicting the training mean?"""
    paired = compare(best, mean, objective)
    values = f"{objective} {paired.a:.4f} vs {paired.b:.4f}; {paired.evidence()}"
    if not paired.a_mean_better:
        return (
            f"WARNING: the best configuration ({label(best)}) is NO BETTER than predicting "
            f"the training mean on these folds ({values}): it has learnt nothing usable."
        )
    if not paired.significant:
        return (
            f"WARNING: the best configuration ({label(best)}) is not shown to beat predicting "
            f"the training mean ({values}): the difference could be chance."
        )
    return f"the best configuration ({label(best)}) beats predicting the training mean ({values})."


def centerir_verdict(row: pd.Series, plain: pd.Series, objective: str, which: str) -> str:
    """Does the CenterIR term help, against the same network trained with MSE alone?"""
    paired = compare(row, plain, objective)
    outcome = (
        "helps"
        if paired.a_mean_better and paired.significant
        else "is not shown to help"
        if paired.a_mean_better
        else "does not help"
    )
    return (
        f"CenterIR ({which} configuration, {label(row)}) {outcome} against plain MSE "
        f"(lambda 0, {label(plain)}): {objective} {paired.a:.4f} vs {paired.b:.4f}; "
        f"{paired.evidence()}."
    )


def runner_up_verdict(rows: pd.DataFrame, objective: str) -> str:
    """Is rank 1 really better than rank 2?"""
    if len(rows) < 2:
        return "only one complete configuration: nothing to compare it with."
    best, second = rows.iloc[0], rows.iloc[1]
    paired = compare(best, second, objective)
    head = (
        f"best ({label(best)}) vs runner-up ({label(second)}): fold-averaged {objective} "
        f"{paired.a:.4f} vs {paired.b:.4f}"
    )
    if paired.n == 0:
        return f"{head}; their folds differ, so no paired test."
    if paired.p_value == 1.0 and paired.wins == 0:
        return f"{head}; identical on every fold: indistinguishable."
    verdict = (
        "the difference is unlikely to be chance"
        if paired.significant
        else "the difference could well be chance: treat them as equally good"
    )
    return f"{head}; {paired.evidence()}: {verdict}."
