"""Train one CNN-BiLSTM with MSE + lambda * CenterIR, picking the epoch on a validation set.

Everything fitted from data here (label bins, channel statistics, weights) sees only the
``fit`` indices it is given; the validation indices only choose the epoch.

Within an epoch the host never waits for the device (unless the pipeline asks it to): the
loss is summed on the device and checked once per epoch, and batches come from
:mod:`centerir.device_batches`. A NaN loss still stops the fold as diverged, with its epoch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from centerir.batches import ChannelStandardizer, StreamedWindows
from centerir.config import Config, ConfigError
from centerir.contract import Status
from centerir.data import EEGDataset
from centerir.device_batches import OVERLAPPED, FoldWindows, Pipeline, fold_windows
from centerir.loss import CenterIRLoss
from centerir.model import CNNBiLSTM, n_parameters

# on_epoch(epoch (1-based), logs) -> None; logs: train_loss, val_mae (NaN without validation)
EpochHook = Callable[[int, dict], None]

DEVICE_NAME = re.compile(r"auto|cpu|cuda(?::[0-9]{1,4})?")  # what training runs on
# Largest model trained: 2 GB of float32 weights, and training holds four times that
# (gradients and Adam's two moments). The published model on 19 channels x 4 s at 250 Hz
# has 4.6 M; a model past this comes from absurd windows or sizes, not from a need.
MAX_PARAMETERS = 500_000_000


def resolve_device(name: str = "auto") -> torch.device:
    """``"auto"``: CUDA when available, else CPU; otherwise ``"cpu"``, ``"cuda"`` or
    ``"cuda:N"``.

    Any other name, or a CUDA device this machine does not have, is a ``ConfigError``.
    """
    if not DEVICE_NAME.fullmatch(name):
        raise ConfigError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got device={name!r}.")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ConfigError(
                f"device must be available, got device={name!r} but CUDA is not; use "
                "--device cpu or auto."
            )
        if (device.index or 0) >= count:
            raise ConfigError(
                f"device must be one of cuda:0 to cuda:{count - 1} on this machine, got "
                f"device={name!r}."
            )
    return device


def check_model_size(config: Config, n_channels: int, n_times: int, source: str) -> None:
    """Refuse, before building it, a model of more than :data:`MAX_PARAMETERS` weights
    for ``n_channels`` x ``n_times`` windows (``source`` names where they come from)."""
    count = n_parameters(
        n_channels,
        n_times,
        config.n_filters,
        config.temporal_kernel,
        config.pool_size,
        config.pool_stride,
        config.lstm_hidden,
    )
    if count > MAX_PARAMETERS:
        raise ConfigError(
            f"{source}: the model must have at most {MAX_PARAMETERS:.0e} weights, got "
            f"{count:.2e} for {n_channels} channels x {n_times} samples with "
            f"n_filters={config.n_filters}, lstm_hidden={config.lstm_hidden}, "
            f"pool_stride={config.pool_stride}; use shorter windows, fewer channels, a "
            "larger pool_stride or smaller n_filters/lstm_hidden."
        )


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
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch of shuffled batches, streamed: (x (b, 1, C, T), y (b, 1))."""
        windows = StreamedWindows(dataset, fit_index, None, self.standardizer, self.targets, device)
        return windows.training_batches(self.generator, batch_size)


def training_precision(config: Config, device: torch.device) -> str:
    """The arithmetic of the training forward pass: "bf16" when the config asks for it and
    ``device`` is CUDA, else "fp32" (a CPU trains a bf16 config in fp32)."""
    return "bf16" if config.precision == "bf16" and device.type == "cuda" else "fp32"


def precision_note(config: Config, device: torch.device) -> str:
    """A line for the user when the config's precision does not apply on ``device``."""
    used = training_precision(config, device)
    if used == config.precision:
        return ""
    return f"precision {config.precision} applies on CUDA only: training in {used} on {device}"


