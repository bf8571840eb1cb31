"""``python -m tune_study.launch``: a Ray Tune + Optuna search over CenterIR hyperparameters.

Every trial is a full k-fold cross-validation (``centerir.cross_validate``) on the
resources Ray gives it; Optuna's TPE proposes learning rate, bins, k set and lambda. Subjects
held out before the search score the chosen configuration once at the end, beside the
mean predictor and plain MSE. With no arguments: a small study on the built-in demo data on
a local Ray.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from centerir.bins import LabelBins
from centerir.command_line import OneLineParser, finite_number, run_command, whole_number
from centerir.config import ConfigError
from centerir.contract import (
    DEFAULT_OBJECTIVE,
    HOLDOUT_FILE,
    MAX_OBJECTIVES,
    METRICS,
    SETTINGS_FILE,
    SUBJECT_METRICS,
    read_json_file,
    read_settings,
)
from centerir.cv import fit_parts
from centerir.data import EEGDataset, check_for_cv, load_dataset
from centerir.demo import make_demo_dataset
from centerir.model import min_n_times
from search_spaces import SearchSpace, get_space
from tune_study.plan import (
    Planned,
    Split,
    StudyPlan,
    derive_lambda_range,
    outer_fold_splits,
    split_subjects,
)
from tune_study.ray_compat import check_ray, set_launcher_environment
from tune_study.settings import (
    DERIVED_SETTINGS,
    SYNC_SECONDS,
    StudySettings,
    check_settings,
    read_study_file,
)


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="python -m tune_study.launch", description=__doc__.splitlines()[0])
    p.add_argument("--config", type=Path, help="TOML study file; flags given here override it")
    p.add_argument(
        "--x",
        help="EEG windows .npy, (N, 1, C, T) or (N, C, T); omit --x/--y for "
        "the built-in synthetic demo data",
    )
    p.add_argument("--y", help="scores .npy, (N,) or (N, 1)")
    p.add_argument(
        "--groups",
        help="subject id per window .npy (N,): keeps each subject on "
        "one side of every split (strongly recommended)",
    )
    p.add_argument(
        "--address",
        help="Ray cluster: omit for a local Ray, 'auto' for the running "
        "cluster, 'ray://host:10001' for Ray Client",
    )
    p.add_argument(
        "--num-samples", type=whole_number, help="trials (default 8 on demo data, 20 on yours)"
    )
    p.add_argument(
        "--max-concurrent",
        type=whole_number,
        help="trials at once (default: as many as the resources allow)",
    )
    p.add_argument(
        "--cpus-per-trial",
        type=finite_number,
        help="CPUs per trial (default 1); also the trial's torch threads",
    )
    p.add_argument(
        "--gpus-per-trial",
        type=finite_number,
        help="GPUs per trial, fractions allowed (default 1 when the cluster has GPUs, else 0)",
    )
    p.add_argument(
        "--folds", type=whole_number, help="CV folds per trial (default 3 demo, 10 yours)"
    )
    p.add_argument(
        "--epochs", type=whole_number, help="most epochs per fold (default 6 demo, 100 yours)"
    )
    p.add_argument(
        "--space",
        help="search space: default, paper (narrow, around the published "
        "values) or wide (adds batch size and dropout)",
    )
    p.add_argument(
        "--seed", type=whole_number, help="seed of the sampler, folds and training (default 42)"
    )
    p.add_argument(
        "--storage-path",
        help="local folder where experiments are written (default ./ray_results; "
        "a multi-node cluster needs a folder all nodes mount; URIs such as s3:// are not "
        "supported)",
    )
    p.add_argument("--name", help="experiment folder name (default centerir-<date>-<time>)")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the experiment --name: finished trials are kept, unfinished "
        "ones continue at their next fold",
    )
    p.add_argument(
        "--time-budget",
        type=finite_number,
        help="end the search after this many seconds: running trials stop at their last "
        "finished fold (listed as stopped, never ranked), no new trial starts; the held-out "
        "refits still run",
    )
    p.add_argument(
        "--optuna-storage",
        help="Optuna database URL (e.g. sqlite:///study.db) "
        "so optuna-dashboard can watch the study",
    )
    p.add_argument(
        "--prune",
        action="store_true",
        default=None,
        help="stop trials whose running fold-mean MAE is worse than the 25th percentile "
        "of completed trials at the same fold count (from fold 2)",
    )
    p.add_argument(
        "--objectives",
        "--objective",
        dest="objectives",
        help="fold-averaged metric to search, rank and prune on (default mae), or up to "
        f"{MAX_OBJECTIVES} separated by commas for a Pareto front (e.g. mae,few_mae; no "
        f"--prune; the exported best is the front's best on the first): {', '.join(METRICS)}",
    )
    p.add_argument(
        "--holdout",
        type=finite_number,
        help="share of subjects (0-0.5) set aside before the search and scored once at the "
        "end (default 0.2 with --groups and >= 20 subjects left to tune, else 0)",
    )
    p.add_argument(
        "--outer-folds",
        type=whole_number,
        help="nested CV for a paper's final number: a whole study per outer fold, tuned on "
        "the other folds' subjects and scored once on its own (needs --groups; no --holdout)",
    )
    p.add_argument(
        "--dashboard-host",
        help="address the Ray dashboard listens on (default "
        "127.0.0.1; an IP address or host name of this machine; anything else than "
        "loopback exposes the dashboard, guarded only by Ray's token, over plain HTTP)",
    )
    p.add_argument(
        "--dashboard-port",
        type=whole_number,
        help="Ray dashboard port (default 8265, or a free port when another Ray holds it)",
    )
    return p


def settings_from_args(args: argparse.Namespace) -> StudySettings:
    """Defaults < study file < flags."""
    values = read_study_file(args.config) if args.config else {}
    for key, value in vars(args).items():
        if key not in ("config", "resume") and value is not None:
            values[key] = value
    settings = StudySettings(**values)  # the study file's keys and the flags are all fields
    if settings.name is None:
        if args.resume:
            raise ConfigError("--resume needs --name of the experiment to continue.")
        settings = replace(settings, name=time.strftime("centerir-%Y%m%d-%H%M%S"))
    check_settings(settings)
    return settings.resolved()


def load_study_data(settings: StudySettings) -> EEGDataset:
    if settings.uses_demo:
        dataset = make_demo_dataset(seed=0)
    else:
        dataset = load_dataset(settings.x, settings.y, settings.groups)
    config = settings.base_config()
    check_for_cv(dataset, config.folds, min_n_times(config.temporal_kernel, config.pool_size))
    return dataset


def kept_bins_per_boundaries(
    dataset: EEGDataset, settings: StudySettings, space: SearchSpace
) -> dict[int, tuple[int, ...]]:
    """For each boundaries value, the kept-bin count of every fold's fit labels."""
    parts = fit_parts(settings.base_config(), dataset)
    return {
        b: tuple(sorted({LabelBins.fit(dataset.y[fit], b).n_kept for fit in parts}))
        for b in space.boundary_values()
    }


