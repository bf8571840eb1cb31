"""Is the best trial really better than the runner-up? A paired test over their folds."""

from __future__ import annotations

import pandas as pd
from scipy.stats import wilcoxon

ALPHA = 0.05


def compare_top_two(ranked: pd.DataFrame) -> str:
    """One plain sentence on whether rank 1 beats rank 2, from their per-fold MAEs.

    Both trials ran the same folds (same seed), so their fold MAEs are paired; the
    Wilcoxon signed-rank test asks whether rank 1's fold-by-fold advantage could be chance.
    """
    if len(ranked) < 2:
        return "only one complete trial: nothing to compare it with."
    best, second = ranked.iloc[0], ranked.iloc[1]
    a, b = list(best["fold_maes"]), list(second["fold_maes"])
    gap = second["mae"] - best["mae"]
    head = (
        f"best ({best['trial_id']}) vs runner-up ({second['trial_id']}): "
        f"fold-averaged MAE {best['mae']:.4f} vs {second['mae']:.4f} (gap {gap:.4f})"
    )
    if len(a) != len(b) or len(a) < 2:
        return f"{head}; their folds differ, so no paired test."
    differences = [y - x for x, y in zip(a, b, strict=True)]
    if all(d == 0 for d in differences):
        return f"{head}; identical on every fold: indistinguishable."
    p_value = float(wilcoxon(a, b).pvalue)
    wins = sum(d > 0 for d in differences)
    verdict = (
        "the difference is unlikely to be chance"
        if p_value < ALPHA
        else "the difference could well be chance: treat them as equally good"
    )
    floor = 2 * 0.5 ** len(a)  # smallest two-sided p a signed-rank test can give
    note = f"; with {len(a)} folds no test can go below p = {floor:.3g}" if floor >= ALPHA else ""
    return (
        f"{head}; better on {wins} of {len(a)} folds, Wilcoxon signed-rank "
        f"p = {p_value:.3g}: {verdict}{note}."
    )
