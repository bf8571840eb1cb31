"""Run (or resume) the Ray Tune + Optuna study, score the held-out subjects, print the summary.

Imported by the launcher only once the input is known to be valid, so a bad command line
never starts Ray.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import numpy as np
import ray
from ray import tune
from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback

from centerir.baselines import constant_predictor_cv
from centerir.config import ConfigError
from centerir.contract import (
    BASELINES_FILE,
    BEST_CONFIG_FILE,
    DATA_META_FILE,
    FINAL_STATUSES,
    FOLDS_DONE,
    MODEL_FREE_ROLES,
    REPORT_FOLDER,
    SETTINGS_FILE,
    STATUS,
    STOPPED_FILE,
    folds_key,
    std_key,
    trial_folder_name,
    trial_id_of_folder,
    write_json_file,
    write_settings,
)
from centerir.cv import OPTIMISTIC_WARNING
from centerir.data import EEGDataset
from centerir.splits import UNGROUPED_WARNING
from results import candidates, open_study, summary_lines
from results.export import export_configs
from results.nested import nested_lines
from results.report import write_report
from results.summary import export_note
from search_spaces import SearchSpace
from tune_study.cluster import (
    check_storage_shared,
    check_storage_writable,
    check_trial_fits,
    cluster_gpus,
    start_ray,
)
from tune_study.dashboard import dashboard_access
from tune_study.heldout import run_refits, write_holdout
from tune_study.plan import Planned, StudyPlan
from tune_study.pruning import start_pruner
from tune_study.ray_compat import check_saved_search_state
from tune_study.recovery import KeepRowsOnRetry
from tune_study.resume_trust import (
    check_resumable,
    restrict_umask,
    stamp_experiment,
    user_key,
)
from tune_study.search import baseline_trials, make_search, open_optuna_storage
from tune_study.settings import SYNC_SECONDS, StudySettings
from tune_study.trainable import run_trial

MAX_FAILURES = 2  # a trial that raises is retried this often, from its last fold checkpoint
TOP = 5


def trial_name(trial) -> str:
    """Trial names (and folders) that say what they try (``centerir.contract``)."""
    return trial_folder_name(trial.config, trial.trial_id)


def concurrency(settings: StudySettings, gpus_per_trial: float, trials: int) -> int:
    """Trials at once: ``max_concurrent``, or as many as the cluster's resources hold (at
    most ``trials``)."""
    if settings.max_concurrent:
        return settings.max_concurrent
    resources = ray.cluster_resources()
    slots = resources.get("CPU", 1) // settings.cpus_per_trial
    if gpus_per_trial > 0:
        slots = min(slots, resources.get("GPU", 0) // gpus_per_trial)
    return int(max(1, min(slots, trials)))


def completed_fold_values(settings: StudySettings) -> dict[str, list[float]]:
    """Per-fold objective values of the complete candidate trials already in the
    experiment (for --resume)."""
    study = open_study(settings.experiment_dir())
    rows = candidates(study.ranked)
    return dict(zip(rows["trial_id"], rows[folds_key(settings.objective)], strict=True))


def make_trainable(
    settings: StudySettings, tuning: EEGDataset, gpus_per_trial: float, resume: bool
):
    pruner = None
    if settings.prune:
        pruner = start_pruner(
            settings.objective, completed_fold_values(settings) if resume else None
        )
    # A plain ndarray (not np.memmap, which Ray pickles as a private copy per worker) goes
    # to the object store once and reaches every trial as a zero-copy read-only view; the
    # tuning windows are picked from it by index, never copied.
    trainable = tune.with_parameters(
        run_trial,
        x=np.asarray(tuning.x),
        y=tuning.y,
        groups=tuning.groups,
        rows=tuning.rows,
        base=settings.base_config().to_dict(),
        source=tuning.source,
        objective=settings.objective,
        pruner=pruner,
    )
    return tune.with_resources(trainable, {"cpu": settings.cpus_per_trial, "gpu": gpus_per_trial})


def progress_table(objectives: tuple[str, ...]) -> tune.CLIReporter:
    """A compact trial table every 15 s: status, folds done, running objectives (with the
    first one's std), parameters."""
    shown = [*objectives[:1], std_key(objectives[0]), *objectives[1:]]
    return tune.CLIReporter(
        parameter_columns=["lr", "boundaries", "k", "lambda"],
        metric_columns={FOLDS_DONE: "folds", **{name: name for name in shown}, STATUS: "outcome"},
        max_report_frequency=15,
        # no sort_by_metric: Ray's sort fails on a trial the time budget stopped before its
        # first fold (no metric to compare)
    )


def start_files(settings: StudySettings, dataset: EEGDataset, plan: StudyPlan) -> None:
    """The experiment's own files of a new study: held-out subjects, the model-free baselines
    on the study's folds, then the settings (with the plan). The settings file is written
    last: it marks a study that can be resumed, so a kill before it leaves none."""
    directory = settings.experiment_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stamp_experiment(directory)
    write_holdout(directory, plan, dataset)
    if dataset.meta is not None:
        write_json_file(directory / DATA_META_FILE, dataset.meta)
    tuning = dataset.subset(plan.tuning)
    base = settings.base_config()
    write_json_file(
        directory / BASELINES_FILE,
        {
            str(role): constant_predictor_cv(base, tuning, role).report()
            for role in MODEL_FREE_ROLES
        },
    )
    saved = saved_settings_of(settings)
    saved["plan"] = plan.to_dict()
    write_settings(directory, saved)


def make_tuner(settings: StudySettings, space: SearchSpace, trainable, gpus: float, resume: bool):
    directory = settings.experiment_dir()
    if resume and tune.Tuner.can_restore(str(directory)):
        return tune.Tuner.restore(
            str(directory), trainable=trainable, resume_unfinished=True, resume_errored=True
        )
    if resume:  # stopped before Tune saved anything: no trial had finished a fold
        print(f"{directory}: no saved search state yet: the search starts afresh", file=sys.stderr)
    trials = settings.num_samples + baseline_trials(space)
    return tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(
            search_alg=make_search(settings, space, concurrency(settings, gpus, trials)),
            num_samples=trials,
            time_budget_s=settings.time_budget,
            trial_name_creator=trial_name,
            trial_dirname_creator=trial_name,  # folders named like trials
            # a trial's worker (with torch loaded and the data mapped) serves the next
            # trial: saves seconds of process start per trial
            reuse_actors=True,
        ),
        run_config=tune.RunConfig(
            name=settings.name,
            storage_path=str(directory.parent),
            failure_config=tune.FailureConfig(max_failures=MAX_FAILURES),
            progress_reporter=progress_table(settings.objective_names),
            sync_config=tune.SyncConfig(sync_period=SYNC_SECONDS),
            # the rows results reads back (Tune adds no loggers of its own: see ray_compat)
            callbacks=[JsonLoggerCallback(), CSVLoggerCallback(), KeepRowsOnRetry()],
            verbose=1,
        ),
    )


