"""Load a Ray Tune experiment folder written by ``tune_study`` into a DataFrame.

Works on a finished, running or interrupted study: every trial folder that holds a
``params.json`` becomes one row, described by its last report (``result.json`` holds one
JSON object per report, one report per finished fold). Needs neither Ray nor torch.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

SETTINGS_FILE = "centerir_study.json"  # written by tune_study at the start of a study
PAPER = {"lr": 1e-4, "boundaries": 16, "k": "1-3-5-15", "lambda": 5e-8}
SEARCHED = ("lr", "boundaries", "k", "lambda", "batch_size", "dropout")
METRICS = ("mae", "mae_std", "rmse", "r2", "balanced_mae", "few_mae")
COLUMNS = (
    "trial_id",
    "trial_name",
    "status",
    *SEARCHED,
    "folds_done",
    "folds_total",
    "fold_maes",
    *METRICS,
    "seconds",
    "device",
    "message",
    "started",
    "config",
    "is_paper",
)


class ExperimentError(ValueError):
    """The folder is not a readable study; ``str(err)`` is one line."""


def read_reports(path: Path) -> list[dict[str, Any]]:
    """The reports in a ``result.json`` (a line cut short by an interruption is skipped)."""
    if not path.is_file():
        return []
    reports = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            reports.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return reports


def k_name(value: Any) -> str:
    return value if isinstance(value, str) else "-".join(str(v) for v in value)


def trial_row(folder: Path, base_config: dict[str, Any]) -> dict[str, Any]:
    params = json.loads((folder / "params.json").read_text())
    reports = read_reports(folder / "result.json")
    last = reports[-1] if reports else {}
    errored = (folder / "error.txt").is_file()
    status = last.get("status", "pending")
    message = last.get("message", "")
    if errored and status not in ("complete", "pruned", "diverged"):
        status = "errored"
        lines = (folder / "error.txt").read_text(errors="replace").strip().splitlines()
        message = lines[-1] if lines else "the trial raised an error"
    searched = {key: params[key] for key in SEARCHED if key in params}
    if "k" in searched:
        searched["k"] = k_name(searched["k"])
    config = {**base_config, **searched}
    row = {
        "trial_id": last.get("trial_id", folder.name.rsplit("_", 1)[-1]),
        "trial_name": folder.name,
        "status": status,
        **{key: searched.get(key, base_config.get(key)) for key in SEARCHED},
        "folds_done": last.get("folds_done", 0),
        "folds_total": last.get("folds_total", base_config.get("folds")),
        "fold_maes": list(last.get("fold_maes", [])),
        **{key: last.get(key, math.nan) for key in METRICS},
        "seconds": last.get("seconds", math.nan),
        "device": last.get("device", ""),
        "message": message,
        # when the trial began (epoch seconds), for the order of the optimisation history
        "started": reports[0].get("timestamp", 0) - reports[0].get("time_total_s", 0)
        if reports
        else (folder / "params.json").stat().st_mtime,
        "config": config,
    }
    row["is_paper"] = all(row[key] == value for key, value in PAPER.items())
    return row


def trial_folders(experiment: Path) -> list[Path]:
    """The experiment's trial folders (those holding a ``params.json``), sorted by name."""
    return sorted(p for p in experiment.iterdir() if (p / "params.json").is_file())


def load(path: str | Path) -> pd.DataFrame:
    """One row per trial of the experiment at ``path``.

    Columns: trial_id, trial_name, status (complete, pruned, diverged, errored, running,
    pending), the hyperparameters (lr, boundaries, k, lambda, batch_size, dropout),
    folds_done, folds_total, fold_maes (list), mae (fold-averaged over the finished folds),
    mae_std, rmse, r2, balanced_mae, few_mae, seconds, device, message, started (epoch
    seconds), config (the full
    config dict ``python -m centerir train --config`` accepts), is_paper.
    """
    path = Path(path)
    if not path.is_dir():
        raise ExperimentError(f"{path}: expected a Tune experiment folder, got no such folder.")
    settings_file = path / SETTINGS_FILE
    if not settings_file.is_file():
        raise ExperimentError(
            f"{path}: expected a centerir-tune experiment folder (with {SETTINGS_FILE}), "
            "got a folder without one."
        )
    base_config = json.loads(settings_file.read_text()).get("base_config", {})
    rows = [trial_row(folder, base_config) for folder in trial_folders(path)]
    return pd.DataFrame(rows, columns=list(COLUMNS))
