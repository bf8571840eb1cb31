"""What a study decides from its data before any trial: which subjects it never sees, and
where lambda matters. Saved with the settings, so ``--resume`` continues the same plan."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from centerir.config import MAX_LAMBDA
from centerir.contract import UserError
from centerir.cv import fit_parts
from centerir.data import EEGDataset, check_for_cv
from centerir.holdout import MIN_HOLDOUT_SUBJECTS, default_holdout, holdout_split, n_held_out
from centerir.lambda_scale import SHARE_RANGE, centerir_gradient_ratio, lambda_range
from centerir.model import min_n_times
from centerir.splits import outer_folds
from search_spaces import SearchSpace
from tune_study.settings import MAX_HOLDOUT, StudySettings


@dataclass(frozen=True)
class StudyPlan:
    """Decisions taken once per study.

    Attributes
    ----------
    tuning, held_out : ndarray of int
        Window indices the search sees, and those it never sees (subject-disjoint).
    holdout : float
        Share of subjects held out (0: none).
    holdout_reason : str
        Why that share, for the study's output.
    lambda_range : (float, float)
        The searched lambda range.
    lambda_note : str
        Where that range comes from, for the study's output.
    """

    tuning: np.ndarray
    held_out: np.ndarray
    holdout: float
    holdout_reason: str
    lambda_range: tuple[float, float]
    lambda_note: str

    def to_dict(self) -> dict[str, Any]:
        """What is saved with the settings (the indices follow from the data and seed)."""
        return {
            "holdout": self.holdout,
            "holdout_reason": self.holdout_reason,
            "lambda_range": list(self.lambda_range),
            "lambda_note": self.lambda_note,
        }

    @staticmethod
    def check_saved(values: Any, path: Path) -> dict[str, Any]:
        """A plan as saved by :meth:`to_dict` in the file ``path``, checked (``UserError``)."""
        ok = isinstance(values, dict)
        if ok:
            share, lambdas = values.get("holdout"), values.get("lambda_range")
            ok = (
                isinstance(share, (int, float))
                and not isinstance(share, bool)
                and 0 <= share <= MAX_HOLDOUT
                and isinstance(lambdas, list)
                and len(lambdas) == 2
                and all(isinstance(v, (int, float)) and 0 < v < math.inf for v in lambdas)
                and lambdas[0] <= lambdas[1]
                and isinstance(values.get("holdout_reason"), str)
                and isinstance(values.get("lambda_note"), str)
            )
        if not ok:
            raise UserError(
                f"{path}: expected the study's plan (holdout in [0, {MAX_HOLDOUT}], lambda_range "
                f"[low, high] > 0, holdout_reason, lambda_note), got {values!r:.200}; this "
                "study cannot be resumed as saved."
            )
        return values

    def held_out_subjects(self, dataset: EEGDataset) -> list:
        """The held-out subject ids, sorted, as plain JSON values."""
        if dataset.groups is None or not len(self.held_out):
            return []
        return np.unique(dataset.groups[self.held_out]).tolist()


Split = tuple[float, str, np.ndarray, np.ndarray]  # share, why, tuning, held-out indices


@dataclass(frozen=True)
class Planned:
    """One study to run: its settings, plan and space, and whether it continues a saved one."""

    settings: StudySettings
    plan: StudyPlan
    space: SearchSpace
    continuing: bool


def check_tuning_part(dataset: EEGDataset, settings: StudySettings, tuning: np.ndarray) -> None:
    """The tuning windows must still suffice for the study's folds (a ``UserError``)."""
    config = settings.base_config()
    check_for_cv(
        dataset.subset(tuning),
        config.folds,
        min_n_times(config.temporal_kernel, config.pool_size),
    )


