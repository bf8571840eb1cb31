"""Figures of a study, each a function: DataFrame in, matplotlib Figure out."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only, no display needed

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

LOG_PARAMS = ("lr", "lambda")
BOX_PARAMS = ("k", "boundaries")


def optimisation_history(frame: pd.DataFrame) -> Figure:
    """Fold-averaged MAE of each complete trial in start order, and the best so far."""
    complete = frame[frame["status"] == "complete"].sort_values("started")
    fig, ax = plt.subplots(figsize=(7, 4))
    order = np.arange(1, len(complete) + 1)
    ax.scatter(order, complete["mae"], label="trial", color="tab:blue", zorder=3)
    ax.step(order, complete["mae"].cummin(), where="post", label="best so far", color="tab:red")
    paper = complete["is_paper"].to_numpy()
    if paper.any():
        ax.scatter(
            order[paper],
            complete["mae"][paper],
            marker="*",
            s=200,
            color="gold",
            edgecolor="black",
            label="published config",
            zorder=4,
        )
    ax.set(
        xlabel="complete trial (in start order)",
        ylabel="fold-averaged MAE",
        title="Optimisation history",
    )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend()
    fig.tight_layout()
    return fig


def mae_by_hyperparameter(frame: pd.DataFrame) -> Figure:
    """Fold-averaged MAE against lr and lambda (log axes), k set and boundaries (box plots)."""
    complete = frame[frame["status"] == "complete"]
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    for ax, name in zip(axes[0], LOG_PARAMS, strict=True):
        ax.scatter(complete[name], complete["mae"], color="tab:blue")
        ax.set(xscale="log", xlabel=name, ylabel="fold-averaged MAE")
    for ax, name in zip(axes[1], BOX_PARAMS, strict=True):
        keys = complete[name].astype(str)
        labels = sorted(set(keys), key=lambda v: (len(v), v))
        ax.boxplot([complete["mae"][keys == label] for label in labels], tick_labels=labels)
        ax.set(xlabel=name, ylabel="fold-averaged MAE")
        ax.tick_params(axis="x", labelrotation=45)
    fig.suptitle("Fold-averaged MAE by hyperparameter")
    fig.tight_layout()
    return fig


def fold_spread(ranked: pd.DataFrame, top: int = 10) -> Figure:
    """Per-fold MAE of the top trials: how much a ranking rests on a few folds."""
    shown = ranked.head(top)
    fig, ax = plt.subplots(figsize=(max(6, len(shown) * 0.8), 4))
    ax.boxplot(list(shown["fold_maes"]), tick_labels=[f"#{r}" for r in shown["rank"]])
    for position, maes in enumerate(shown["fold_maes"], start=1):
        ax.scatter(np.full(len(maes), position), maes, color="tab:blue", alpha=0.6, zorder=3)
    ax.set(xlabel="rank", ylabel="MAE per fold", title=f"Per-fold MAE of the top {len(shown)}")
    fig.tight_layout()
    return fig
