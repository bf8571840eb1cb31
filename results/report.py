"""A self-contained HTML report of a study (images embedded) plus the PNGs."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from results.compare import compare_top_two
from results.plots import fold_spread, mae_by_hyperparameter, optimisation_history
from results.table import TABLE_COLUMNS

FIGURES = {
    "history.png": ("Optimisation history", optimisation_history, "frame"),
    "hyperparameters.png": ("MAE by hyperparameter", mae_by_hyperparameter, "frame"),
    "fold_spread.png": ("Per-fold MAE of the top trials", fold_spread, "ranked"),
}


def write_report(frame: pd.DataFrame, ranked: pd.DataFrame, folder: Path, title: str) -> Path:
    """Write ``report.html`` and the PNGs into ``folder``; returns the HTML path."""
    folder.mkdir(parents=True, exist_ok=True)
    sections = []
    for filename, (heading, draw, source) in FIGURES.items():
        figure = draw(frame if source == "frame" else ranked)
        figure.savefig(folder / filename, dpi=110)
        plt.close(figure)
        encoded = base64.b64encode((folder / filename).read_bytes()).decode("ascii")
        sections.append(
            f"<h2>{heading}</h2>\n<img alt='{heading}' src='data:image/png;base64,{encoded}'>"
        )
    table = ranked.loc[:, list(TABLE_COLUMNS)].to_html(
        index=False, float_format=lambda v: f"{v:.4g}", classes="ranking"
    )
    counts = ", ".join(f"{n} {status}" for status, n in frame["status"].value_counts().items())
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 1100px; color: #222; }}
img {{ max-width: 100%; border: 1px solid #ddd; }}
table.ranking {{ border-collapse: collapse; font-size: 0.9em; }}
table.ranking td, table.ranking th {{ border: 1px solid #ccc; padding: 3px 8px; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{len(frame)} trials: {html.escape(counts)}. Ranked by fold-averaged MAE (complete trials
only; ties broken by the lower standard deviation over folds).</p>
<p>{html.escape(compare_top_two(ranked))}</p>
<h2>Ranking</h2>
{table}
{chr(10).join(sections)}
</body></html>
"""
    path = folder / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