def forward(model: CNNBiLSTM, x: torch.Tensor, precision: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The model's (prediction (B, 1), features (B, D)) for x (B, 1, C, T), float32.

    ``precision`` "bf16" (CUDA): under bfloat16 autocast, cast back to float32 so that MSE
    and CenterIR (its group sums) are computed in float32.
    """
    if precision != "bf16":
        return model(x)
    with torch.autocast(device_type=x.device.type, dtype=torch.bfloat16):
        prediction, features = model(x)
    return prediction.float(), features.float()


def train_epoch(
    start: TrainingStart,
    windows: FoldWindows,
    optimizer: torch.optim.Optimizer,
    config: Config,
    precision: str,
    sync_each_step: bool,
    shares: list[torch.Tensor] | None = None,
) -> tuple[float, str]:
    """One epoch over the fit windows; returns (mean training loss, "" or what became NaN
    or inf).

    Each step's loss times its batch size is summed in float64 on the device and the sum is
    read once, after the epoch: a NaN or inf loss shows there, with its epoch. With
    ``sync_each_step`` each loss is checked and read on the host instead (a NaN stops
    before its step); the sum is the same bit for bit. ``shares``: a list to append each
    batch's lambda * :func:`gradient_ratio` to (when lambda > 0).
    """
    model, device = start.model, next(start.model.parameters()).device
    model.train()
    total = torch.zeros((), dtype=torch.float64, device=device)
    count = 0
    for x, y in windows.training_batches(start.generator, config.batch_size):
        prediction, features = forward(model, x, precision)
        mse = F.mse_loss(prediction, y)
        centerir = start.criterion(features, y)
        loss = mse + config.lambda_ * centerir
        if sync_each_step and not torch.isfinite(loss):
            return math.nan, f"loss became {loss.item()}"
        if shares is not None and config.lambda_ > 0:
            shares.append(config.lambda_ * gradient_ratio(mse, centerir, features).detach())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        size = len(y)
        total += (loss.item() if sync_each_step else loss.detach().double()) * size
        count += size
    mean = float(total) / count
    return mean, "" if math.isfinite(mean) else f"loss became {mean}"


def fit_model(
    config: Config,
    dataset: EEGDataset,
    fit_index: np.ndarray,
    val_index: np.ndarray | None,
    device: torch.device,
    seed: int,
    epochs: int | None = None,
    on_epoch: EpochHook | None = None,
    pipeline: Pipeline = OVERLAPPED,
) -> FitOutcome:
    """Train on ``fit_index``; keep the epoch with the lowest MAE on ``val_index``.

    Without ``val_index`` the model of the last epoch is kept (used to fit a final model
    for a fixed epoch count). Early stopping after ``config.patience`` epochs without
    validation improvement. A NaN or inf loss, weight or validation MAE stops training with
    status diverged (``message`` says what and in which epoch). During
    epoch 1 the CenterIR term's pull on the features is measured (:func:`gradient_ratio`,
    times lambda; 0 when lambda is 0). ``pipeline`` says how batches reach the device and
    when the host waits (:mod:`centerir.device_batches`); on a CPU every pipeline trains
    the same model bit for bit.
    """
    start = TrainingStart.seeded(config, dataset, fit_index, device, seed)
    model, standardizer = start.model, start.standardizer
    windows = fold_windows(
        dataset, fit_index, val_index, standardizer, start.targets, device, pipeline
    )
    precision = training_precision(config, device)
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
        train_loss, problem = train_epoch(
            start,
            windows,
            optimizer,
            config,
            precision,
            pipeline.sync_each_step,
            shares if epoch == 1 else None,
        )
        # The last step of a finite loss can still leave NaN weights, or finite weights
        # whose predictions overflow.
        val_mae, problem = math.nan, problem or non_finite_weights(model)
        if val_index is not None and not problem:
            predictions = windows.predict_val(model)
            val_mae = float(np.mean(np.abs(predictions - dataset.y[val_index])))
            problem = "" if math.isfinite(val_mae) else f"validation MAE became {val_mae}"
        if problem:
            return diverged(start, best_epoch, epoch, shares, divergence(config, problem, epoch))
        if val_mae < best_mae:
            best_mae, best_epoch = val_mae, epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if on_epoch is not None:
            on_epoch(
                epoch, {"train_loss": train_loss, "val_mae": val_mae, "best_epoch": best_epoch}
            )
        if val_index is not None and config.patience and epoch - best_epoch >= config.patience:
            break
    if val_index is None:  # the last epoch's model, unless its finite weights overflow
        predictions = windows.predict_fit(model)
        if not np.isfinite(predictions).all():
            problem = "predictions on the training windows became NaN or inf"
            return diverged(start, epoch, epoch, shares, divergence(config, problem, epoch))
        return FitOutcome(model, standardizer, epoch, epoch, mean_share(shares))
    model.load_state_dict(best_state)
    return FitOutcome(model, standardizer, best_epoch, epoch, mean_share(shares))


def diverged(
    start: TrainingStart, best_epoch: int, epoch: int, shares: list[torch.Tensor], message: str
) -> FitOutcome:
    """The outcome of training stopped in ``epoch`` by a NaN or inf (``message``)."""
    return FitOutcome(
        start.model,
        start.standardizer,
        best_epoch,
        epoch,
        mean_share(shares),
        Status.DIVERGED,
        message,
    )


def divergence(config: Config, what: str, epoch: int) -> str:
    """The message of a config stopped in ``epoch`` (1-based) because ``what`` happened."""
    return (
        f"{what} in epoch {epoch} (lr={config.lr:g}, lambda={config.lambda_:g}); a lower "
        "learning rate (or lambda) usually helps"
    )


def non_finite_weights(model: torch.nn.Module) -> str:
    """ "weights 'name' became NaN or inf" for the first such tensor of the model's state
    (parameters and batch-norm statistics), or "" when all are finite. The host reads one
    flag per call, not one per tensor."""
    state = model.state_dict().items()
    floats = [(name, values) for name, values in state if values.is_floating_point()]
    finite = torch.stack([torch.isfinite(values).all() for _, values in floats])
    if bool(finite.all()):
        return ""
    first = int(torch.argmin(finite.int()))
    return f"weights {floats[first][0]!r} became NaN or inf"


def mean_share(shares: list[torch.Tensor]) -> float:
    """Mean of the per-batch CenterIR shares (0 when none was measured, e.g. lambda 0)."""
    return float(torch.stack(shares).mean()) if shares else 0.0
