"""``meta.json``: what ``prepare`` records beside the windows, and the checks it allows.

Arrays forget how they were made; ``meta.json`` remembers the sampling rate, the channel
names in order and the window length (plus filters, reference, sources and counts). A
command given ``--x DIR/X.npy`` picks up ``DIR/meta.json`` when present, checks it agrees
with X's shape, and carries it into its metrics, experiments and saved models, so that
``predict`` can refuse windows recorded differently from the model's training data.
Imports no torch or MNE.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from centerir.contract import UserError, is_json_number, read_json_file

META_FILE = "meta.json"
META_FORMAT = "centerir-prepared/1"
# The facts that make windows comparable: a model applies only to windows that share them.
SETUP_KEYS = ("sfreq", "ch_names", "n_times")


def meta_path(x_path: str | Path) -> Path:
    """Where the ``meta.json`` of the windows file ``x_path`` lies: in the same folder."""
    return Path(x_path).parent / META_FILE


def check_meta(values: Any, where: str) -> dict[str, Any]:
    """``values`` if they are a prepared-data record with a valid setup, else a UserError
    naming ``where`` (a file) and the first bad key."""
    if not isinstance(values, dict) or values.get("format") != META_FORMAT:
        found = values.get("format") if isinstance(values, dict) else type(values).__name__
        raise UserError(
            f"{where}: expected a {META_FORMAT} record written by 'python -m centerir prepare', "
            f"got format {found!r}."
        )
    sfreq, names, n_times = (values.get(key) for key in SETUP_KEYS)
    if not (is_json_number(sfreq) and math.isfinite(sfreq) and sfreq > 0):
        raise UserError(f"{where}: sfreq must be a number > 0 (Hz), got {sfreq!r}.")
    if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
        raise UserError(f"{where}: ch_names must be a list of channel names, got {names!r:.80}.")
    if isinstance(n_times, bool) or not isinstance(n_times, int) or n_times < 1:
        raise UserError(f"{where}: n_times must be an int >= 1 (samples), got {n_times!r}.")
    return values


def read_meta(x_path: str | Path, x_shape: tuple[int, ...]) -> dict[str, Any] | None:
    """The ``meta.json`` beside ``x_path``, checked against X's shape (N, 1, C, T); None
    when there is none (windows saved with NumPy directly).

    Raises
    ------
    UserError
        A damaged record, or one describing other windows than X's (another count, channel
        count or window length): it belongs to another X in the same folder.
    """
    path = meta_path(x_path)
    if not path.exists():
        return None
    values = check_meta(read_json_file(path, "record of prepared windows"), str(path))
    described = (values.get("n_windows"), len(values["ch_names"]), values["n_times"])
    found = (x_shape[0], x_shape[2], x_shape[3])
    if described != found:
        raise UserError(
            f"{path}: expected the record of {x_path} ({found[0]} windows of {found[1]} "
            f"channels x {found[2]} samples), got one of {described[0]} windows of "
            f"{described[1]} x {described[2]}; it belongs to other windows: move it or X away."
        )
    return values


def describe_setup(meta: dict[str, Any]) -> str:
    """``"19 channels at 250 Hz, windows of 1250 samples"``, for messages."""
    return (
        f"{len(meta['ch_names'])} channels at {meta['sfreq']:g} Hz, windows of "
        f"{meta['n_times']} samples"
    )


def check_same_setup(model: dict[str, Any], data: dict[str, Any], x_name: str) -> None:
    """Refuse windows recorded differently from a model's training data: another sampling
    rate, other channel names or order, another window length.

    Parameters
    ----------
    model, data : dict
        The model's and the windows' ``meta.json`` records (checked by :func:`check_meta`).
    x_name : str
        The windows file, for the message.
    """
    if model["sfreq"] != data["sfreq"]:
        difference = f"sampling rate {data['sfreq']:g} Hz, the model's {model['sfreq']:g} Hz"
        fix = f"prepare them again with --sfreq {model['sfreq']:g}"
    elif model["ch_names"] != data["ch_names"]:
        ours, theirs = model["ch_names"], data["ch_names"]
        position = next(
            (i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b),
            min(len(ours), len(theirs)),
        )
        found = theirs[position] if position < len(theirs) else "no channel"
        wanted = ours[position] if position < len(ours) else "no channel"
        difference = f"channel {position + 1} {found!r}, the model's {wanted!r}"
        fix = "prepare them again with --channels in the model's order"
    elif model["n_times"] != data["n_times"]:
        difference = f"windows of {data['n_times']} samples, the model's {model['n_times']}"
        fix = "prepare them again with the model's --window"
    else:
        return
    raise UserError(
        f"{x_name}: expected windows like the model's training data ({describe_setup(model)}), "
        f"got {difference}; {fix}."
    )
