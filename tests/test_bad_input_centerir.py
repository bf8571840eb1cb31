"""``python -m centerir`` under hostile input: values the math cannot take, special files,
damaged model files, bad ids and devices are one line and exit 2 with nothing written; a
diverged run is a result (exit 3), never a traceback."""

import json
import os
import pickle
import re
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from centerir.batches import ChannelStandardizer
from centerir.cli import main
from centerir.command_line import DIVERGED_EXIT
from centerir.config import MAX_SEED, Config, ConfigError
from centerir.model import CNNBiLSTM, n_parameters
from centerir.persist import save_model_file
from centerir.training import FitOutcome, build_model

N, C, T = 16, 2, 60  # windows, channels, samples: the smallest data the default model takes
X_ONES = np.ones((N, C, T))


def save(path, array):
    np.save(path, array)
    return str(path)


def npy_with_shape(path, shape_text):
    """A hand-made .npy header claiming ``shape_text`` (np.save refuses bad shapes)."""
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape_text}, }}"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
    return str(path)


def text_ids(*ids):
    """N subject ids, two windows each of the first N // 2 of ``ids`` and of padding."""
    padded = [*ids, *(f"s{i}" for i in range(N // 2 - len(ids)))]
    return np.repeat(np.array(padded), 2)


def write_config(path, text):
    path.write_text(text)
    return str(path)


@pytest.fixture
def data(tmp_path):
    """Tiny valid X (N, C, T), y and groups (8 subjects), saved; returns their paths."""
    rng = np.random.default_rng(0)
    return {
        "x": save(tmp_path / "x.npy", rng.normal(size=(N, C, T))),
        "y": save(tmp_path / "y.npy", np.arange(float(N))),
        "groups": save(tmp_path / "g.npy", np.repeat(np.arange(N // 2), 2)),
    }


def with_data(data, x=None, y=None, groups=None):
    """--x/--y/--groups of ``data``, any of them replaced."""
    return [
        "--x",
        x or data["x"],
        "--y",
        y or data["y"],
        "--groups",
        groups or data["groups"],
    ]


# name -> (argv after "train" from (tmp folder, data), message the one line must match)
TRAIN_CASES = {
    "X beyond float32": (
        lambda d, f: with_data(f, x=save(d / "xb.npy", np.full((N, C, T), 1e300))),
        r"xb\.npy: expected X values within ±1e\+30, got 1e\+300 in window 0",
    ),
    "X one huge value": (
        lambda d, f: with_data(
            f, x=save(d / "xb.npy", np.where(np.arange(N)[:, None, None] == 5, 1e35, X_ONES))
        ),
        r"xb\.npy: expected X values within ±1e\+30, got 1e\+35 in window 5",
    ),
    "huge y": (
        lambda d, f: with_data(f, y=save(d / "yb.npy", np.arange(float(N)) * 1e30)),
        r"yb\.npy: expected y values within ±1e\+06, got 1e\+30 in window 1",
    ),
    "y equal in float32": (
        lambda d, f: with_data(f, y=save(d / "yt.npy", 1 + np.arange(float(N)) * 1e-12)),
        r"yt\.npy: expected scores that vary in float32",
    ),
    "negative dimension": (
        lambda d, f: with_data(f, x=npy_with_shape(d / "neg.npy", "(-1, 2, 60)")),
        r"neg\.npy: expected a valid \.npy file for X, got a header whose shape has a negative",
    ),
    "0-d y": (
        lambda d, f: with_data(f, y=save(d / "y0.npy", np.array(3.0))),
        r"y0\.npy: expected y of shape \(N,\) or \(N, 1\), got shape \(\)",
    ),
    "bool X": (
        lambda d, f: with_data(f, x=save(d / "xb.npy", np.ones((N, C, T), bool))),
        r"xb\.npy: expected a numeric X array, got dtype bool",
    ),
    "object groups": (
        lambda d, f: with_data(
            f, groups=save(d / "go.npy", np.array([1, 2] * (N // 2), dtype=object))
        ),
        r"go\.npy: expected a numeric array for groups, got an object \(pickled\) array",
    ),
    "empty X": (
        lambda d, f: with_data(f, x=save(d / "xe.npy", np.zeros((0, C, T)))),
        r"xe\.npy: expected X with at least one window",
    ),
    "lone surrogate id": (
        lambda d, f: with_data(f, groups=save(d / "gs.npy", text_ids("a\ud800"))),
        r"gs\.npy: expected subject ids as valid Unicode text, got code point U\+D800 in "
        r"the id of window 0",
    ),
    "code point past U+10FFFF": (
        lambda d, f: with_data(
            f,
            groups=save(
                d / "gc.npy",
                np.repeat(np.arange(0x10FFFA, 0x110002, dtype="<u4"), 2).view("<U1"),
            ),
        ),
        r"gc\.npy: expected subject ids as valid Unicode text, got code point U\+110000 in "
        r"the id of window 12",
    ),
    "k true in config": (
        lambda d, f: ["--config", write_config(d / "c.json", '{"k": true}')],
        r"c\.json: k must be group sizes like '1-3-5-15'.*got k=True",
    ),
    "k null in config": (
        lambda d, f: ["--config", write_config(d / "c.json", '{"k": null}')],
        r"c\.json: k must be group sizes like .*got k=None",
    ),
    "k minus one": (lambda d, f: ["--k=-1"], r"k must be group sizes like .*got k='-1'"),
    "k full-width": (lambda d, f: ["--k", "１-３"], r"k must be group sizes like .*got k='１-３'"),
    "folds full-width": (
        lambda d, f: ["--folds", "２"],
        r"argument --folds: expected a whole number, got '２'",
    ),
    "lr nan": (lambda d, f: ["--lr", "nan"], r"argument --lr: expected a finite number"),
    "lr 1e400 in JSON": (
        lambda d, f: ["--config", write_config(d / "c.json", '{"lr": 1e400}')],
        r"c\.json: lr must be a finite number, got lr=inf",
    ),
    "weight_decay inf in YAML": (
        lambda d, f: ["--config", write_config(d / "c.yaml", "weight_decay: .inf\n")],
        r"c\.yaml: weight_decay must be a finite number",
    ),
    "lambda 1e300": (lambda d, f: ["--lambda", "1e300"], r"lambda must be <= 1e\+06"),
    "boundaries 1e13": (
        lambda d, f: ["--boundaries", "10000000000000"],
        r"boundaries must be <= 1000, got boundaries=10000000000000",
    ),
    "metric_bins 1e13": (
        lambda d, f: ["--config", write_config(d / "c.toml", "metric_bins = 10000000000000\n")],
        r"c\.toml: metric_bins must be <= 1000",
    ),
    "lstm_hidden 1e8": (
        lambda d, f: ["--config", write_config(d / "c.yaml", "lstm_hidden: 100000000\n")],
        r"c\.yaml: lstm_hidden must be <= 4096",
    ),
    "seed past sklearn": (lambda d, f: ["--seed", str(2**40)], r"seed must be <= 2147483647"),
    "300-digit value stays one short line": (
        lambda d, f: ["--config", write_config(d / "c.json", '{"boundaries": 1%s}' % ("0" * 300))],
        r"boundaries must be <= 1000, got boundaries=1000000000\d*\.\.\.:",
    ),
    "non-text key in YAML": (
        lambda d, f: ["--config", write_config(d / "c.yaml", "1: 2\nzz: 3\n")],
        r"c\.yaml: unknown config key\(s\) 'zz', 1;",
    ),
    "model too large for the windows": (
        lambda d, f: [
            *with_data(f, x=save(d / "xl.npy", np.zeros((N, 1, 900), np.float32))),
            "--config",
            write_config(d / "c.json", '{"lstm_hidden": 4096}'),
        ],
        r"xl\.npy: the model must have at most 5e\+08 weights, got \d\.\d+e\+08 for 1 "
        r"channels x 900 samples",
    ),
    "batch size 0": (lambda d, f: ["--batch-size", "0"], r"batch_size must be >= 2"),
    "epochs 0": (lambda d, f: ["--epochs", "0"], r"epochs must be >= 1"),
    "one fold": (lambda d, f: ["--folds", "1"], r"folds must be >= 2"),
    "more folds than subjects": (
        lambda d, f: [*with_data(f), "--folds", "7"],
        r"g\.npy: expected at least 9 subjects for 7 subject-disjoint folds",
    ),
    "device banana": (
        lambda d, f: ["--device", "banana"],
        r"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got device='banana'",
    ),
    "device cpu:1": (lambda d, f: ["--device", "cpu:1"], r"device must be 'auto', 'cpu'"),
    "device missing GPU": (
        lambda d, f: ["--device", "cuda:99"],
        r"device must be (available, got device='cuda:99' but CUDA is not|one of cuda:0 to)",
    ),
}


def assert_one_line_exit_2(result, message):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert re.search(message, lines[0]), lines[0]
    assert re.match(r"(error:|python -m centerir \S+: error:)", lines[0]), lines[0]


@pytest.mark.parametrize("case", sorted(TRAIN_CASES))
def test_train_refuses_bad_input_in_one_line_and_writes_nothing(tmp_path, data, case, run_main):
    make_args, message = TRAIN_CASES[case]
    out = tmp_path / "out"
    argv = ["train", "--folds", "2", "--epochs", "1", *make_args(tmp_path, data), "--out", out]
    result = run_main(main, argv)
    assert_one_line_exit_2(result, message)
    assert result.stdout == ""
    assert not out.exists()


@pytest.mark.parametrize("case", ["X beyond float32", "lambda 1e300", "device banana"])
def test_fit_final_refuses_the_same_input(tmp_path, data, case, run_main):
    make_args, message = TRAIN_CASES[case]
    out = tmp_path / "model.pt"
    argv = [
        "fit-final",
        "--final-epochs",
        "1",
        *with_data(data),
        *make_args(tmp_path, data),
    ]
    result = run_main(main, [*argv, "--out", out])
    assert_one_line_exit_2(result, message)
    assert not out.exists()


def test_fit_final_with_final_epochs_needs_no_folds(tmp_path, data, run_main):
    """--final-epochs runs no cross-validation: 16 windows suit it whatever --folds says."""
    out = tmp_path / "model.pt"
    argv = ["fit-final", "--x", data["x"], "--y", data["y"], "--final-epochs", "1", "--out", out]
    result = run_main(main, [*argv, "--folds", "10"])
    assert result.returncode == 0, result.stderr
    assert out.is_file()


# -- divergence: a result, exit 3 ---------------------------------------------------------


def test_a_first_fold_divergence_is_reported_not_a_traceback(tmp_path, data, run_main):
    out = tmp_path / "out"
    argv = ["train", *with_data(data), "--folds", "2", "--epochs", "2", "--lr", "1e30"]
    result = run_main(main, [*argv, "--out", out])
    assert result.returncode == DIVERGED_EXIT == 3
    assert "Traceback" not in result.stderr
    assert re.search(
        r"status: diverged: fold 1: .* in epoch 1 \(lr=1e\+30, .*\); a lower learning rate",
        result.stdout,
    ), result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "diverged" and metrics["folds"] == []


def test_fit_final_divergence_writes_no_model(tmp_path, data, run_main):
    out = tmp_path / "model.pt"
    argv = ["fit-final", *with_data(data), "--final-epochs", "1", "--lr", "1e30"]
    result = run_main(main, [*argv, "--out", out])
    assert result.returncode == DIVERGED_EXIT
    (line,) = result.stderr.strip().splitlines()[-1:]
    assert re.match(r"training diverged: .* in epoch 1 .*; no model written\.$", line), line
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_help_documents_the_exit_codes(run_main):
    for command in ("train", "fit-final", "predict"):
        result = run_main(main, [command, "--help"])
        assert result.returncode == 0
        assert "3 training diverged" in " ".join(result.stdout.split())


# -- predict: damaged model files and windows ---------------------------------------------


@pytest.fixture
def model_file(tmp_path):
    """An untrained model file for (C, T) windows, written as fit-final writes one."""
    torch.manual_seed(0)
    config = Config()
    model = build_model(config, C, T)
    statistics = ChannelStandardizer(np.zeros(C, np.float32), np.ones(C, np.float32))
    path = tmp_path / "model.pt"
    save_model_file(path, FitOutcome(model, statistics, 1, 1, 0.0), config, 1)
    return path


def variant(path, change):
    """A copy of the model file at ``path`` with ``change(payload)`` applied."""
    payload = torch.load(path, weights_only=True)
    change(payload)
    changed = path.with_name("changed.pt")
    torch.save(payload, changed)
    return changed


def set_key(key, value):
    return lambda payload: payload.__setitem__(key, value)


def set_weight(name, value):
    return lambda payload: payload["state_dict"].__setitem__(name, value)


def plain_pickle(path):
    changed = path.with_name("plain.pt")
    changed.write_bytes(pickle.dumps({"format": "centerir-model/1"}, protocol=4))
    return changed


def legacy_torch_file(path):
    changed = path.with_name("legacy.pt")
    torch.save({"format": "centerir-model/1"}, changed, _use_new_zipfile_serialization=False)
    return changed


# name -> (model file from the valid one, message)
MODEL_CASES = {
    "lacks a key": (
        lambda p: variant(p, lambda payload: payload.pop("config")),
        r"changed\.pt: expected a centerir-model/1 model file with .*, got one without 'config'",
    ),
    "weights of the wrong shape": (
        lambda p: variant(p, set_weight("head.6.weight", torch.zeros(1, 7))),
        r"weights 'head\.6\.weight' must be a tensor of float32, shape \(1, 128\) .*got a "
        r"tensor of float32, shape \(1, 7\)",
    ),
    "weights missing": (
        lambda p: variant(p, lambda payload: payload["state_dict"].pop("lstm.weight_hh_l0")),
        r"weights 'lstm\.weight_hh_l0' must be a tensor .*got nothing",
    ),
    "unknown weights": (
        lambda p: variant(p, set_weight("extra", torch.zeros(1))),
        r"state_dict must hold only the model's weights, got 'extra'",
    ),
    "NaN weights": (
        lambda p: variant(p, set_weight("head.6.bias", torch.tensor([float("nan")]))),
        r"weights 'head\.6\.bias' must be finite, got NaN or inf",
    ),
    "state dict of the wrong type": (
        lambda p: variant(p, set_key("state_dict", [1, 2])),
        r"state_dict must be a table of weights, got a list",
    ),
    "config of the wrong type": (
        lambda p: variant(p, set_key("config", [1, 2])),
        r"the saved config is invalid \(expected a table of config keys, got list",
    ),
    "n_times 1e12": (
        lambda p: variant(p, set_key("n_times", 10**12)),
        r"changed\.pt: the model must have at most 5e\+08 weights, got .* x 1000000000000 samples",
    ),
    "n_times too short": (
        lambda p: variant(p, set_key("n_times", 5)),
        r"n_times must be >= 50 for the saved temporal_kernel and pool_size, got n_times=5",
    ),
    "n_channels a bool": (
        lambda p: variant(p, set_key("n_channels", True)),
        r"n_channels must be an int >= 1, got n_channels=True",
    ),
    "channel_std zero": (
        lambda p: variant(p, set_key("channel_std", torch.zeros(C))),
        r"channel_std must be finite and > 0, got \[0\.0, 0\.0\]",
    ),
    "channel_mean float64": (
        lambda p: variant(p, set_key("channel_mean", torch.zeros(C, dtype=torch.float64))),
        r"channel_mean must be a tensor of float32, shape \(2,\), got a tensor of float64",
    ),
    "another format": (
        lambda p: variant(p, set_key("format", "centerir-model/9")),
        r"expected a centerir-model/1 model file from fit-final, got format 'centerir-model/9'",
    ),
    "plain pickle": (
        plain_pickle,
        r"plain\.pt: expected a model file from 'python -m centerir fit-final', could not load "
        r"it safely \(not the zip archive torch\.save writes\)",
    ),
    "legacy torch file": (legacy_torch_file, r"legacy\.pt: .*could not load it safely"),
}


@pytest.mark.parametrize("case", sorted(MODEL_CASES))
def test_predict_refuses_a_damaged_model_file_in_one_line(
    tmp_path, data, model_file, case, run_main
):
    make_model, message = MODEL_CASES[case]
    out = tmp_path / "p.csv"
    argv = ["predict", "--model", make_model(model_file), "--x", data["x"], "--out", out]
    result = run_main(main, argv)
    assert_one_line_exit_2(result, message)
    assert not out.exists()


@pytest.mark.parametrize(
    ("make_x", "message"),
    [
        (
            lambda d: save(d / "xb.npy", np.full((N, C, T), 1e300)),
            r"xb\.npy: expected X values within ±1e\+30, got 1e\+300 in window 0",
        ),
        (
            lambda d: save(d / "xs.npy", np.full((N, C, T), 1e20)),
            r"xs\.npy: expected windows like the model's training data, got window 0, for "
            r"which it predicts NaN or inf",
        ),
    ],
)
def test_predict_refuses_windows_it_cannot_predict(tmp_path, model_file, make_x, message, run_main):
    out = tmp_path / "p.csv"
    result = run_main(
        main, ["predict", "--model", model_file, "--x", make_x(tmp_path), "--out", out]
    )
    assert_one_line_exit_2(result, message)
    assert not out.exists()


@pytest.mark.parametrize(
    "command",
    [
        ["fit-final", "--final-epochs", "1", "--x", "{x}", "--y", "{y}", "--out", "{x}"],
        ["predict", "--model", "{model}", "--x", "{x}", "--out", "{model}"],
    ],
)
def test_an_output_that_is_an_input_is_refused(tmp_path, data, model_file, command, run_main):
    names = {**data, "model": model_file}
    before = {name: os.path.getmtime(path) for name, path in names.items()}
    result = run_main(main, [part.format(**names) for part in command])
    assert_one_line_exit_2(result, r"expected an output path apart from the inputs")
    assert before == {name: os.path.getmtime(path) for name, path in names.items()}


# -- special files: refused before they are opened ------------------------------------------

FIFO_SCRIPT = textwrap.dedent(
    """
    import contextlib, io, json, sys
    from centerir.cli import main
    results = []
    for argv in json.loads(sys.argv[1]):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = main(argv)
            except SystemExit as exit_:
                code = exit_.code
        results.append([code, err.getvalue()])
    print(json.dumps(results))
    """
)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_fifos_are_refused_without_blocking(tmp_path, data, model_file):
    """Reading or writing a FIFO blocks until the other end opens: every command must refuse
    one before opening it. One subprocess runs every case, under a timeout."""
    fifo = {suffix: tmp_path / f"fifo.{suffix}" for suffix in ("npy", "pt", "csv")}
    for path in fifo.values():
        os.mkfifo(path)
    cases = {
        "--x": (
            ["train", "--x", fifo["npy"], "--y", data["y"]],
            r"fifo\.npy: .* for X, got a FIFO",
        ),
        "--y": (
            ["train", "--x", data["x"], "--y", fifo["npy"]],
            r"fifo\.npy: .* for y, got a FIFO",
        ),
        "--groups": (
            ["train", *with_data(data, groups=fifo["npy"])],
            r"fifo\.npy: .* for groups, got a FIFO",
        ),
        "--model": (
            ["predict", "--model", fifo["pt"], "--x", data["x"], "--out", tmp_path / "p.csv"],
            r"fifo\.pt: expected model file as a regular file",
        ),
        "predict --out": (
            ["predict", "--model", model_file, "--x", data["x"], "--out", fifo["csv"]],
            r"fifo\.csv: expected a file path for .*, got a FIFO",
        ),
        "fit-final --out": (
            ["fit-final", "--final-epochs", "1", *with_data(data), "--out", fifo["pt"]],
            r"fifo\.pt: expected a file path for .*, got a FIFO",
        ),
        "train --out holding a FIFO": (
            ["train", *with_data(data), "--out", tmp_path / "run"],
            r"predictions\.csv: expected a file path for .*, got a FIFO",
        ),
    }
    (tmp_path / "run").mkdir()
    os.mkfifo(tmp_path / "run" / "predictions.csv")
    argvs = [[str(part) for part in argv] for argv, _ in cases.values()]
    done = subprocess.run(
        [sys.executable, "-c", FIFO_SCRIPT, json.dumps(argvs)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    for (name, (_, message)), (code, stderr) in zip(
        cases.items(), json.loads(done.stdout), strict=True
    ):
        lines = stderr.strip().splitlines()
        assert code == 2 and len(lines) == 1, (name, stderr)
        assert re.search(message, lines[0]), (name, lines[0])
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["predictions.csv"]


# -- the bounds themselves --------------------------------------------------------------------


def test_the_bounds_keep_every_useful_value():
    """Huge epoch counts, the largest bins and lambda, and a learning rate that can only
    diverge are all accepted: only what the math cannot take is refused."""
    config = Config.from_dict(
        {"epochs": 10**12, "patience": 10**9, "boundaries": 1000, "metric_bins": 1000}
    )
    assert config.epochs == 10**12
    assert Config.from_dict({"lambda": 1e6, "seed": MAX_SEED, "lr": 1e30}).lr == 1e30
    with pytest.raises(ConfigError, match=r"lambda must be <= 1e\+06, got lambda=10000000\.0"):
        Config.from_dict({"lambda": 1e7})


@pytest.mark.parametrize(
    "sizes", [(19, 1000), (2, 60, 8, 4, 5, 3, 7), (3, 200, 1, 1, 1, 1, 1), (1, 50)]
)
def test_n_parameters_counts_the_model_without_building_it(sizes):
    model = CNNBiLSTM(*sizes)
    assert n_parameters(*sizes) == sum(p.numel() for p in model.parameters())
