"""Model files: weights, config and channel statistics, loadable with ``weights_only=True``.

A model file holds only tensors, numbers, strings, lists and dicts, so loading it never
unpickles arbitrary objects. A model trained on prepared windows also holds their
``meta.json`` record (``DATA_META_KEY``): ``predict`` refuses windows of another sampling
rate, channel order or window length.
"""

from __future__ import annotations

import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from centerir.batches import ChannelStandardizer, predict_indices
from centerir.config import Config, ConfigError, shown
from centerir.contract import check_regular_file
from centerir.data import DataError, load_windows
from centerir.data_meta import check_meta, check_same_setup
from centerir.model import min_n_times
from centerir.training import FitOutcome, build_model, check_model_size

FORMAT = "centerir-model/1"
COUNT_KEYS = ("n_channels", "n_times", "epochs")
STATISTIC_KEYS = ("channel_mean", "channel_std")
PAYLOAD_KEYS = ("format", "config", *COUNT_KEYS, *STATISTIC_KEYS, "state_dict")
DATA_META_KEY = "data_meta"  # optional: the training windows' meta.json record


@dataclass
class SavedModel:
    """What :func:`load_model_file` returns."""

    model: torch.nn.Module
    config: Config
    standardizer: ChannelStandardizer
    n_channels: int
    n_times: int
    epochs: int
    meta: dict[str, Any] | None = None  # the training windows' meta.json record, if any


def save_model_file(
    path: Path,
    outcome: FitOutcome,
    config: Config,
    epochs: int,
    meta: dict[str, Any] | None = None,
) -> None:
    """Write a trained model, its config, channel statistics and (when the training windows
    had one) their ``meta.json`` record to ``path``."""
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
    if meta is not None:
        payload[DATA_META_KEY] = meta
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, path)


def load_model_file(path: Path) -> SavedModel:
    """Read a model file written by :func:`save_model_file`.

    Everything is checked before use (keys, types, sizes, weight shapes, finite values), so
    a damaged or foreign file is one ``UserError`` line naming it, never a traceback.
    """
    payload = read_payload(path)
    try:
        config = Config.from_dict(payload["config"])
    except ConfigError as err:
        raise DataError(f"{path}: the saved config is invalid ({err})") from None
    n_channels, n_times, epochs = (saved_count(path, payload, key) for key in COUNT_KEYS)
    shortest = min_n_times(config.temporal_kernel, config.pool_size)
    if n_times < shortest:
        raise DataError(
            f"{path}: n_times must be >= {shortest} for the saved temporal_kernel and "
            f"pool_size, got n_times={n_times}."
        )
    mean, std = (saved_statistic(path, payload, key, n_channels) for key in STATISTIC_KEYS)
    check_model_size(config, n_channels, n_times, str(path))
    model = build_model(config, n_channels, n_times)
    load_weights(path, model, payload["state_dict"])
    meta = payload.get(DATA_META_KEY)
    if meta is not None:
        meta = check_meta(meta, f"{path} ({DATA_META_KEY})")
        if (len(meta["ch_names"]), meta["n_times"]) != (n_channels, n_times):
            raise DataError(
                f"{path}: {DATA_META_KEY} must describe the model's {n_channels} channels x "
                f"{n_times} samples, got {len(meta['ch_names'])} x {meta['n_times']}."
            )
    standardizer = ChannelStandardizer(mean, std)
    return SavedModel(model, config, standardizer, n_channels, n_times, epochs, meta)


def read_payload(path: Path) -> dict[str, Any]:
    """The dict a model file holds, loaded with ``weights_only=True``, with every key."""
    check_regular_file(path, "model file", DataError)  # a FIFO would block torch.load
    if not zipfile.is_zipfile(path):  # what torch.save writes; checked before torch warns
        raise DataError(
            f"{path}: expected a model file from 'python -m centerir fit-final', could not "
            "load it safely (not the zip archive torch.save writes)."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the user sees one line: ours
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch.load parses an untrusted file: its errors are the file's
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DataError(
            f"{path}: expected a model file from 'python -m centerir fit-final', "
            f"could not load it safely ({first})."
        ) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("format"), str):
        raise DataError(f"{path}: expected a {FORMAT} model file from fit-final, got another file.")
    if payload["format"] != FORMAT:
        raise DataError(
            f"{path}: expected a {FORMAT} model file from fit-final, got format "
            f"{shown(payload['format'])}."
        )
    missing = [key for key in PAYLOAD_KEYS if key not in payload]
    if missing:
        raise DataError(
            f"{path}: expected a {FORMAT} model file with {', '.join(PAYLOAD_KEYS)}, got one "
            f"without {missing[0]!r}; write it again with fit-final."
        )
    return payload


