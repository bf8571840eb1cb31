"""Train one CNN-BiLSTM with MSE + lambda * CenterIR, picking the epoch on a validation set.

Everything fitted from data here (label bins, channel statistics, weights) sees only the
``fit`` indices it is given; the validation indices only choose the epoch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from centerir.batches import ChannelStandardizer, iterate_batches, predict_indices
from centerir.config import Config, ConfigError
from centerir.contract import Status
from centerir.data import EEGDataset
from centerir.loss import CenterIRLoss
from centerir.model import CNNBiLSTM

# on_epoch(epoch (1-based), logs) -> None; logs: train_loss, val_mae (NaN without validation)
EpochHook = Callable[[int, dict], None]


def resolve_device(name: str = "auto") -> torch.device:
    """``"auto"``: CUDA when available, else CPU; otherwise the named torch device.

    A name torch does not know, or CUDA where there is none, is a ``ConfigError``.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(
            f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got device={name!r}."
        ) from None
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got device={name!r}.")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device must be available, got device={name!r} but CUDA is not.")
    return device


def build_model(config: Config, n_channels: int, n_times: int) -> CNNBiLSTM:
    """The CNN-BiLSTM with the config's architecture keys."""
    return CNNBiLSTM(
        n_channels,
        n_times,
        n_filters=config.n_filters,
        temporal_kernel=config.temporal_kernel,
        pool_size=config.pool_size,
        pool_stride=config.pool_stride,
        lstm_hidden=config.lstm_hidden,
        dropout=config.dropout,
    )


@dataclass
class FitOutcome:
    """A trained model at its selected epoch.

    ``status`` is complete or diverged (then ``message`` says where).
    """

    model: CNNBiLSTM
    standardizer: ChannelStandardizer
    selected_epoch: int  # 1-based; the epoch whose weights ``model`` holds
    epochs_run: int
    centerir_share: float  # mean over epoch 1's batches of lambda * gradient_ratio
    status: Status = Status.COMPLETE
    message: str = ""


def gradient_ratio(
    mse: torch.Tensor, centerir: torch.Tensor, features: torch.Tensor
) -> torch.Tensor:
    """|dCenterIR/dfeatures| / |dMSE/dfeatures| for one batch, before lambda; a 0-d tensor.

    Everything below the features (LSTM, convolutions) receives the sum of the two
    gradients, so this says how hard the CenterIR term pulls against MSE per unit lambda.
    Only the head is back-propagated (for MSE); the graph is kept for the real backward.
    """
    (mse_grad,) = torch.autograd.grad(mse, features, retain_graph=True)
    (centerir_grad,) = torch.autograd.grad(centerir, features, retain_graph=True)
    return centerir_grad.norm() / mse_grad.norm().clamp(min=torch.finfo(mse_grad.dtype).tiny)


@dataclass
class TrainingStart:
    """A seeded start of training on ``fit_index``: the untrained model, the CenterIR loss
    and channel statistics fitted on the fit part, and the batch-order generator."""

    model: CNNBiLSTM
    criterion: CenterIRLoss
    standardizer: ChannelStandardizer
    generator: torch.Generator
    targets: torch.Tensor  # every window's score, float32 (N,)

    @classmethod
    def seeded(
        cls,
        config: Config,
        dataset: EEGDataset,
        fit_index: np.ndarray,
        device: torch.device,
        seed: int,
    ) -> TrainingStart:
        """The same ``seed`` gives the same weights and batch order."""
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        model = build_model(config, dataset.n_channels, dataset.n_times).to(device)
        criterion = CenterIRLoss.from_labels(
            dataset.y[fit_index], config.boundaries, config.k, config.remainder
        ).to(device)
        standardizer = ChannelStandardizer.fit(dataset, fit_index)
        targets = torch.from_numpy(dataset.y.astype(np.float32))
        return cls(model, criterion, standardizer, generator, targets)

    def batches(
        self, dataset: EEGDataset, fit_index: np.ndarray, batch_size: int, device: torch.device
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor, np.ndarray]]:
        """One epoch of shuffled batches: (x (b, 1, C, T), y (b, 1), dataset indices (b,))."""
        for x, batch in iterate_batches(
            dataset, fit_index, batch_size, self.standardizer, device, self.generator
        ):
            yield x, self.targets[batch].unsqueeze(1).to(device), batch


def fit_model(
    config: Config,
    dataset: EEGDataset,
    fit_index: np.ndarray,
    val_index: np.ndarray | None,
    device: torch.device,
    seed: int,
    epochs: int | None = None,
    on_epoch: EpochHook | None = None,
) -> FitOutcome:
    """Train on ``fit_index``; keep the epoch with the lowest MAE on ``val_index``.

    Without ``val_index`` the model of the last epoch is kept (used to fit a final model
    for a fixed epoch count). Early stopping after ``config.patience`` epochs without
    validation improvement. A NaN or inf loss stops training with status diverged. During
    epoch 1 the CenterIR term's pull on the features is measured (:func:`gradient_ratio`,
    times lambda; 0 when lambda is 0).
    """
    start = TrainingStart.seeded(config, dataset, fit_index, device, seed)
    model, criterion, standardizer = start.model, start.criterion, start.standardizer
    optimizer = torch.optim.Adam(
        model.parameters(),
        lr=config.lr,
        weight_decay=config.weight_decay,
        fused=device.type in ("cpu", "cuda"),
    )
    epochs = epochs or config.epochs
    best_mae, best_epoch, best_state = math.inf, 0, None
    shares: list[torch.Tensor] = []
    epoch = 0
    for epoch in range(1, epochs + 1):
        model.train()
        total, count = 0.0, 0
        for x, y, batch in start.batches(dataset, fit_index, config.batch_size, device):
            prediction, features = model(x)
            mse = F.mse_loss(prediction, y)
            centerir = criterion(features, y)
            loss = mse + config.lambda_ * centerir
            if not torch.isfinite(loss):
                return FitOutcome(
                    model,
                    standardizer,
                    best_epoch,
                    epoch,
                    mean_share(shares),
                    Status.DIVERGED,
                    f"loss became {loss.item()} in epoch {epoch} (lr={config.lr:g}, "
                    f"lambda={config.lambda_:g}); a lower learning rate usually helps",
                )
            if epoch == 1 and config.lambda_ > 0:
                shares.append(config.lambda_ * gradient_ratio(mse, centerir, features).detach())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
            count += len(batch)
        val_mae = math.nan
        if val_index is not None:
            predictions = predict_indices(model, dataset, val_index, standardizer, device)
            val_mae = float(np.mean(np.abs(predictions - dataset.y[val_index])))
            if val_mae < best_mae:
                best_mae, best_epoch = val_mae, epoch
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if on_epoch is not None:
            on_epoch(
                epoch, {"train_loss": total / count, "val_mae": val_mae, "best_epoch": best_epoch}
            )
        if val_index is not None and config.patience and epoch - best_epoch >= config.patience:
            break
    if best_state is None:
        return FitOutcome(model, standardizer, epoch, epoch, mean_share(shares))
    model.load_state_dict(best_state)
    return FitOutcome(model, standardizer, best_epoch, epoch, mean_share(shares))


def mean_share(shares: list[torch.Tensor]) -> float:
    """Mean of the per-batch CenterIR shares (0 when none was measured, e.g. lambda 0)."""
    return float(torch.stack(shares).mean()) if shares else 0.0
