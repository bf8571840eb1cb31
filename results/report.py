"""A self-contained HTML report of a study (images embedded) plus the PNGs."""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from centerir.contract import STATUS
from results.importance import importance_bars, parallel_coordinates
from results.plots import (
    fold_spread,
    objective_by_hyperparameter,
    optimisation_history,
    pareto_scatter,
)
from results.summary import Study, summary_lines

# file -> (heading, drawing of a study); multi-objective studies also get PARETO_FIGURE
FIGURES: dict[str, tuple[str, Callable[[Study], Figure]]] = {
    "history.png": (
        "Optimisation history",
        lambda study: optimisation_history(study.frame, study.objective),
    ),
    "hyperparameters.png": (
        "Objective by hyperparameter",
        lambda study: objective_by_hyperparameter(study.frame, study.objective),
    ),
    "fold_spread.png": (
        "Per-fold values of the top configurations",
        lambda study: fold_spread(study.ranked, study.objective),
    ),
    "importance.png": (
        "Hyperparameter importance (fANOVA)",
        lambda study: importance_bars(study.importances, study.objectives),
    ),
    "parallel.png": (
        "Parallel coordinates of the complete trials",
        lambda study: parallel_coordinates(study.ranked, study.objectives),
    ),
}
PARETO_FIGURE = {
    "pareto.png": (
        "Pareto front",
        lambda study: pareto_scatter(study.ranked, study.objectives),
    )
}
PAGE = "report.html"


def report_files(folder: Path) -> list[Path]:
    """The files :func:`write_report` may write into ``folder`` (``PARETO_FIGURE`` only for
    a multi-objective study)."""
    return [folder / name for name in (*PARETO_FIGURE, *FIGURES, PAGE)]


def summary_html(text: str) -> str:
    """A summary line as HTML: tables (several lines) keep their columns, warnings stand out."""
    escaped = html.escape(text)
    if "\n" in text:
        return f"<pre>{escaped}</pre>"
    if text.startswith("WARNING"):
        return f"<p class='warning'>{escaped}</p>"
    return f"<p>{escaped}</p>"


def ranking_rule(study: Study) -> str:
    """How the study's trials are ranked, in a sentence."""
    if study.multi_objective:
        return (
            f"Ranked by Pareto front on fold-averaged {', '.join(study.objectives)} over the CV "
            f"folds (complete trials only), then by {study.objective}; the best is the front's "
            f"best {study.objective}."
        )
    return (
        f"Ranked by fold-averaged {study.objective} over the CV folds (complete trials only; "
        "ties broken by the lower standard deviation over folds)."
    )


def write_report(study: Study, folder: Path, title: str) -> Path:
    """Write ``PAGE`` and the PNGs into ``folder``; returns the page's path."""
    folder.mkdir(parents=True, exist_ok=True)
    sections = []
    figures = {**PARETO_FIGURE, **FIGURES} if study.multi_objective else FIGURES
    for filename, (heading, draw) in figures.items():
        figure = draw(study)
        figure.savefig(folder / filename, dpi=110)
        plt.close(figure)
        encoded = base64.b64encode((folder / filename).read_bytes()).decode("ascii")
        sections.append(
            f"<h2>{heading}</h2>\n<img alt='{heading}' src='data:image/png;base64,{encoded}'>"
        )
    summary = "\n".join(summary_html(line) for line in summary_lines(study, len(study.ranked)))
    counts = ", ".join(f"{n} {status}" for status, n in study.frame[STATUS].value_counts().items())
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 1200px; color: #222; }}
img {{ max-width: 100%; border: 1px solid #ddd; }}
pre {{ font-size: 0.85em; background: #f6f6f6; padding: 1em; overflow-x: auto; }}
p.warning {{ color: #a00; font-weight: bold; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{len(study.frame)} rows: {html.escape(counts)}. {html.escape(ranking_rule(study))} CV
values are selection-biased: the best was chosen on the same folds. Held-out values, where
shown, are not.</p>
<h2>Summary</h2>
{summary}
{chr(10).join(sections)}
</body></html>
"""
    path = folder / PAGE
    path.write_text(page, encoding="utf-8")
    return path
