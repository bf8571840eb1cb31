"""The CNN-BiLSTM regressor of CenterIR, for any channel count and window length."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

LOG_EPS = 1e-6  # floor of the log of pooled power, so flat or all-zero windows stay finite


def safe_log(x: torch.Tensor, eps: float = LOG_EPS) -> torch.Tensor:
    """``log(max(x, eps))``: finite for zero power."""
    return torch.log(torch.clamp(x, min=eps))


def pooled_length(n_times: int, temporal_kernel: int, pool_size: int, pool_stride: int) -> int:
    """Time steps after the valid temporal convolution and average pooling.

    Returns 0 or less when ``n_times`` is too short for the kernels.
    """
    conv_length = n_times - temporal_kernel + 1
    if conv_length < pool_size:
        return 0
    return (conv_length - pool_size) // pool_stride + 1


def min_n_times(temporal_kernel: int = 16, pool_size: int = 35) -> int:
    """Shortest window (in samples) the convolution and pooling accept."""
    return temporal_kernel + pool_size - 1


def n_parameters(
    n_channels: int,
    n_times: int,
    n_filters: int = 32,
    temporal_kernel: int = 16,
    pool_size: int = 35,
    pool_stride: int = 7,
    lstm_hidden: int = 32,
) -> int:
    """Weights of a :class:`CNNBiLSTM` of these sizes, counted without building it (a huge
    one would not fit in memory). Arguments as for the class; windows ``n_times`` long."""
    # too short a window counts one step here; the model itself refuses it
    n_steps = max(1, pooled_length(n_times, temporal_kernel, pool_size, pool_stride))
    convolutions = n_filters * temporal_kernel + n_filters * n_filters * n_channels
    norm = 2 * n_filters
    # two directions x four gates: input and hidden weights, two biases
    lstm = 2 * 4 * lstm_hidden * (n_filters + lstm_hidden + 2)
    head = (n_steps * 2 * lstm_hidden + 1) * 512 + (512 + 1) * 128 + 128 + 1
    return convolutions + norm + lstm + head


class CNNBiLSTM(nn.Module):
    """Temporal + spatial convolution, log power, BiLSTM and an MLP head.

    Layers (published defaults): temporal conv 1 -> ``n_filters`` of (1, 16); spatial conv
    ``n_filters`` -> ``n_filters`` of (``n_channels``, 1); no conv biases; BatchNorm2d;
    square; AvgPool (1, 35) stride (1, 7); safe log; BiLSTM (1 layer, ``lstm_hidden`` per
    direction); flatten; Linear -> 512, ReLU, Dropout, Linear -> 128, ReLU, Dropout,
    Linear -> 1.

    The two convolutions are linear with nothing between them, so with ``fused_conv=True``
    (default) they run as one convolution whose (n_filters, 1, n_channels, temporal_kernel)
    kernel is composed from both weight tensors on every forward pass: the same parameters
    and function, several times faster than two convolutions.

    Parameters
    ----------
    n_channels : int
        EEG channels C.
    n_times : int
        Samples per window T; at least ``temporal_kernel + pool_size - 1``.
    n_filters : int, default 32
    temporal_kernel : int, default 16
        Temporal kernel length in samples.
    pool_size, pool_stride : int, default 35, 7
        Average-pooling window and stride in samples.
    lstm_hidden : int, default 32
        Hidden units per LSTM direction.
    dropout : float, default 0.3
        Dropout of the MLP head.
    fused_conv : bool, default True
        Compose the two convolutions into one kernel (False: run them separately).
    """

    def __init__(
        self,
        n_channels: int,
        n_times: int,
        n_filters: int = 32,
        temporal_kernel: int = 16,
        pool_size: int = 35,
        pool_stride: int = 7,
        lstm_hidden: int = 32,
        dropout: float = 0.3,
        fused_conv: bool = True,
    ):
        super().__init__()
        for name, value in (
            ("n_channels", n_channels),
            ("n_times", n_times),
            ("n_filters", n_filters),
            ("temporal_kernel", temporal_kernel),
            ("pool_size", pool_size),
            ("pool_stride", pool_stride),
            ("lstm_hidden", lstm_hidden),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {name}={value!r}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got dropout={dropout!r}.")
        self.n_steps = pooled_length(n_times, temporal_kernel, pool_size, pool_stride)
        if self.n_steps < 1:
            shortest = min_n_times(temporal_kernel, pool_size)
            raise ValueError(
                f"n_times={n_times} is too short: temporal_kernel={temporal_kernel} and "
                f"pool_size={pool_size} need windows of at least {shortest} samples."
            )
        self.n_channels = n_channels
        self.n_times = n_times
        self.fused_conv = fused_conv
        self.temporal = nn.Conv2d(1, n_filters, (1, temporal_kernel), bias=False)
        self.spatial = nn.Conv2d(n_filters, n_filters, (n_channels, 1), bias=False)
        self.norm = nn.BatchNorm2d(n_filters)
        self.pool = nn.AvgPool2d((1, pool_size), stride=(1, pool_stride))
        self.lstm = nn.LSTM(
            n_filters, lstm_hidden, num_layers=1, batch_first=True, bidirectional=True
        )
        self.n_features = self.n_steps * 2 * lstm_hidden
        self.head = nn.Sequential(
            nn.Linear(self.n_features, 512),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(512, 128),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(128, 1),
        )

    def composed_kernel(self) -> torch.Tensor:
        """Spatial ∘ temporal kernel, shape (n_filters, 1, n_channels, temporal_kernel)."""
        spatial = self.spatial.weight[:, :, :, 0]  # (n_filters, n_filters, C)
        temporal = self.temporal.weight[:, 0, 0, :]  # (n_filters, temporal_kernel)
        return torch.einsum("oic,it->oct", spatial, temporal).unsqueeze(1)

    def convolve(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, C, T) -> (B, n_filters, 1, T - temporal_kernel + 1)."""
        if self.fused_conv:
            return F.conv2d(x, self.composed_kernel())
        return self.spatial(self.temporal(x))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Predict scores from EEG windows.

        Parameters
        ----------
        x : Tensor, shape (B, 1, C, T)

        Returns
        -------
        prediction : Tensor, shape (B, 1)
        features : Tensor, shape (B, n_features)
            Flattened BiLSTM output, the vectors CenterIR pulls together.
        """
        expected = (1, self.n_channels, self.n_times)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(
                f"x must have shape (B, {', '.join(map(str, expected))}), got {tuple(x.shape)}."
            )
        z = self.convolve(x)  # (B, n_filters, 1, T')
        z = self.norm(z).square()
        z = safe_log(self.pool(z))  # (B, n_filters, 1, n_steps)
        z = z.squeeze(2).transpose(1, 2)  # (B, n_steps, n_filters)
        z, _ = self.lstm(z)  # (B, n_steps, 2 * lstm_hidden)
        features = z.flatten(1)  # (B, n_steps * 2 * lstm_hidden)
        return self.head(features), features
