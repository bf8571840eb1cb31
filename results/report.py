"""A self-contained HTML report of a study (images embedded) plus the PNGs."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import matplotlib.pyplot as plt

from centerir.contract import STATUS
from results.importance import importance_bars, parallel_coordinates
from results.plots import fold_spread, objective_by_hyperparameter, optimisation_history
from results.summary import Study, summary_lines

FIGURES = {
    "history.png": ("Optimisation history", optimisation_history, "frame"),
    "hyperparameters.png": ("Objective by hyperparameter", objective_by_hyperparameter, "frame"),
    "fold_spread.png": ("Per-fold values of the top configurations", fold_spread, "ranked"),
    "importance.png": ("Hyperparameter importance (fANOVA)", importance_bars, "ranked"),
    "parallel.png": ("Parallel coordinates of the complete trials", parallel_coordinates, "ranked"),
}
PAGE = "report.html"


def report_files(folder: Path) -> list[Path]:
    """The files :func:`write_report` writes into ``folder``."""
    return [folder / name for name in (*FIGURES, PAGE)]


def summary_html(text: str) -> str:
    """A summary line as HTML: tables (several lines) keep their columns, warnings stand out."""
    escaped = html.escape(text)
    if "\n" in text:
        return f"<pre>{escaped}</pre>"
    if text.startswith("WARNING"):
        return f"<p class='warning'>{escaped}</p>"
    return f"<p>{escaped}</p>"


def write_report(study: Study, folder: Path, title: str) -> Path:
    """Write ``PAGE`` and the PNGs into ``folder``; returns the page's path."""
    folder.mkdir(parents=True, exist_ok=True)
    sections = []
    for filename, (heading, draw, source) in FIGURES.items():
        figure = draw(study.frame if source == "frame" else study.ranked, study.objective)
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
<p>{len(study.frame)} rows: {html.escape(counts)}. Ranked by fold-averaged
{html.escape(study.objective)} over the CV folds (complete trials only; ties broken by the
lower standard deviation over folds). CV values are selection-biased: the best was chosen on
the same folds. Held-out values, where shown, are not.</p>
<h2>Summary</h2>
{summary}
{chr(10).join(sections)}
</body></html>
"""
    path = folder / PAGE
    path.write_text(page, encoding="utf-8")
    return path
