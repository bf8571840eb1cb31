"""Leakage-free k-fold cross-validation of CNN-BiLSTM + CenterIR for one config.

Per fold: split the training part into fit and inner-validation parts (by subject when
subject ids exist); fit label bins, channel statistics and weights on the fit part; pick the
epoch on the inner validation part; evaluate that model once on the test fold.
``selection="test"`` instead picks the epoch on the test fold, as the published code does:
its scores are optimistic and labelled so everywhere.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from centerir import contract
from centerir.batches import predict_indices
from centerir.config import Config, ConfigError
from centerir.contract import Status
from centerir.data import EEGDataset
from centerir.loss import CenterIRLoss
from centerir.metrics import regression_metrics, subject_metrics, summarize
from centerir.splits import UNGROUPED_WARNING, inner_split, outer_folds
from centerir.training import fit_model, resolve_device

OPTIMISTIC_WARNING = (
    "selection='test' picks each fold's epoch on its test fold (the published protocol): "
    "these scores are optimistic"
)


@dataclass
class FoldResult:
    """One finished fold: its test metrics and out-of-fold predictions."""

    fold: int  # 0-based
    metrics: dict[str, float]  # centerir.contract.METRICS (subject ones with subject ids)
    selected_epoch: int  # 1-based; 0 for a model-free baseline
    epochs_run: int
    seconds: float
    device: str
    test_index: list[int]
    predictions: list[float]
    centerir_share: float = 0.0  # see centerir.contract.CENTERIR_SHARE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> FoldResult:
        return cls(**values)


@dataclass
class CVResult:
    """All folds of one config. ``status``: complete, diverged or running (interrupted)."""

    config: dict[str, Any]
    folds: list[FoldResult]
    n_folds: int
    status: Status = Status.RUNNING
    message: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, float]:
        """Mean and std over finished folds of every metric, plus fold counts and epochs."""
        values = summarize([fold.metrics for fold in self.folds]) if self.folds else {}
        epochs = [fold.selected_epoch for fold in self.folds]
        values[contract.FOLDS_DONE] = len(self.folds)
        values["median_selected_epoch"] = float(np.median(epochs)) if epochs else math.nan
        values[contract.SECONDS] = float(sum(fold.seconds for fold in self.folds))
        return values

    def report(self) -> dict[str, Any]:
        """The trial report of the folds finished so far (keys of :mod:`centerir.contract`):
        each metric's mean, std and per-fold values, fold counts, seconds, device, the
        CenterIR share, status and message."""
        summary = self.summary
        values: dict[str, Any] = {}
        for name in contract.METRICS:
            if name in summary:
                values[name] = summary[name]
                values[contract.std_key(name)] = summary[contract.std_key(name)]
                values[contract.folds_key(name)] = [fold.metrics[name] for fold in self.folds]
        shares = [fold.centerir_share for fold in self.folds]
        values.update(
            {
                contract.FOLDS_DONE: len(self.folds),
                contract.FOLDS_TOTAL: self.n_folds,
                contract.SECONDS: summary[contract.SECONDS],
                contract.DEVICE: self.folds[-1].device if self.folds else "",
                contract.CENTERIR_SHARE: float(np.mean(shares)) if shares else math.nan,
                contract.STATUS: str(self.status),
                contract.MESSAGE: self.message,
            }
        )
        return values

    def to_dict(self) -> dict[str, Any]:
        return {
            contract.STATUS: str(self.status),
            contract.MESSAGE: self.message,
            "warnings": self.warnings,
            "config": self.config,
            "n_folds": self.n_folds,
            "summary": self.summary,
            "folds": [fold.to_dict() for fold in self.folds],
        }


class Callback:
    """Hooks called by :func:`cross_validate`; override the ones you need."""

    def on_epoch_end(self, fold: int, epoch: int, logs: dict[str, float]) -> None:
        """After every training epoch of fold ``fold`` (0-based); ``epoch`` is 1-based."""

    def on_fold_end(self, fold: FoldResult, result: CVResult) -> None:
        """After every finished fold; ``result`` holds every fold finished so far."""


def fit_and_val(
    config: Config, dataset: EEGDataset, number: int, train: np.ndarray, test: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Fold ``number``'s fit part (model, label bins, scaling) and the part that picks the
    epoch: an inner split of the training side, or the test fold under selection="test"."""
    if config.selection == "inner":
        return inner_split(
            dataset.y, dataset.groups, train, config.val_fraction, config.seed + number
        )
    return train, test


def fit_parts(config: Config, dataset: EEGDataset) -> list[np.ndarray]:
    """Per outer fold, the window indices its model, label bins and scaling are fitted on."""
    folds = outer_folds(dataset.y, dataset.groups, config.folds, config.seed)
    return [
        fit_and_val(config, dataset, n, train, test)[0] for n, (train, test) in enumerate(folds)
    ]


