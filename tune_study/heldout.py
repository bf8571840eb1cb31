"""Refit the chosen configuration and the baselines on all tuning subjects and score them
once on the held-out subjects, as Ray tasks with a trial's resources.

Each score is written to ``HOLDOUT_FILE`` the moment it arrives, so an interrupted study
never repeats a finished refit; ``--resume`` runs only the missing ones.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import ray

from centerir.config import Config
from centerir.contract import (
    BEST_REFIT,
    HOLDOUT_FILE,
    PLAIN_MSE,
    PUBLISHED,
    REFITS,
    ROLE,
    HeldOutScore,
    Role,
    read_json_file,
    write_json_file,
)
from centerir.data import EEGDataset
from results import candidates, open_study
from tune_study.plan import StudyPlan


def refit_task(
    config: dict[str, Any],
    role: str,
    trial_id: str,
    x: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray | None,
    tuning: np.ndarray,
    held_out: np.ndarray,
    threads: int,
    device: str,
) -> dict[str, Any]:
    """One refit, in a Ray worker: :func:`centerir.refit.refit_and_score` as a dict."""
    import torch

    from centerir.refit import refit_and_score
    from centerir.runtime import configure_runtime

    configure_runtime(threads)
    if device == "cuda" and not torch.cuda.is_available():
        device = "cpu"
    dataset = EEGDataset(x=x, y=y, groups=groups)
    score = refit_and_score(
        Config.from_dict(config),
        dataset,
        tuning,
        held_out,
        Role(role),
        torch.device(device),
        trial_id,
    )
    return score.to_dict()


def write_holdout(directory: Path, plan: StudyPlan, dataset: EEGDataset) -> None:
    """Start ``HOLDOUT_FILE``: the held-out subjects, why, and no scores yet."""
    write_json_file(
        directory / HOLDOUT_FILE,
        {
            "fraction": plan.holdout,
            "reason": plan.holdout_reason,
            "subjects": plan.held_out_subjects(dataset),
            "n_tuning_windows": len(plan.tuning),
            "n_held_out_windows": len(plan.held_out),
            "scores": {},
        },
    )


def refit_configs(directory: Path, base: dict[str, Any]) -> dict[str, tuple[dict, str]]:
    """What to refit, by ``REFITS`` key: (config, trial id); the best is the study's top
    candidate, the others its published and plain-MSE trials (or their configs)."""
    study = open_study(directory)
    ranked = candidates(study.ranked)
    if ranked.empty:
        return {}
    best = ranked.iloc[0]
    configs = {BEST_REFIT: (dict(best["config"]), str(best["trial_id"]))}
    for role, point in ((Role.PUBLISHED, PUBLISHED), (Role.PLAIN_MSE, PLAIN_MSE)):
        rows = study.ranked[study.ranked[ROLE] == str(role)]
        if len(rows):
            configs[str(role)] = (dict(rows.iloc[0]["config"]), str(rows.iloc[0]["trial_id"]))
        else:
            configs[str(role)] = (Config.from_dict({**base, **point}).to_dict(), "")
    configs[str(Role.MEAN_PREDICTOR)] = (dict(base), "")
    return configs


def run_refits(
    directory: Path,
    dataset: EEGDataset,
    plan: StudyPlan,
    base: dict[str, Any],
    cpus: float,
    gpus: float,
) -> None:
    """Refit and score every ``REFITS`` entry not yet in ``HOLDOUT_FILE``, in parallel Ray
    tasks of ``cpus``/``gpus`` each, saving each score as it arrives."""
    if not len(plan.held_out):
        return
    path = directory / HOLDOUT_FILE
    saved = read_json_file(path, "held-out subjects and scores")
    configs = refit_configs(directory, base)
    todo = [str(key) for key in REFITS if str(key) in configs and str(key) not in saved["scores"]]
    if not todo:
        return
    # the best is often the published trial: refit a trial once and save it under both keys
    first_of = {}
    for key in todo:
        trial_id = configs[key][1]
        first_of[key] = next((k for k in todo if trial_id and configs[k][1] == trial_id), key)
    runs = [key for key in todo if first_of[key] == key]
    print(
        f"held-out subjects: refitting {len(runs)} ({', '.join(runs)}) on all "
        f"{len(plan.tuning)} tuning windows, then scoring once on {len(plan.held_out)} "
        "held-out windows",
        file=sys.stderr,
    )
    task = ray.remote(num_cpus=cpus, num_gpus=gpus, max_retries=1)(refit_task)
    shared = [ray.put(np.asarray(dataset.x)), dataset.y, dataset.groups]
    pending = {
        task.remote(
            configs[key][0],
            key if key != BEST_REFIT else Role.SEARCH,
            configs[key][1],
            *shared,
            plan.tuning,
            plan.held_out,
            max(1, int(cpus)),
            "cuda" if gpus > 0 else "cpu",
        ): key
        for key in runs
    }
    while pending:
        (done,), _ = ray.wait(list(pending), num_returns=1)
        key = pending.pop(done)
        score = HeldOutScore.from_dict(ray.get(done))
        for same in (other for other in todo if first_of[other] == key):
            score.role = same
            saved["scores"][same] = score.to_dict()
        write_json_file(path, saved)
        print(
            f"held-out {key}: {score.status}, MAE {score.metrics.get('mae', float('nan')):.3f} "
            f"({score.seconds:.0f} s)",
            file=sys.stderr,
        )