def outer_fold_splits(dataset: EEGDataset, settings: StudySettings, n_outer: int) -> list[Split]:
    """Nested CV: per outer fold, its test subjects held out and the rest to tune on
    (score-stratified, subject-disjoint folds as every CV here), each checked to suffice."""
    if dataset.groups is None:
        raise UserError(
            "outer_folds needs subject ids (--groups): outer test folds must hold whole "
            "subjects, or the outer score is optimistic."
        )
    n = len(np.unique(dataset.groups))
    need = n_outer * MIN_HOLDOUT_SUBJECTS
    if n < need:
        raise UserError(
            f"outer_folds={n_outer} needs at least {need} subjects ({MIN_HOLDOUT_SUBJECTS} per "
            f"outer test fold), got {n}; use fewer --outer-folds."
        )
    splits = []
    for number, (tuning, test) in enumerate(
        outer_folds(dataset.y, dataset.groups, n_outer, settings.seed), start=1
    ):
        held = len(np.unique(dataset.groups[test]))
        try:
            check_tuning_part(dataset, settings, tuning)
        except UserError as err:
            raise UserError(
                f"outer_folds={n_outer} leaves too few subjects to tune in outer fold {number}: "
                f"{err} (or use fewer --outer-folds or --folds)"
            ) from None
        reason = f"outer fold {number} of {n_outer}: {held} of {n} subjects"
        splits.append((held / n, reason, np.sort(tuning), np.sort(test)))
    return splits


def split_subjects(dataset: EEGDataset, settings: StudySettings) -> Split:
    """The hold-out share (the user's, or the default), why, and the split it makes;
    checks that the tuning subjects still suffice for the folds."""
    if settings.holdout is None:
        fraction, reason = default_holdout(dataset.groups)
    else:
        fraction = settings.holdout
        n = 0 if dataset.groups is None else len(np.unique(dataset.groups))
        reason = f"{n_held_out(n, fraction)} of {n} subjects held out (--holdout {fraction:g})"
    tuning, held_out = holdout_split(dataset.y, dataset.groups, fraction, settings.seed)
    try:
        check_tuning_part(dataset, settings, tuning)
    except UserError as err:
        if not len(held_out):
            raise
        raise UserError(
            f"holdout={fraction:g} leaves too few subjects to tune: {err} (or use a smaller "
            "--holdout, or --holdout 0)"
        ) from None
    return fraction, reason, tuning, held_out


def derive_lambda_range(
    tuning: EEGDataset, settings: StudySettings, space: SearchSpace
) -> tuple[tuple[float, float], str]:
    """The lambda range to search, and a line saying why.

    The user's ``[ranges] lambda`` and the narrow "paper" space are kept as they are.
    Otherwise the range is where the CenterIR term's pull on the features is
    ``SHARE_RANGE`` times MSE's, measured on the first fold's fit part at initial weights.
    """
    if "lambda" in settings.ranges or settings.space == "paper":
        kept = space.lambda_
        return (
            kept,
            f"lambda range {kept[0]:.3g}..{kept[1]:.3g}, as the '{settings.space}' space or "
            "[ranges] set it",
        )
    config = settings.base_config()
    ratio = centerir_gradient_ratio(
        config, tuning, fit_parts(config, tuning)[0], torch.device("cpu")
    )
    if not np.isfinite(ratio) or ratio <= 0:
        kept = space.lambda_
        return kept, (
            f"lambda range {kept[0]:.3g}..{kept[1]:.3g} (the default: no training batch had a "
            "CenterIR group of two, so the term's scale could not be measured)"
        )
    low, high = lambda_range(ratio)
    capped = ""
    if high > MAX_LAMBDA:  # a term this weak needs lambdas past what float32 math takes
        low, high = min(low, MAX_LAMBDA / 10), MAX_LAMBDA
        capped = f" (capped at lambda {MAX_LAMBDA:g}, the most the loss takes)"
    return (low, high), (
        f"lambda range {low:.3g}..{high:.3g}{capped}: where the CenterIR term pulls on the "
        f"features with {SHARE_RANGE[0]:g} to {SHARE_RANGE[1]:g} times MSE's gradient "
        f"(measured on this data at initial weights: {ratio:.3g} per unit lambda); the "
        f"published {config.lambda_:g} gives it {config.lambda_ * ratio:.2g} of MSE's"
    )
