"""Where lambda matters on this data: the CenterIR term's pull against MSE's, measured.

Training minimises ``MSE + lambda * CenterIR``. How large lambda must be for the CenterIR
term to change anything depends on the data (score range, feature size), not only on the
method: on one real EEG set the term's gradient was ~800-1000 times MSE's before lambda, so
the published 5e-8 left it at ~4e-5 of MSE's pull. This module measures that ratio on a few
training batches at the network's initial weights, and turns it into a lambda range whose
ends give the term a chosen share of MSE's pull.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from centerir.config import Config
from centerir.data import EEGDataset
from centerir.training import TrainingStart, gradient_ratio

SHARE_RANGE = (1e-3, 10.0)  # CenterIR's pull as a multiple of MSE's, at the range's ends
CALIBRATION_BATCHES = 8


def centerir_gradient_ratio(
    config: Config,
    dataset: EEGDataset,
    fit_index: np.ndarray,
    device: torch.device,
    n_batches: int = CALIBRATION_BATCHES,
) -> float:
    """Median over ``n_batches`` training batches of |dCenterIR/dfeatures| / |dMSE/dfeatures|
    (before lambda) at the initial weights, for the config's bins, k set and batch size.

    Parameters
    ----------
    config : Config
        Its seed, architecture, ``boundaries``, ``k`` and ``batch_size`` are used.
    dataset : EEGDataset
    fit_index : ndarray of int
        Windows to draw the batches from (a training part: never test windows).
    device : torch.device
    n_batches : int
        Batches measured (fewer when ``fit_index`` holds fewer).

    Returns
    -------
    float
        The ratio; NaN when no batch had a CenterIR group of two samples.
    """
    start = TrainingStart.seeded(config, dataset, fit_index, device, config.seed)
    start.model.train()
    ratios = []
    batches = start.batches(dataset, fit_index, config.batch_size, device)
    for (x, y), _ in zip(batches, range(n_batches), strict=False):
        prediction, features = start.model(x)
        centerir = start.criterion(features, y)
        if centerir.item() > 0:
            ratios.append(float(gradient_ratio(F.mse_loss(prediction, y), centerir, features)))
    return float(np.median(ratios)) if ratios else float("nan")


def lambda_range(ratio: float, shares: tuple[float, float] = SHARE_RANGE) -> tuple[float, float]:
    """The lambdas giving CenterIR ``shares`` (low, high) of MSE's pull, for a measured
    ``ratio`` (see :func:`centerir_gradient_ratio`)."""
    if not np.isfinite(ratio) or ratio <= 0:
        raise ValueError(f"ratio must be a positive finite number, got {ratio!r}.")
    return shares[0] / ratio, shares[1] / ratio
