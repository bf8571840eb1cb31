"""The Ray Tune trainable: one trial = one full k-fold CenterIR cross-validation.

The data arrive through ``tune.with_parameters`` (stored once in the object store, read
without copying); the trial's config holds only the searched hyperparameters, the study's
fixed settings come as ``base``. After every fold the trial reports the running
fold-averaged metrics (keys of :mod:`centerir.contract`) and a checkpoint of its finished
folds, so a retried or resumed trial continues at the next fold. Only ``ray.tune`` APIs are
used here.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ray import tune

from centerir import contract
from centerir.config import Config
from centerir.contract import Status
from centerir.cv import Callback, CVResult, FoldResult, cross_validate
from centerir.data import EEGDataset
from centerir.runtime import configure_runtime
from tune_study.pruning import PrunerClient

CHECKPOINT_FILE = "folds.json"


def trial_config(params: dict[str, Any], base: Config) -> Config:
    """The searched parameters over the study's base config.

    ``k_set_b<N>`` entries are the per-branch names Optuna samples the k set under (the
    chosen set itself arrives as ``k``); ``role`` says what the trial is for.
    """
    values = {
        key: value
        for key, value in params.items()
        if not key.startswith("k_set_b") and key != contract.ROLE
    }
    return Config.from_dict(values, base=base)


def configure_trial_worker() -> tuple[str, str]:
    """Process-wide settings for this trial's worker, from its Ray resources: torch threads
    (one per CPU), MKL's dispatch and, on a GPU share under 1, that share of the GPU's
    memory (which also bounds when a fold's windows are kept on the GPU). Returns the device
    and a note when a GPU share was given but CUDA is missing (the trial then runs on the
    CPU)."""
    resources = tune.get_context().get_trial_resources().required_resources
    configure_runtime(threads=max(1, int(resources.get("CPU", 1))))
    share = resources.get("GPU", 0)
    if share > 0:
        if torch.cuda.is_available():
            torch.cuda.set_per_process_memory_fraction(min(share, 1.0))
            return "cuda", ""
        return "cpu", "a GPU share was allocated but CUDA is not available here: ran on CPU"
    return "cpu", ""


def read_folds(directory: Path) -> list[FoldResult] | None:
    """The finished folds saved in a checkpoint folder; None when its file is missing or
    damaged (truncated, not JSON, wrong shape)."""
    try:
        saved = json.loads((directory / CHECKPOINT_FILE).read_text(encoding="utf-8"))
        return [FoldResult.from_dict(fold) for fold in saved["folds"]]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        return None


def load_finished_folds() -> tuple[list[FoldResult], str]:
    """Folds finished before a restart, and a note when the trial's latest checkpoint was
    damaged: then the newest intact checkpoint beside it (Tune keeps them all, each with
    every fold finished by then) is used, or none (the CV starts again at fold 1)."""
    checkpoint = tune.get_checkpoint()
    if checkpoint is None:
        return [], ""
    latest = Path(checkpoint.path)
    folds = read_folds(latest)
    if folds is not None:
        return folds, ""
    for older in sorted(latest.parent.glob("checkpoint_*"), reverse=True):
        folds = read_folds(older)
        if folds is not None:
            return folds, (
                f"checkpoint {latest.name} was damaged: resumed from {older.name} "
                f"({len(folds)} finished folds)"
            )
    return [], f"checkpoint {latest.name} was damaged and no intact one was left: folds rerun"


def report(result: CVResult, status: Status, note: str, role: str) -> None:
    """``tune.report`` the running metrics with a checkpoint of the finished folds."""
    metrics = result.report()
    metrics.update({contract.STATUS: str(status), contract.MESSAGE: note, contract.ROLE: role})
    with tempfile.TemporaryDirectory() as directory:
        payload = {"config": result.config, "folds": [f.to_dict() for f in result.folds]}
        (Path(directory) / CHECKPOINT_FILE).write_text(json.dumps(payload), encoding="utf-8")
        checkpoint = tune.Checkpoint.from_directory(directory)
        tune.report(metrics, checkpoint=checkpoint)


def announce_trial(config: Config, role: str, resumed_folds: int) -> None:
    """The trial's first lines in its worker's log: its name, experiment, role and full config.

    Written to stderr, the log the Ray dashboard shows first (Actors > the worker > Logs). A
    worker serves one trial after another (``reuse_actors``), so its log is a sequence of
    such blocks, each followed by a line per finished fold.
    """
    context = tune.get_context()
    start = f", resumed after fold {resumed_folds}" if resumed_folds else ""
    print(
        f"trial {context.get_trial_name()} (experiment {context.get_experiment_name()}, "
        f"role {role}{start})\nconfig {json.dumps(config.to_dict(), sort_keys=True)}",
        file=sys.stderr,
        flush=True,
    )


class StopTrial(Exception):
    """Raised inside the CV to end a pruned trial after its last report."""


class TuneReporter(Callback):
    """Reports to Ray Tune after every fold; asks the pruner (if any) whether to stop."""

    def __init__(
        self, pruner: PrunerClient | None, trial_id: str, note: str, role: str, objective: str
    ):
        self.pruner = pruner
        self.trial_id = trial_id
        self.note = note
        self.role = role
        self.objective = objective
        self.reported = False

    def on_fold_end(self, fold: FoldResult, result: CVResult) -> None:
        done = len(result.folds)
        print(
            f"trial {tune.get_context().get_trial_name()}: fold {done} of {result.n_folds} done, "
            f"{self.objective} {fold.metrics[self.objective]:.4g}",
            file=sys.stderr,
            flush=True,
        )
        status = Status.COMPLETE if done == result.n_folds else Status.RUNNING
        verdict = ""
        if status == Status.RUNNING and self.pruner is not None:
            running = result.summary.get(self.objective, np.nan)
            verdict = self.pruner.should_prune(self.trial_id, done, running)
        report(result, Status.PRUNED if verdict else status, verdict or self.note, self.role)
        self.reported = True
        if verdict:
            raise StopTrial(verdict)


def run_trial(
    params: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray | None,
    rows: np.ndarray | None,
    base: dict[str, Any],
    source: str = "",
    objective: str = contract.DEFAULT_OBJECTIVE,
    pruner: PrunerClient | None = None,
) -> None:
    """Ray Tune function trainable (bind the data with ``tune.with_parameters``).

    Parameters
    ----------
    params : dict
        The trial's searched hyperparameters (``lr``, ``boundaries``, ``k``, ``lambda``...)
        and, for a baseline, its ``role``.
    x : ndarray
        The study's windows, (M, 1, C, T), shared from the object store.
    y, groups, rows : ndarray
        The tuning windows' scores (N,), subject ids (N,) or None, and rows of ``x`` (N,)
        (held-out subjects are not among them).
    base : dict
        The study's fixed config keys (folds, epochs, seed, ...).
    objective : str
        The metric the study optimises (a key of ``centerir.contract.METRICS``); pruning
        compares its running fold mean.
    pruner : PrunerClient, optional
        With ``--prune``: asks the driver's pruner whether this trial should stop.
    """
    device, note = configure_trial_worker()
    config = trial_config(params, Config.from_dict(base))
    role = contract.trial_role(params, config.to_dict())
    candidate = role in (contract.Role.SEARCH, contract.Role.PUBLISHED)
    if not candidate:
        pruner = None  # a baseline runs every fold: the verdicts compare against all of them
    dataset = EEGDataset(x=x, y=y, groups=groups, source=source, rows=rows)
    finished, damage = load_finished_folds()
    announce_trial(config, str(role), len(finished))
    note = "; ".join(part for part in (note, damage) if part)
    trial_id = tune.get_context().get_trial_id()
    reporter = TuneReporter(pruner, trial_id, note, str(role), objective)
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
    if result.status == Status.DIVERGED:
        report(result, Status.DIVERGED, result.message, str(role))
        return
    if not reporter.reported:  # every fold was already in the checkpoint
        report(result, Status.COMPLETE, note, str(role))
    if pruner is not None:
        pruner.record_complete(trial_id, [fold.metrics[objective] for fold in result.folds])