def run_study(
    settings: StudySettings, dataset: EEGDataset, planned: list[Planned], resume: bool = False
) -> int:
    """Run the study (or, nested, one study per outer fold) to the end in one Ray: search,
    score the held-out subjects, print the summary; returns the exit code."""
    directory = settings.experiment_dir()
    check_storage_writable(directory)
    if not resume and (directory / SETTINGS_FILE).exists():
        raise ConfigError(
            f"{directory} already holds a study: add --resume to continue it or "
            "choose another --name."
        )
    storage = Path(settings.storage_path).expanduser().resolve()
    user_key(create=True)  # a new study's stamp needs it: a bad key is refused before Ray
    for study in planned:
        if study.continuing:
            check_resumable(study.settings.experiment_dir(), storage)
            check_saved_search_state(study.settings.experiment_dir())
    if settings.optuna_storage:
        open_optuna_storage(settings.optuna_storage)
    restrict_umask()
    cautions = protocol_cautions(settings, dataset)
    for warning in cautions:
        print(f"warning: {warning}", file=sys.stderr)
    url = start_ray(
        settings.address, settings.dashboard_host, settings.dashboard_port, settings.name
    )
    try:
        check_storage_shared(directory.parent)
        gpus = settings.gpus_per_trial
        if gpus is None:
            gpus = 1.0 if cluster_gpus() > 0 else 0.0
        check_trial_fits(settings.cpus_per_trial, gpus)
        if url:
            access = dashboard_access(url, settings.address, settings.dashboard_host, settings.name)
            print(access, file=sys.stderr)
        nested = bool(settings.outer_folds)
        if nested and not resume:
            write_settings(directory, saved_settings_of(settings))
        for study in planned:
            search_and_refit(study, dataset, gpus, outer=nested)
    finally:
        ray.shutdown()
    if nested:
        for study in planned:
            report_study(study.settings, quiet=True)
        code = report_nested(settings)
    else:
        code = report_study(settings)
    for warning in cautions:
        print(f"warning: {warning}")
    return code