def check_k_set_fits(config: Config, dataset: EEGDataset) -> None:
    """Fail before any training when a fold's fit labels cannot satisfy the k set
    (``remainder="strict"``): a ``ConfigError`` naming the fold and the k values that fit."""
    for number, fit in enumerate(fit_parts(config, dataset)):
        check_labels_fit_k(config, dataset.y[fit], f"fold {number + 1}")


def check_labels_fit_k(config: Config, labels: np.ndarray, where: str) -> None:
    """A ``ConfigError`` starting with ``where`` when the fit ``labels`` (M,) cannot satisfy
    the k set (``remainder="strict"``)."""
    try:
        CenterIRLoss.from_labels(labels, config.boundaries, config.k, config.remainder)
    except ValueError as err:
        raise ConfigError(f"{where}: {err}") from None


def cross_validate(
    config: Config,
    dataset: EEGDataset,
    callbacks: Sequence[Callback] = (),
    start_fold: int = 0,
    finished: Sequence[FoldResult] = (),
    device: str | torch.device = "auto",
) -> CVResult:
    """K-fold CV of one config; returns per-fold results and their summary.

    Parameters
    ----------
    config : Config
    dataset : EEGDataset
        X (N, 1, C, T), y (N,), optional subject ids (N,).
    callbacks : sequence of Callback
        Told after every epoch and every fold.
    start_fold : int
        Resume here: folds ``0 .. start_fold - 1`` are taken from ``finished``.
    finished : sequence of FoldResult
        Results of the folds already done (e.g. from a checkpoint).
    device : str or torch.device
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...

    Returns
    -------
    CVResult
        ``status`` complete, or diverged with ``message`` when a NaN/inf loss stopped
        the config (finished folds are kept). Never raises for divergence.
    """
    device = resolve_device(device) if isinstance(device, str) else device
    if len(finished) != start_fold:
        raise ValueError(
            f"finished must hold the {start_fold} folds before start_fold, got {len(finished)}."
        )
    check_k_set_fits(config, dataset)
    folds = outer_folds(dataset.y, dataset.groups, config.folds, config.seed)
    warnings = []
    if dataset.groups is None:
        warnings.append(UNGROUPED_WARNING)
    if config.selection == "test":
        warnings.append(OPTIMISTIC_WARNING)
    result = CVResult(config.to_dict(), list(finished), config.folds, warnings=warnings)
    for number in range(start_fold, config.folds):
        train, test = folds[number]
        fold_result, problem = run_fold(config, dataset, number, train, test, device, callbacks)
        if problem:
            result.status, result.message = Status.DIVERGED, f"fold {number + 1}: {problem}"
            return result
        result.folds.append(fold_result)
        for callback in callbacks:
            callback.on_fold_end(fold_result, result)
    result.status = Status.COMPLETE
    return result


def run_fold(
    config: Config,
    dataset: EEGDataset,
    number: int,
    train: np.ndarray,
    test: np.ndarray,
    device: torch.device,
    callbacks: Sequence[Callback],
) -> tuple[FoldResult | None, str]:
    """Train and test one fold; returns (result, "") or (None, divergence message)."""
    started = time.perf_counter()
    fit, val = fit_and_val(config, dataset, number, train, test)

    def on_epoch(epoch: int, logs: dict) -> None:
        for callback in callbacks:
            callback.on_epoch_end(number, epoch, logs)

    outcome = fit_model(config, dataset, fit, val, device, config.seed + number, on_epoch=on_epoch)
    if outcome.status != Status.COMPLETE:
        return None, outcome.message
    predictions = predict_indices(outcome.model, dataset, test, outcome.standardizer, device)
    if not np.isfinite(predictions).all():
        return None, (
            f"the model of epoch {outcome.selected_epoch} predicts NaN or inf for a test "
            "window; a lower learning rate (or lambda) usually helps"
        )
    return FoldResult(
        fold=number,
        metrics=fold_metrics(config, dataset, train, test, predictions),
        selected_epoch=outcome.selected_epoch,
        epochs_run=outcome.epochs_run,
        seconds=time.perf_counter() - started,
        device=str(device),
        test_index=test.tolist(),
        predictions=predictions.tolist(),
        centerir_share=outcome.centerir_share,
    ), ""


def fold_metrics(
    config: Config,
    dataset: EEGDataset,
    train: np.ndarray,
    test: np.ndarray,
    predictions: np.ndarray,
) -> dict[str, float]:
    """Window metrics of one test fold, and subject metrics when subject ids are known.

    ``train`` (every training index of the fold) defines the bins and shot regions;
    ``predictions`` (len(test),) are the test windows' predicted scores.
    """
    metrics = regression_metrics(
        dataset.y[test],
        predictions,
        dataset.y[train],
        config.metric_bins,
        config.few_shot,
        config.many_shot,
    )
    if dataset.groups is not None:
        metrics |= subject_metrics(
            dataset.y[test],
            predictions,
            dataset.groups[test],
            dataset.y[train],
            dataset.groups[train],
            config.metric_bins,
            config.subject_few_shot,
            config.subject_many_shot,
        )
    return metrics
