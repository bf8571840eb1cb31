"""Run (or resume) the Ray Tune + Optuna study and report its ranking.

Imported by the launcher only once the input is known to be valid, so a bad command line
never starts Ray.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import optuna
import ray
from optuna.samplers import TPESampler
from ray import tune
from ray.tune.search import ConcurrencyLimiter

from centerir.config import ConfigError, format_k
from centerir.cv import OPTIMISTIC_WARNING
from centerir.data import EEGDataset
from centerir.splits import UNGROUPED_WARNING
from results import load, rank
from results.compare import compare_top_two
from results.export import export_configs
from results.report import write_report
from results.table import format_ranking
from search_spaces import PAPER, SearchSpace
from tune_study.cluster import (
    check_storage_shared,
    check_storage_writable,
    cluster_gpus,
    start_ray,
)
from tune_study.pruning import start_pruner
from tune_study.recovery import KeepRowsOnRetry
from tune_study.searcher import StatusAwareOptunaSearch
from tune_study.settings import SETTINGS_FILE, StudySettings
from tune_study.trainable import run_trial

MAX_FAILURES = 2  # a trial that raises is retried this often, from its last fold checkpoint
TOP = 5
SYNC_SECONDS = 5


def trial_name(trial) -> str:
    """Trial names that say what they try, e.g. ``lr3.2e-04_b16_k1-3-5-15_lam5e-08``."""
    config = trial.config
    k = config.get("k", "")
    k = k if isinstance(k, str) else format_k(k)
    return (
        f"lr{config['lr']:.1e}_b{config['boundaries']}_k{k}_lam{config['lambda']:.0e}"
        f"_{trial.trial_id}"
    )


def make_sampler(settings: StudySettings) -> TPESampler:
    """TPE with multivariate, grouped modelling; random for the first third of the budget."""
    startup = min(10, max(2, settings.num_samples // 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return TPESampler(
            seed=settings.seed, multivariate=True, group=True, n_startup_trials=startup
        )


def make_searcher(settings: StudySettings, space: SearchSpace, concurrency: int):
    points = []
    if space.contains(PAPER):
        points.append(space.as_trial_params(PAPER))
    else:
        print(
            f"note: the published configuration {PAPER} is outside the '{settings.space}' "
            "space for this data, so it is not enqueued",
            file=sys.stderr,
        )
    storage = None
    if settings.optuna_storage:
        storage = optuna.storages.RDBStorage(settings.optuna_storage)
    searcher = StatusAwareOptunaSearch(
        space=space,
        metric="mae",
        mode="min",
        points_to_evaluate=points or None,
        sampler=make_sampler(settings),
        study_name=settings.name,
        storage=storage,
    )
    return ConcurrencyLimiter(searcher, max_concurrent=concurrency)


def concurrency(settings: StudySettings, gpus_per_trial: float) -> int:
    if settings.max_concurrent:
        return settings.max_concurrent
    resources = ray.cluster_resources()
    slots = resources.get("CPU", 1) // settings.cpus_per_trial
    if gpus_per_trial > 0:
        slots = min(slots, resources.get("GPU", 0) // gpus_per_trial)
    return int(max(1, min(slots, settings.num_samples)))


def completed_fold_maes(settings: StudySettings) -> dict[str, list[float]]:
    """Per-fold MAEs of the complete trials already in the experiment (for --resume)."""
    frame = load(settings.experiment_dir())
    complete = frame[frame["status"] == "complete"]
    return dict(zip(complete["trial_id"], complete["fold_maes"], strict=True))


def make_trainable(
    settings: StudySettings, dataset: EEGDataset, gpus_per_trial: float, resume: bool
):
    pruner = None
    if settings.prune:
        pruner = start_pruner(completed_fold_maes(settings) if resume else None)
    # A plain ndarray (not np.memmap, which Ray pickles as a private copy per worker) goes
    # to the object store once and reaches every trial as a zero-copy read-only view.
    trainable = tune.with_parameters(
        run_trial,
        x=np.asarray(dataset.x),
        y=dataset.y,
        groups=dataset.groups,
        base=settings.base_config().to_dict(),
        source=dataset.source,
        pruner=pruner,
    )
    return tune.with_resources(trainable, {"cpu": settings.cpus_per_trial, "gpu": gpus_per_trial})


def progress_table() -> tune.CLIReporter:
    """A compact trial table every 15 s: status, folds done, running MAE, key parameters."""
    # Tune's newer output ignores custom reporters and prints every config and result box.
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    return tune.CLIReporter(
        parameter_columns=["lr", "boundaries", "k", "lambda"],
        metric_columns={
            "folds_done": "folds",
            "mae": "mae",
            "mae_std": "mae_std",
            "status": "outcome",
        },
        max_report_frequency=15,
        sort_by_metric=True,
        metric="mae",
        mode="min",
    )


def write_settings(settings: StudySettings) -> None:
    directory = settings.experiment_dir()
    directory.mkdir(parents=True, exist_ok=True)
    saved = json.loads(settings.to_json())
    for key in ("x", "y", "groups"):  # absolute, so --resume works from any folder
        if saved[key] is not None:
            saved[key] = str(Path(saved[key]).resolve())
    saved["base_config"] = settings.base_config().to_dict()
    (directory / SETTINGS_FILE).write_text(json.dumps(saved, indent=2) + "\n")


def run_study(
    settings: StudySettings, dataset: EEGDataset, space: SearchSpace, resume: bool = False
) -> int:
    """Run the study to the end and print the ranking; returns the exit code."""
    directory = settings.experiment_dir()
    check_storage_writable(directory)
    if not resume and (directory / SETTINGS_FILE).exists():
        raise ConfigError(
            f"{directory} already holds a study: add --resume to continue it or "
            "choose another --name."
        )
    cautions = protocol_cautions(settings, dataset)
    for warning in cautions:
        print(f"warning: {warning}", file=sys.stderr)
    url = start_ray(settings.address, settings.dashboard_host, settings.dashboard_port)
    try:
        check_storage_shared(directory.parent)
        gpus = settings.gpus_per_trial
        if gpus is None:
            gpus = 1.0 if cluster_gpus() > 0 else 0.0
        if url:
            print(f"Ray dashboard: {url}", file=sys.stderr)
        print(
            f"experiment: {directory} ({settings.num_samples} trials x {settings.folds} folds "
            f"x <= {settings.epochs} epochs on {dataset.source}; {settings.cpus_per_trial:g} "
            f"CPU and {gpus:g} GPU per trial)",
            file=sys.stderr,
        )
        trainable = make_trainable(settings, dataset, gpus, resume)
        if resume:
            tuner = tune.Tuner.restore(
                str(directory), trainable=trainable, resume_unfinished=True, resume_errored=True
            )
        else:
            write_settings(settings)
            tuner = tune.Tuner(
                trainable,
                tune_config=tune.TuneConfig(
                    search_alg=make_searcher(settings, space, concurrency(settings, gpus)),
                    num_samples=settings.num_samples,
                    time_budget_s=settings.time_budget,
                    trial_name_creator=trial_name,
                    trial_dirname_creator=trial_name,  # folders named like trials
                    # a trial's worker (with torch loaded and the data mapped) serves the
                    # next trial: saves seconds of process start per trial
                    reuse_actors=True,
                ),
                run_config=tune.RunConfig(
                    name=settings.name,
                    storage_path=str(directory.parent),
                    failure_config=tune.FailureConfig(max_failures=MAX_FAILURES),
                    progress_reporter=progress_table(),
                    sync_config=tune.SyncConfig(sync_period=SYNC_SECONDS),
                    callbacks=[KeepRowsOnRetry()],
                    verbose=1,
                ),
            )
        # Results and experiment state reach storage_path every few seconds (Tune's default
        # waits 10 s or more), so an interrupted study keeps what finished and `results
        # --watch` is live.
        os.environ.setdefault("TUNE_GLOBAL_CHECKPOINT_S", str(SYNC_SECONDS))
        tuner.fit()
    finally:
        ray.shutdown()
    code = report_study(settings)
    for warning in cautions:
        print(f"warning: {warning}")
    return code


def protocol_cautions(settings: StudySettings, dataset: EEGDataset) -> list[str]:
    """What makes every score of this study optimistic, said at its start and end."""
    cautions = []
    if dataset.groups is None:
        cautions.append(UNGROUPED_WARNING + "; pass --groups")
    if settings.base_config().selection == "test":
        cautions.append(OPTIMISTIC_WARNING)
    return cautions


def report_study(settings: StudySettings) -> int:
    """Print the top trials, export the best config and write the report, in the experiment."""
    directory = settings.experiment_dir()
    frame = load(directory)
    ranked = rank(frame)
    print(format_ranking(ranked, frame, top=TOP))
    if ranked.empty:
        print("no trial completed: nothing to export")
        return 1
    print(compare_top_two(ranked))
    (path,) = export_configs(ranked, directory / "best_config.json")
    report = write_report(frame, ranked, directory / "report", f"Study {settings.name}")
    print(f"best config: {path}  (use: python -m centerir train --config {path})")
    print(f"report: {report}  (python -m results {directory} --help for more)")
    return 0