def objectives_said(settings: StudySettings) -> str:
    """``objective mae``, or ``objectives mae, few_mae (Pareto front)``."""
    if not settings.multi_objective:
        return f"objective {settings.objective}"
    return f"objectives {', '.join(settings.objective_names)} (Pareto front)"


def search_and_refit(study: Planned, dataset: EEGDataset, gpus: float, outer: bool) -> None:
    """One study, in the running Ray: its files, the search, the held-out refits."""
    settings, plan = study.settings, study.plan
    directory = settings.experiment_dir()
    print(
        f"{'outer fold study' if outer else 'experiment'}: {directory} ({settings.num_samples} "
        f"trials x {settings.folds} folds x <= {settings.epochs} epochs on {dataset.source}, "
        f"{objectives_said(settings)}; {settings.cpus_per_trial:g} CPU and {gpus:g} GPU "
        f"per trial)\nheld-out subjects: {plan.holdout_reason}\n{plan.lambda_note}",
        file=sys.stderr,
    )
    if not study.continuing:
        start_files(settings, dataset, plan)
    trainable = make_trainable(settings, dataset.subset(plan.tuning), gpus, study.continuing)
    tuner = make_tuner(settings, study.space, trainable, gpus, study.continuing)
    record_stopped_trials(directory, tuner.fit(), settings.time_budget)
    del tuner, trainable  # frees the object store's copy of the data before the refits
    gc.collect()
    run_refits(
        directory, dataset, plan, settings.base_config().to_dict(), settings.cpus_per_trial, gpus
    )


def record_stopped_trials(directory: Path, grid: tune.ResultGrid, budget: float | None) -> None:
    """Name, in ``STOPPED_FILE``, the trials the search ended before their last fold without
    an error: only the time budget stops a trial so (a Ctrl-C never reaches here)."""
    stopped = [
        trial_id_of_folder(Path(result.path).name)
        for result in grid
        if result.error is None and result.metrics.get(STATUS) not in FINAL_STATUSES
    ]
    if stopped:
        write_json_file(
            directory / STOPPED_FILE,
            {
                "reason": f"the time budget of {budget:g} s" if budget else "the search ended",
                "trials": stopped,
            },
        )


def saved_settings_of(settings: StudySettings) -> dict:
    """The settings as saved in the experiment: data paths absolute (so ``--resume`` works
    from any folder) and the base config spelled out."""
    saved = settings.to_dict()
    for key in ("x", "y", "groups"):
        if saved[key] is not None:
            saved[key] = str(Path(saved[key]).resolve())
    saved["base_config"] = settings.base_config().to_dict()
    saved["objective"] = settings.objective
    return saved


def protocol_cautions(settings: StudySettings, dataset: EEGDataset) -> list[str]:
    """What makes every score of this study optimistic, said at its start and end."""
    cautions = []
    if dataset.groups is None:
        cautions.append(UNGROUPED_WARNING + "; pass --groups")
    if settings.base_config().selection == "test":
        cautions.append(OPTIMISTIC_WARNING)
    return cautions


def report_study(settings: StudySettings, quiet: bool = False) -> int:
    """Print the summary (unless ``quiet``), export the best config and write the report,
    in the experiment."""
    directory = settings.experiment_dir()
    study = open_study(directory)
    if not quiet:
        print("\n".join(summary_lines(study, TOP)))
    if candidates(study.ranked).empty:
        print(f"{directory}: no trial completed: nothing to export")
        return 1
    (path,) = export_configs(study.ranked, directory / BEST_CONFIG_FILE, note=export_note(study))
    report = write_report(study, directory / REPORT_FOLDER, f"Study {settings.name}")
    if not quiet:
        print(f"best config: {path}  (use: python -m centerir train --config {path})")
        print(f"report: {report}  (python -m results {directory} --help for more)")
    return 0


def report_nested(settings: StudySettings) -> int:
    """Print the nested study's summary: the whole tuning procedure scored on outer folds."""
    directory = settings.experiment_dir()
    print("\n".join(nested_lines(directory)))
    print(f"each outer fold's study, report and best config: {directory}/*-outer*/")
    return 0