def build_space(tuning: EEGDataset, settings: StudySettings) -> SearchSpace:
    """The named space with the study file's ranges and the data's kept bins (for
    ``remainder="strict"``), before the lambda range is decided."""
    remainder = settings.base_config().remainder
    space = get_space(settings.space, overrides=settings.ranges)
    kept = kept_bins_per_boundaries(tuning, settings, space) if remainder == "strict" else {}
    return get_space(settings.space, remainder=remainder, kept_bins=kept, overrides=settings.ranges)


def check_objective(settings: StudySettings, dataset: EEGDataset) -> None:
    """Subject-level objectives need subject ids."""
    for name in settings.objective_names:
        if name in SUBJECT_METRICS and dataset.groups is None:
            raise ConfigError(
                f"objective {name!r} is computed over subjects and needs subject ids: "
                "pass --groups, or choose a window-level objective such as 'mae'."
            )


def plan_study(
    dataset: EEGDataset, settings: StudySettings, continuing: bool, split: Split | None = None
) -> tuple[StudyPlan, SearchSpace]:
    """A study's hold-out (``split``, or the settings' share) and lambda range, new or as
    saved when ``continuing``, and the search space with that lambda range."""
    saved = None
    if continuing:
        saved = StudyPlan.check_saved(
            read_settings(settings.experiment_dir()).get("plan"),
            settings.experiment_dir() / SETTINGS_FILE,
        )
        settings = replace(settings, holdout=saved["holdout"])
    fraction, reason, tuning, held_out = split or split_subjects(dataset, settings)
    tuning_data = dataset.subset(tuning)
    space = build_space(tuning_data, settings)
    if saved is None:
        lambdas, note = derive_lambda_range(tuning_data, settings, space)
    else:
        reason, note = saved["holdout_reason"], saved["lambda_note"]
        lambdas = (float(saved["lambda_range"][0]), float(saved["lambda_range"][1]))
    plan = StudyPlan(tuning, held_out, fraction, reason, lambdas, note)
    if continuing:
        check_same_holdout(settings, plan, dataset)
    return plan, replace(space, lambda_=lambdas)


