"""Refit a configuration on all tuning subjects and score it once on held-out subjects.

The refit is one more fold of the study's own protocol: the model is trained on every
tuning window, its epoch picked on an inner subject-wise validation split of them (never
on the held-out subjects, whatever ``selection`` says), and the held-out windows are
predicted once. A fixed epoch count (e.g. the CV's median selected epoch) proved brittle:
with few epochs selected it left a model whose mean prediction was far off.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import torch

from centerir.baselines import constant_predictions
from centerir.config import Config
from centerir.contract import MODEL_FREE_ROLES, HeldOutScore, Role, Status
from centerir.cv import fold_metrics, run_fold
from centerir.data import EEGDataset
from centerir.metrics import bootstrap_mae_intervals


def refit_and_score(
    config: Config,
    dataset: EEGDataset,
    tuning: np.ndarray,
    held_out: np.ndarray,
    role: Role,
    device: torch.device,
    trial_id: str = "",
) -> HeldOutScore:
    """Train ``config`` on the ``tuning`` windows (or take their mean/median for a
    constant-predictor ``role``) and score it once on the ``held_out`` windows, with 95 %
    bootstrap intervals over held-out subjects and the mean prediction beside the mean
    scores (a refit that predicts far from them is biased, whatever its MAE)."""
    started = time.perf_counter()
    constant = role in MODEL_FREE_ROLES
    score = HeldOutScore(
        role=str(role),
        config={} if constant else config.to_dict(),
        trial_id=trial_id,
        status=str(Status.COMPLETE),
        held_out_mean=float(np.mean(dataset.y[held_out])),
        tuning_mean=float(np.mean(dataset.y[tuning])),
    )
    if constant:
        predictions = constant_predictions(role, dataset.y[tuning], len(held_out))
        score.metrics = fold_metrics(config, dataset, tuning, held_out, predictions)
    else:
        inner = replace(config, selection="inner")  # the held-out subjects never pick
        fold, message = run_fold(inner, dataset, config.folds, tuning, held_out, device, ())
        if fold is None:
            score.status, score.message = str(Status.DIVERGED), message
            score.seconds = time.perf_counter() - started
            return score
        predictions = np.asarray(fold.predictions)
        score.metrics, score.selected_epoch = fold.metrics, fold.selected_epoch
    groups = None if dataset.groups is None else dataset.groups[held_out]
    score.intervals = bootstrap_mae_intervals(
        dataset.y[held_out], predictions, groups, seed=config.seed
    )
    score.mean_prediction = float(np.mean(predictions))
    score.seconds = time.perf_counter() - started
    return score
