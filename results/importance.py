"""Which hyperparameters mattered: the study's complete trials as an in-memory Optuna study,
scored by Optuna's fANOVA importance evaluator, drawn as bars here and as Optuna's
parallel-coordinates plot."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import optuna
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.visualization import matplotlib as optuna_plots

from centerir.contract import SEARCHABLE_KEYS, optuna_direction
from results.ranking import candidates

MIN_TRIALS = 4  # fewer complete trials say nothing about importance
LOG_KEYS = ("lr", "lambda")  # searched on a log scale
INT_KEYS = ("boundaries", "batch_size")
IMPORTANCE_SEED = 0  # fANOVA fits a random forest: seeded, the same study gives the same answer


def distribution(key: str, values: pd.Series) -> BaseDistribution | None:
    """The range ``values`` of hyperparameter ``key`` span, as an Optuna distribution;
    None when it did not vary (nothing to attribute to it)."""
    if values.nunique() < 2:
        return None
    if key == "k":
        return CategoricalDistribution(sorted(values.astype(str).unique()))
    if key in INT_KEYS:
        return IntDistribution(int(values.min()), int(values.max()))
    low, high = float(values.min()), float(values.max())
    return FloatDistribution(low, high, log=key in LOG_KEYS and low > 0)


def trials_study(
    ranked: pd.DataFrame, objectives: Sequence[str]
) -> tuple[optuna.Study | None, str]:
    """The complete candidate trials of a ranking (``results.ranking.rank``) as an
    in-memory Optuna study of ``objectives`` (named) over the hyperparameters that varied,
    and a line saying what it holds; None (and why) when there are fewer than
    ``MIN_TRIALS`` or nothing varied."""
    trials = candidates(ranked)
    if len(trials) < MIN_TRIALS:
        return None, f"needs at least {MIN_TRIALS} complete trials, got {len(trials)}"
    spans = {key: distribution(key, trials[key]) for key in SEARCHABLE_KEYS}
    spans = {key: span for key, span in spans.items() if span is not None}
    if not spans:
        return None, "no hyperparameter varied between the complete trials"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=[optuna_direction(name) for name in objectives])
    with warnings.catch_warnings():  # Optuna marks it experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names(list(objectives))
    for _, row in trials.iterrows():
        params = {key: cast(key, row[key]) for key in spans}
        study.add_trial(
            optuna.trial.create_trial(
                params=params,
                distributions=spans,
                values=[float(row[name]) for name in objectives],
            )
        )
    return study, f"Optuna's fANOVA over {len(trials)} complete trials"


def cast(key: str, value) -> str | int | float:
    """A frame cell as the Python value its distribution takes."""
    if key == "k":
        return str(value)
    return int(value) if key in INT_KEYS else float(value)


# per objective, each hyperparameter's share; and how they were obtained (or why none)
Importances = tuple[dict[str, dict[str, float]], str]


def param_importances(ranked: pd.DataFrame, objectives: Sequence[str]) -> Importances:
    """For each objective, each varied hyperparameter's share (summing to 1) of that
    objective's variance over the complete trials, most important first, and a line saying
    how they were obtained (or why there are none: then an empty dict)."""
    study, how = trials_study(ranked, objectives)
    if study is None:
        return {}, how
    constant = [name for name in objectives if candidates(ranked)[name].nunique() < 2]
    if constant:  # fANOVA has no variance to share out
        return {}, f"every complete trial has the same {constant[0]}"
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=IMPORTANCE_SEED)
    return {
        name: optuna.importance.get_param_importances(
            study, evaluator=evaluator, target=lambda trial, i=i: trial.values[i]
        )
        for i, name in enumerate(objectives)
    }, how


def importance_lines(importances: Importances, objectives: Sequence[str]) -> list[str]:
    """The importances (:func:`param_importances`) as one summary line per objective,
    labelled for what they are."""
    shares, how = importances
    if not shares:
        return [f"hyperparameter importance for {', '.join(objectives)}: none ({how})."]
    return [
        f"hyperparameter importance for {name} ({how}; share of its variance, a rough "
        f"guide with few trials): {', '.join(f'{key} {v:.2f}' for key, v in shares[name].items())}"
        for name in objectives
    ]


def no_figure(message: str) -> Figure:
    """A small figure that says why there is no plot."""
    figure = Figure(figsize=(7, 1.2))
    figure.text(0.5, 0.5, message, ha="center", va="center")
    return figure


def optuna_figure(draw: Callable[[], Axes], width: float, height: float) -> Figure:
    """The figure of one of Optuna's matplotlib plots; its style change (ggplot, applied
    globally by Optuna) is undone afterwards, and its experimental warning silenced."""
    with warnings.catch_warnings(), plt.rc_context():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        figure = draw().figure
        figure.set_size_inches(width, height)
        figure.tight_layout()
    return figure


def importance_bars(importances: Importances, objectives: Sequence[str]) -> Figure:
    """The importances (:func:`param_importances`) as horizontal bars, one group per
    hyperparameter (most important for the first objective on top), one bar per objective.
    Drawn here rather than with Optuna's plot, whose multi-objective version labels every
    objective's bars in the last objective's order."""
    shares, how = importances
    if not shares:
        return no_figure(f"no importance plot: {how}")
    keys = list(shares[objectives[0]])[::-1]
    figure = Figure(figsize=(7, 1 + 0.6 * len(keys) * max(1, len(objectives) / 2)))
    ax = figure.subplots()
    height = 0.8 / len(objectives)
    for i, name in enumerate(objectives):
        positions = np.arange(len(keys)) + (len(objectives) - 1 - i) * height
        values = [shares[name][key] for key in keys]
        bars = ax.barh(positions, values, height=height, label=name)
        ax.bar_label(bars, fmt="%.2f", fontsize="small", padding=2)
    ax.set_yticks(np.arange(len(keys)) + height * (len(objectives) - 1) / 2, keys)
    ax.set(
        xlim=(0, 1.1),
        xlabel="share of the objective's variance (fANOVA)",
        title=f"Hyperparameter importance ({how})",
    )
    ax.legend(fontsize="small", loc="lower right")
    figure.tight_layout()
    return figure


def parallel_coordinates(ranked: pd.DataFrame, objectives: Sequence[str]) -> Figure:
    """Optuna's parallel-coordinates plot: each complete trial a line through its
    hyperparameters, coloured by the first objective (drawn from a study of that objective
    alone, so Optuna shades by its direction: the best trials darkest)."""
    study, how = trials_study(ranked, objectives[:1])
    if study is None:
        return no_figure(f"no parallel-coordinates plot: {how}")
    return optuna_figure(
        lambda: optuna_plots.plot_parallel_coordinate(study, target_name=objectives[0]), 9, 4.5
    )