def plan_studies(dataset: EEGDataset, settings: StudySettings, resume: bool) -> list[Planned]:
    """The one study, or with ``outer_folds`` one study per outer fold (each continued
    where its folder already holds one and ``resume`` is asked)."""
    if not settings.outer_folds:
        return [Planned(settings, *plan_study(dataset, settings, resume), resume)]
    planned = []
    for number, split in enumerate(outer_fold_splits(dataset, settings, settings.outer_folds), 1):
        sub = settings.outer_fold(number)
        continuing = resume and (sub.experiment_dir() / SETTINGS_FILE).is_file()
        planned.append(Planned(sub, *plan_study(dataset, sub, continuing, split), continuing))
    return planned


def check_same_holdout(settings: StudySettings, plan: StudyPlan, dataset: EEGDataset) -> None:
    """On ``--resume``: the data must hold out the same subjects as when the study began."""
    path = settings.experiment_dir() / HOLDOUT_FILE
    saved = read_json_file(path, "held-out subjects and scores")
    if not isinstance(saved, dict) or not isinstance(saved.get("scores"), dict):
        raise ConfigError(
            f"{path}: expected the held-out subjects and a 'scores' table, got a broken file; "
            "this study cannot be resumed as saved."
        )
    subjects = plan.held_out_subjects(dataset)
    if saved.get("subjects") != subjects:
        raise ConfigError(
            f"{path}: expected the held-out subjects this data gives "
            f"({len(subjects)}), got others: the data changed since the "
            "study began; resume it with the same --x, --y and --groups."
        )


def configure_launcher(settings: StudySettings) -> None:
    """Process-wide settings of the launcher, before Ray is imported: Ray's environment
    switches (a local Ray on loopback at this process's priority; Tune's compact output;
    frequent saves of the experiment state, so an interrupted study keeps what finished)."""
    set_launcher_environment(local=settings.address is None, checkpoint_period_s=SYNC_SECONDS)


def launch(args: argparse.Namespace) -> int:
    """Check everything, then run (or resume) the study; returns the exit code."""
    settings = settings_from_args(args)
    if args.resume:
        settings = saved_settings(settings)
    dataset = load_study_data(settings)
    check_objective(settings, dataset)
    planned = plan_studies(dataset, settings, args.resume)
    configure_launcher(settings)
    check_ray()
    from tune_study.study import run_study  # Ray is imported only once input is valid

    return run_study(settings, dataset, planned, resume=args.resume)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_command(
        lambda: launch(args),
        interrupted="interrupted: finished trials, folds and held-out scores are saved; "
        f"continue with --resume --name {args.name or '<name>'}",
    )


def saved_settings(settings: StudySettings) -> StudySettings:
    """The settings an experiment was started with, for ``--resume``."""
    path = settings.experiment_dir() / SETTINGS_FILE
    if not path.is_file():
        raise ConfigError(
            f"{settings.experiment_dir()}: no study to resume there "
            f"(missing {SETTINGS_FILE}); check --name and --storage-path."
        )
    saved = read_settings(settings.experiment_dir())
    saved.setdefault("objectives", saved.get("objective", DEFAULT_OBJECTIVE))
    for key in DERIVED_SETTINGS:
        saved.pop(key, None)
    saved.update(storage_path=settings.storage_path, name=settings.name, address=settings.address)
    try:
        resumed = StudySettings(**saved)
        check_settings(resumed)
    except TypeError as err:
        raise ConfigError(f"{path}: expected the study's settings, got {err}.") from None
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None
    return resumed


if __name__ == "__main__":
    raise SystemExit(main())
