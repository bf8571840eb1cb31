"""Figures of a study, each a function: DataFrame in, matplotlib Figure out."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only, no display needed

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from centerir.contract import (  # noqa: E402
    ROLE,
    ROLE_LABELS,
    STATUS,
    Role,
    Status,
    folds_key,
    objective_mode,
)
from results.ranking import CANDIDATE_ROLES, candidates  # noqa: E402

LOG_PARAMS = ("lr", "lambda")
BOX_PARAMS = ("k", "boundaries")
BASELINE_STYLES = {
    Role.MEAN_PREDICTOR: "tab:gray",
    Role.MEDIAN_PREDICTOR: "tab:brown",
    Role.PLAIN_MSE: "tab:green",
}


def searched(frame: pd.DataFrame) -> pd.DataFrame:
    """Complete trials that may be best (searched and published)."""
    return frame[(frame[STATUS] == Status.COMPLETE) & frame[ROLE].isin(CANDIDATE_ROLES)]


def draw_baselines(ax, frame: pd.DataFrame, objective: str) -> None:
    """A labelled horizontal line per complete baseline row (plain MSE, mean, median)."""
    for role, color in BASELINE_STYLES.items():
        rows = frame[(frame[ROLE] == str(role)) & (frame[STATUS] == Status.COMPLETE)]
        if len(rows):
            value = rows[objective].iloc[0]
            ax.axhline(value, color=color, linestyle="--", label=ROLE_LABELS[role].strip("()"))


def legend(ax) -> None:
    """A small legend, when anything on ``ax`` has a label."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")


def optimisation_history(frame: pd.DataFrame, objective: str) -> Figure:
    """The objective of each complete trial in start order, the best so far and the
    baselines."""
    complete = searched(frame).sort_values("started")
    fig, ax = plt.subplots(figsize=(7, 4))
    order = np.arange(1, len(complete) + 1)
    values = complete[objective]
    best = values.cummin() if objective_mode(objective) == "min" else values.cummax()
    ax.scatter(order, values, label="trial", color="tab:blue", zorder=3)
    ax.step(order, best, where="post", label="best so far", color="tab:red")
    paper = (complete[ROLE] == str(Role.PUBLISHED)).to_numpy()
    if paper.any():
        ax.scatter(
            order[paper],
            values[paper],
            marker="*",
            s=200,
            color="gold",
            edgecolor="black",
            label="published config",
            zorder=4,
        )
    draw_baselines(ax, frame, objective)
    ax.set(
        xlabel="complete trial (in start order)",
        ylabel=f"fold-averaged {objective}",
        title="Optimisation history (CV folds, selection-biased)",
    )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    legend(ax)
    fig.tight_layout()
    return fig


def objective_by_hyperparameter(frame: pd.DataFrame, objective: str) -> Figure:
    """The objective against lr and lambda (log axes), k set and boundaries (box plots)."""
    complete = searched(frame)
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    for ax, name in zip(axes[0], LOG_PARAMS, strict=True):
        ax.scatter(complete[name], complete[objective], color="tab:blue")
        ax.set(xscale="log", xlabel=name, ylabel=f"fold-averaged {objective}")
        draw_baselines(ax, frame, objective)
    for ax, name in zip(axes[1], BOX_PARAMS, strict=True):
        keys = complete[name].astype(str)
        labels = sorted(set(keys), key=lambda v: (len(v), v))
        ax.boxplot([complete[objective][keys == label] for label in labels], tick_labels=labels)
        ax.set(xlabel=name, ylabel=f"fold-averaged {objective}")
        ax.tick_params(axis="x", labelrotation=45)
    legend(axes[0][0])
    fig.suptitle(f"Fold-averaged {objective} by hyperparameter")
    fig.tight_layout()
    return fig


def fold_spread(ranked: pd.DataFrame, objective: str, top: int = 10) -> Figure:
    """Per-fold values of the top configurations: how much a ranking rests on a few folds."""
    shown = candidates(ranked).head(top)
    per_fold = [np.asarray(values, dtype=float) for values in shown[folds_key(objective)]]
    fig, ax = plt.subplots(figsize=(max(6, len(shown) * 0.8), 4))
    ax.boxplot(per_fold, tick_labels=[f"#{r}" for r in shown["rank"]])
    for position, values in enumerate(per_fold, start=1):
        ax.scatter(np.full(len(values), position), values, color="tab:blue", alpha=0.6, zorder=3)
    draw_baselines(ax, ranked, objective)
    ax.set(
        xlabel="rank",
        ylabel=f"{objective} per fold",
        title=f"Per-fold {objective} of the top {len(shown)}",
    )
    legend(ax)
    fig.tight_layout()
    return fig


MARKED_ROLES = {  # role -> (marker, colour, size) on the Pareto plot, drawn in this order
    Role.PLAIN_MSE: ("s", "tab:green", 160),
    Role.MEAN_PREDICTOR: ("X", "tab:gray", 160),
    Role.MEDIAN_PREDICTOR: ("P", "tab:brown", 160),
    Role.PUBLISHED: ("*", "tab:red", 110),  # on top: plain MSE often lies at the same place
}


def pareto_scatter(ranked: pd.DataFrame, objectives: tuple[str, ...]) -> Figure:
    """The complete candidates on the first two objectives, the Pareto front (front 1 on
    all objectives) drawn solid, and the published configuration, plain MSE and the mean
    and median predictors marked."""
    x_name, y_name = objectives[:2]
    fig, ax = plt.subplots(figsize=(7, 5))
    rows = candidates(ranked)
    ax.scatter(rows[x_name], rows[y_name], color="tab:blue", alpha=0.35, label="complete trials")
    best_front = rows[rows["front"] == 1]
    ax.scatter(best_front[x_name], best_front[y_name], s=60, color="tab:blue", label="Pareto front")
    for role, (marker, color, size) in MARKED_ROLES.items():
        marked = ranked[ranked[ROLE] == str(role)]
        if len(marked):
            ax.scatter(
                marked[x_name].iloc[0],
                marked[y_name].iloc[0],
                marker=marker,
                s=size,
                color=color,
                edgecolor="black",
                zorder=3,
                label=ROLE_LABELS[role].strip("()"),
            )
    hidden = f" (also on {', '.join(objectives[2:])}, not drawn)" if len(objectives) > 2 else ""
    ax.set(
        xlabel=f"fold-averaged {x_name} ({objective_mode(x_name)}imise)",
        ylabel=f"fold-averaged {y_name} ({objective_mode(y_name)}imise)",
        title=f"Pareto front{hidden}; selection-biased CV values",
    )
    legend(ax)
    fig.tight_layout()
    return fig