def saved_count(path: Path, payload: dict[str, Any], key: str) -> int:
    """``payload[key]``, which must be an int >= 1."""
    value = payload[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise DataError(f"{path}: {key} must be an int >= 1, got {key}={shown(value)}.")
    return value


def describe(value: Any) -> str:
    """``"a tensor of float32, shape (2,)"``, or the type of a non-tensor, for messages."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of {str(value.dtype).removeprefix('torch.')}, shape {tuple(value.shape)}"
    return "nothing" if value is None else f"a {type(value).__name__}"


def load_weights(path: Path, model: torch.nn.Module, state: Any) -> None:
    """Put the saved ``state`` into ``model`` after checking it holds exactly the model's
    tensors, each of the model's shape and dtype and finite."""
    if not isinstance(state, dict):
        raise DataError(f"{path}: state_dict must be a table of weights, got {describe(state)}.")
    expected = model.state_dict()
    for name, reference in expected.items():
        value = state.get(name)
        if (
            not isinstance(value, torch.Tensor)
            or value.shape != reference.shape
            or value.dtype != reference.dtype
        ):
            raise DataError(
                f"{path}: weights {name!r} must be {describe(reference)} for the saved config "
                f"and window shape, got {describe(value)}."
            )
        if value.is_floating_point() and not torch.isfinite(value).all():
            raise DataError(f"{path}: weights {name!r} must be finite, got NaN or inf.")
    unknown = sorted(set(state) - set(expected), key=repr)
    if unknown:
        raise DataError(
            f"{path}: state_dict must hold only the model's weights, got {shown(unknown[0])}."
        )
    model.load_state_dict(state)


def saved_statistic(path: Path, payload: dict[str, Any], key: str, n_channels: int) -> np.ndarray:
    """A channel mean or std: float32, (n_channels,), finite (std > 0)."""
    value = payload[key]
    if (
        not isinstance(value, torch.Tensor)
        or value.dtype != torch.float32
        or tuple(value.shape) != (n_channels,)
    ):
        raise DataError(
            f"{path}: {key} must be a tensor of float32, shape ({n_channels},), got "
            f"{describe(value)}."
        )
    values = value.detach().numpy()
    positive = key != "channel_std" or bool((values > 0).all())
    if not (np.isfinite(values).all() and positive):
        rule = "finite and > 0" if key == "channel_std" else "finite"
        raise DataError(f"{path}: {key} must be {rule}, got {shown(values.tolist())}.")
    return values


def predict_windows(saved: SavedModel, x_path: Path, device: torch.device) -> np.ndarray:
    """Predicted scores (N,) for the windows in ``x_path``, which must match the model's
    shape and, when both have a ``meta.json`` record, its sampling rate, channel names and
    window length."""
    windows = load_windows(x_path)
    if saved.meta is not None and windows.meta is not None:
        check_same_setup(saved.meta, windows.meta, str(x_path))
    if (windows.n_channels, windows.n_times) != (saved.n_channels, saved.n_times):
        raise DataError(
            f"{x_path}: expected windows of {saved.n_channels} channels x {saved.n_times} "
            f"samples like the model's training data, got {windows.n_channels} x "
            f"{windows.n_times}."
        )
    model = saved.model.to(device)
    everything = np.arange(windows.n_samples)
    predictions = predict_indices(model, windows, everything, saved.standardizer, device)
    finite = np.isfinite(predictions)
    if not finite.all():
        raise DataError(
            f"{x_path}: expected windows like the model's training data, got window "
            f"{int(np.argmin(finite))}, for which it predicts NaN or inf: its values lie far "
            "outside the training range; check the file's units."
        )
    return predictions
