"""The Ray Tune trainable: one trial = one full k-fold CenterIR cross-validation.

The data arrive through ``tune.with_parameters`` (stored once in the object store, read
without copying); the trial's config holds only the searched hyperparameters, the study's
fixed settings come as ``base``. After every fold the trial reports the running
fold-averaged metrics and a checkpoint of its finished folds, so a retried or resumed trial
continues at the next fold. Only ``ray.tune`` APIs are used here.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ray import tune

from centerir.config import Config
from centerir.cv import Callback, CVResult, FoldResult, cross_validate
from centerir.data import EEGDataset
from tune_study.pruning import PrunerClient

CHECKPOINT_FILE = "folds.json"
REPORT_KEYS = ("mae", "mae_std", "rmse", "r2", "balanced_mae", "few_mae")


def trial_config(params: dict[str, Any], base: Config) -> Config:
    """The searched parameters over the study's base config.

    ``k_set_b<N>`` entries are the per-branch names Optuna samples the k set under; the
    chosen set itself arrives as ``k``.
    """
    values = {key: value for key, value in params.items() if not key.startswith("k_set_b")}
    return Config.from_dict(values, base=base)


def trial_device() -> tuple[str, str]:
    """Device for this trial from its Ray resources, and a note when falling back to CPU."""
    resources = tune.get_context().get_trial_resources().required_resources
    cpus = max(1, int(resources.get("CPU", 1)))
    torch.set_num_threads(cpus)
    if resources.get("GPU", 0) > 0:
        if torch.cuda.is_available():
            return "cuda", ""
        return "cpu", "a GPU share was allocated but CUDA is not available here: ran on CPU"
    return "cpu", ""


def load_finished_folds() -> list[FoldResult]:
    """Folds finished before a restart, from the trial's latest checkpoint."""
    checkpoint = tune.get_checkpoint()
    if checkpoint is None:
        return []
    with checkpoint.as_directory() as directory:
        saved = json.loads((Path(directory) / CHECKPOINT_FILE).read_text())
    return [FoldResult.from_dict(fold) for fold in saved["folds"]]


def fold_report(result: CVResult, status: str, note: str) -> dict[str, Any]:
    """Report of the folds finished so far: running means, the last fold, the status."""
    summary = result.summary
    metrics: dict[str, Any] = {key: summary.get(key, math.nan) for key in REPORT_KEYS}
    metrics["folds_done"] = len(result.folds)
    metrics["folds_total"] = result.n_folds
    metrics["fold_mae"] = result.folds[-1].metrics["mae"] if result.folds else math.nan
    metrics["fold_maes"] = [fold.metrics["mae"] for fold in result.folds]
    metrics["seconds"] = summary.get("seconds", 0.0)
    metrics["device"] = result.folds[-1].device if result.folds else ""
    metrics["status"] = status
    metrics["message"] = note
    return metrics


def report(result: CVResult, status: str, note: str) -> None:
    """``tune.report`` the running metrics with a checkpoint of the finished folds."""
    with tempfile.TemporaryDirectory() as directory:
        payload = {"config": result.config, "folds": [f.to_dict() for f in result.folds]}
        (Path(directory) / CHECKPOINT_FILE).write_text(json.dumps(payload))
        checkpoint = tune.Checkpoint.from_directory(directory)
        tune.report(fold_report(result, status, note), checkpoint=checkpoint)


class StopTrial(Exception):
    """Raised inside the CV to end a pruned trial after its last report."""


class TuneReporter(Callback):
    """Reports to Ray Tune after every fold; asks the pruner (if any) whether to stop."""

    def __init__(self, pruner: PrunerClient | None, trial_id: str, note: str):
        self.pruner = pruner
        self.trial_id = trial_id
        self.note = note
        self.reported = False

    def on_fold_end(self, fold: FoldResult, result: CVResult) -> None:
        done = len(result.folds)
        status = "complete" if done == result.n_folds else "running"
        verdict = ""
        if status == "running" and self.pruner is not None:
            verdict = self.pruner.should_prune(self.trial_id, done, result.summary["mae"])
        report(result, "pruned" if verdict else status, verdict or self.note)
        self.reported = True
        if verdict:
            raise StopTrial(verdict)


def run_trial(
    params: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray | None,
    base: dict[str, Any],
    source: str = "",
    pruner: PrunerClient | None = None,
) -> None:
    """Ray Tune function trainable (bind the data with ``tune.with_parameters``).

    Parameters
    ----------
    params : dict
        The trial's searched hyperparameters (``lr``, ``boundaries``, ``k``, ``lambda``...).
    x, y, groups : ndarray
        The study's data, (N, 1, C, T), (N,), (N,) or None, shared from the object store.
    base : dict
        The study's fixed config keys (folds, epochs, seed, ...).
    pruner : PrunerClient, optional
        With ``--prune``: asks the driver's pruner whether this trial should stop.
    """
    config = trial_config(params, Config.from_dict(base))
    dataset = EEGDataset(x=x, y=y, groups=groups, source=source)
    device, note = trial_device()
    finished = load_finished_folds()
    trial_id = tune.get_context().get_trial_id()
    reporter = TuneReporter(pruner, trial_id, note)
    try:
        result = cross_validate(
            config,
            dataset,
            callbacks=[reporter],
            start_fold=len(finished),
            finished=finished,
            device=device,
        )
    except StopTrial:
        return
    if result.status == "diverged":
        report(result, "diverged", result.message)
        return
    if not reporter.reported:  # every fold was already in the checkpoint
        report(result, "complete", note)
    if pruner is not None:
        pruner.record_complete(trial_id, [f.metrics["mae"] for f in result.folds])
