"""``python -m tune_study.launch``: a Ray Tune + Optuna search over CenterIR hyperparameters.

Every trial is a full k-fold cross-validation (``centerir.cross_validate``) on the
resources Ray gives it; Optuna's TPE proposes learning rate, bins, k set and lambda. With no
arguments: a small study on the built-in demo data on a local Ray.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from centerir.bins import LabelBins
from centerir.cli import OneLineParser
from centerir.config import ConfigError
from centerir.cv import fit_parts
from centerir.data import DataError, EEGDataset, check_for_cv, load_dataset
from centerir.demo import make_demo_dataset
from centerir.model import min_n_times
from search_spaces import SearchSpace, get_space
from tune_study.settings import (
    SETTINGS_FILE,
    StudySettings,
    check_settings,
    read_study_file,
)

LOCAL_ONLY_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # "0": Ray listens on 127.0.0.1 only


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
    p.add_argument("--num-samples", type=int, help="trials (default 8 on demo data, 20 on yours)")
    p.add_argument(
        "--max-concurrent",
        type=int,
        help="trials at once (default: as many as the resources allow)",
    )
    p.add_argument(
        "--cpus-per-trial",
        type=float,
        help="CPUs per trial (default 1); also the trial's torch threads",
    )
    p.add_argument(
        "--gpus-per-trial",
        type=float,
        help="GPUs per trial, fractions allowed (default 1 when the cluster has GPUs, else 0)",
    )
    p.add_argument("--folds", type=int, help="CV folds per trial (default 3 demo, 10 yours)")
    p.add_argument("--epochs", type=int, help="most epochs per fold (default 6 demo, 100 yours)")
    p.add_argument(
        "--space",
        help="search space: default, paper (narrow, around the published "
        "values) or wide (adds batch size and dropout)",
    )
    p.add_argument("--seed", type=int, help="seed of the sampler, folds and training (default 42)")
    p.add_argument(
        "--storage-path",
        help="where experiments are written (default ./ray_results; "
        "a multi-node cluster needs storage all nodes share)",
    )
    p.add_argument("--name", help="experiment folder name (default centerir-<date>-<time>)")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the experiment --name: finished trials are kept, unfinished "
        "ones continue at their next fold",
    )
    p.add_argument("--time-budget", type=float, help="stop starting trials after this many seconds")
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
        "--dashboard-host",
        help="address the Ray dashboard listens on (default "
        "127.0.0.1; anything else exposes an unauthenticated dashboard)",
    )
    p.add_argument(
        "--dashboard-port",
        type=int,
        help="Ray dashboard port (default 8265, or a free port when another Ray holds it)",
    )
    return p


def settings_from_args(args: argparse.Namespace) -> StudySettings:
    """Defaults < study file < flags."""
    values = read_study_file(args.config) if args.config else {}
    for key, value in vars(args).items():
        if key not in ("config", "resume") and value is not None:
            values[key] = value
    try:
        settings = StudySettings(**values)
    except TypeError as err:
        raise ConfigError(f"bad study settings: {err}") from None
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


def check_fixed_keys(settings: StudySettings) -> None:
    """Refuse a ``[config]`` key the space searches: every trial would silently override it."""
    searched = get_space(settings.space, overrides=settings.ranges).searched_keys
    fixed = [key for key in searched if key in settings.config]
    if fixed:
        raise ConfigError(
            f"[config] fixes {', '.join(map(repr, fixed))}, which the '{settings.space}' space "
            "searches: remove it from [config] or narrow its range in [ranges]."
        )


def build_space(dataset: EEGDataset, settings: StudySettings) -> SearchSpace:
    remainder = settings.base_config().remainder
    space = get_space(settings.space, overrides=settings.ranges)
    kept = kept_bins_per_boundaries(dataset, settings, space) if remainder == "strict" else {}
    try:
        return get_space(
            settings.space, remainder=remainder, kept_bins=kept, overrides=settings.ranges
        )
    except ValueError as err:
        raise ConfigError(str(err)) from None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from_args(args)
        if args.resume:
            settings = saved_settings(settings)
        check_fixed_keys(settings)
        dataset = load_study_data(settings)
        space = build_space(dataset, settings)
        if settings.address is None:
            # Ray's switch for a single-machine Ray: every listener on 127.0.0.1. Ray reads it
            # when first imported, so it is set before the import below.
            os.environ.setdefault(LOCAL_ONLY_ENV, "0")
        from tune_study.study import run_study  # Ray is imported only once input is valid

        return run_study(settings, dataset, space, resume=args.resume)
    except (DataError, ConfigError, ValueError) as err:
        print(f"error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted: finished trials and folds are saved; continue with --resume "
            f"--name {args.name or '<name>'}",
            file=sys.stderr,
        )
        return 130


def saved_settings(settings: StudySettings) -> StudySettings:
    """The settings an experiment was started with, for ``--resume``."""
    path = settings.experiment_dir() / SETTINGS_FILE
    if not path.is_file():
        raise ConfigError(
            f"{settings.experiment_dir()}: no study to resume there "
            f"(missing {SETTINGS_FILE}); check --name and --storage-path."
        )
    saved = json.loads(path.read_text())
    saved.pop("base_config", None)
    saved.update(storage_path=settings.storage_path, name=settings.name, address=settings.address)
    return StudySettings(**saved)


if __name__ == "__main__":
    raise SystemExit(main())
