"""Model files: weights, config and channel statistics, loadable with ``weights_only=True``.

A model file holds only tensors, numbers, strings, lists and dicts, so loading it never
unpickles arbitrary objects.
"""

from __future__ import annotations

import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from centerir.batches import ChannelStandardizer, predict_indices
from centerir.config import Config, ConfigError
from centerir.data import DataError, load_windows
from centerir.training import FitOutcome, build_model

FORMAT = "centerir-model/1"


@dataclass
class SavedModel:
    """What :func:`load_model_file` returns."""

    model: torch.nn.Module
    config: Config
    standardizer: ChannelStandardizer
    n_channels: int
    n_times: int
    epochs: int


def save_model_file(path: Path, outcome: FitOutcome, config: Config, epochs: int) -> None:
    """Write a trained model, its config and channel statistics to ``path``."""
    model = outcome.model
    payload = {
        "format": FORMAT,
        "config": config.to_dict(),
        "n_channels": model.n_channels,
        "n_times": model.n_times,
        "epochs": epochs,
        "channel_mean": torch.from_numpy(outcome.standardizer.mean),
        "channel_std": torch.from_numpy(outcome.standardizer.std),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, path)


def load_model_file(path: Path) -> SavedModel:
    """Read a model file written by :func:`save_model_file`; errors are one ``DataError`` line."""
    if not path.is_file():
        raise DataError(f"{path}: model file not found.")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DataError(
            f"{path}: expected a model file from 'python -m centerir fit-final', "
            f"could not load it safely ({first})."
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise DataError(f"{path}: expected a {FORMAT} model file from fit-final, got another file.")
    try:
        config = Config.from_dict(payload["config"])
    except ConfigError as err:
        raise DataError(f"{path}: the saved config is invalid ({err}).") from None
    model = build_model(config, payload["n_channels"], payload["n_times"])
    model.load_state_dict(payload["state_dict"])
    standardizer = ChannelStandardizer(
        payload["channel_mean"].numpy(), payload["channel_std"].numpy()
    )
    return SavedModel(
        model, config, standardizer, payload["n_channels"], payload["n_times"], payload["epochs"]
    )


def predict_windows(saved: SavedModel, x_path: Path, device: torch.device) -> np.ndarray:
    """Predicted scores (N,) for the windows in ``x_path``, which must match the model's shape."""
    windows = load_windows(x_path)
    if (windows.n_channels, windows.n_times) != (saved.n_channels, saved.n_times):
        raise DataError(
            f"{x_path}: expected windows of {saved.n_channels} channels x {saved.n_times} "
            f"samples like the model's training data, got {windows.n_channels} x "
            f"{windows.n_times}."
        )
    model = saved.model.to(device)
    return predict_indices(model, windows, np.arange(windows.n_samples), saved.standardizer, device)
