"""``python -m centerir``: train, fit-final, predict; bad input is one line and exit 2."""

import csv
import json
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from centerir.cli import main

SMALL = ["--folds", "2", "--epochs", "1", "--lr", "1e-3"]


def run_module(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "centerir", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_train_writes_metrics_and_every_out_of_fold_prediction(npy_files, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "--x",
            str(npy_files["x"]),
            "--y",
            str(npy_files["y"]),
            "--groups",
            str(npy_files["groups"]),
            *SMALL,
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "fold-averaged MAE" in printed and "mean" in printed
    assert "subject_mae" in printed and "training mean" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "complete" and len(metrics["folds"]) == 2
    assert {"subject_mae", "subject_r2"} <= set(metrics["summary"])
    mean = metrics["baselines"]["mean_predictor"]
    assert len(mean["mae_folds"]) == 2 and mean["folds_done"] == 2
    assert metrics["config"]["folds"] == 2 and metrics["config"]["lr"] == 1e-3
    with open(out / "predictions.csv") as handle:
        rows = list(csv.DictReader(handle))
    n = len(np.load(npy_files["y"]))
    assert sorted(int(r["index"]) for r in rows) == list(range(n))
    assert all(r["subject"] != "" for r in rows)


def test_train_on_demo_data_without_arguments_for_data(tmp_path, run_main):
    result = run_main(main, ["train", "--folds", "2", "--epochs", "1", "--out", tmp_path / "o"])
    assert result.returncode == 0, result.stderr
    assert "demo data" in result.stderr
    assert (tmp_path / "o" / "metrics.json").is_file()


def test_config_file_and_flags_combine(npy_files, tmp_path, capsys):
    config = tmp_path / "best.json"
    config.write_text(json.dumps({"lr": 5e-4, "boundaries": 8, "k": [1, 2], "folds": 2}))
    code = main(
        [
            "train",
            "--x",
            str(npy_files["x"]),
            "--y",
            str(npy_files["y"]),
            "--config",
            str(config),
            "--epochs",
            "1",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 0
    saved = json.loads((tmp_path / "o" / "metrics.json").read_text())["config"]
    assert (saved["lr"], saved["boundaries"], saved["k"], saved["epochs"]) == (5e-4, 8, [1, 2], 1)
    assert "may be split across train and test" in capsys.readouterr().out


def test_fit_final_then_predict(npy_files, tmp_path):
    model = tmp_path / "model.pt"
    code = main(
        [
            "fit-final",
            "--x",
            str(npy_files["x"]),
            "--y",
            str(npy_files["y"]),
            "--final-epochs",
            "1",
            "--out",
            str(model),
        ]
    )
    assert code == 0
    payload = torch.load(model, weights_only=True)
    assert payload["epochs"] == 1 and payload["config"]["epochs"] == 100
    predictions = tmp_path / "pred.csv"
    assert (
        main(
            [
                "predict",
                "--model",
                str(model),
                "--x",
                str(npy_files["x"]),
                "--out",
                str(predictions),
            ]
        )
        == 0
    )
    with open(predictions) as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(np.load(npy_files["y"]))
    assert all(np.isfinite(float(r["y_pred"])) for r in rows)


def test_fit_final_without_epochs_uses_the_cv_median(npy_files, tmp_path, capsys):
    model = tmp_path / "model.pt"
    code = main(
        [
            "fit-final",
            "--x",
            str(npy_files["x"]),
            "--y",
            str(npy_files["y"]),
            "--folds",
            "2",
            "--epochs",
            "2",
            "--out",
            str(model),
        ]
    )
    assert code == 0
    assert "median selected epoch" in capsys.readouterr().err
    assert torch.load(model, weights_only=True)["epochs"] in (1, 2)


def write_text(path):
    path.write_text("1,2,3\n")
    return str(path)


def write_json(path, values):
    path.write_text(json.dumps(values))
    return str(path)


def write(path, array):
    np.save(path, array)
    return str(path)


BAD_CASES = {
    "missing X": (
        lambda d: ["--x", str(d / "nope.npy"), "--y", write(d / "y.npy", np.arange(8.0))],
        "nope.npy: X file not found",
    ),
    "not npy": (
        lambda d: ["--x", write_text(d / "x.csv"), "--y", write(d / "y.npy", np.arange(8.0))],
        "expected a NumPy .npy file",
    ),
    "pickled": (
        lambda d: [
            "--x",
            write(d / "x.npy", np.array([{"a": 1}], dtype=object)),
            "--y",
            write(d / "y.npy", np.arange(8.0)),
        ],
        "pickled",
    ),
    "1-D X": (
        lambda d: [
            "--x",
            write(d / "x.npy", np.zeros(8)),
            "--y",
            write(d / "y.npy", np.arange(8.0)),
        ],
        r"expected X of shape \(N, 1, C, T\) or \(N, C, T\)",
    ),
    "N mismatch": (
        lambda d: [
            "--x",
            write(d / "x.npy", np.zeros((8, 2, 60))),
            "--y",
            write(d / "y.npy", np.arange(9.0)),
        ],
        "expected one score per window",
    ),
    "NaN": (
        lambda d: [
            "--x",
            write(d / "x.npy", np.full((8, 2, 60), np.nan)),
            "--y",
            write(d / "y.npy", np.arange(8.0)),
        ],
        "NaN or inf in window 0",
    ),
    "constant y": (
        lambda d: [
            "--x",
            write(d / "x.npy", np.zeros((8, 2, 60))),
            "--y",
            write(d / "y.npy", np.ones(8)),
        ],
        "nothing to regress",
    ),
    "too short": (
        lambda d: [
            "--x",
            write(d / "x.npy", np.zeros((40, 2, 30))),
            "--y",
            write(d / "y.npy", np.arange(40.0)),
        ],
        "at least 50 samples",
    ),
    "x without y": (
        lambda d: ["--x", write(d / "x.npy", np.zeros((8, 2, 60)))],
        "--x and --y must be given together",
    ),
    "bad lr": (lambda d: ["--lr", "-1"], "lr must be > 0"),
    "bad k": (lambda d: ["--k", "0,1"], "every k must be an int >= 1"),
    "zero boundaries": (lambda d: ["--boundaries", "0"], "boundaries must be >= 1"),
    "empty k set": (lambda d: ["--k", ","], "got an empty k set"),
    "k above boundaries": (
        lambda d: ["--boundaries", "4", "--k", "1,8"],
        r"boundaries=4 makes only 4: every k must be <= boundaries",
    ),
    "strict remainder no k fits": (
        lambda d: ["--remainder", "strict"],
        r"fold 1: remainder='strict' needs every k to divide the \d+ kept bins.*"
        r"k values that divide",
    ),
    "unknown config key": (
        lambda d: ["--config", write_json(d / "c.json", {"learning_rate": 1e-3})],
        r"c\.json: unknown config key\(s\) 'learning_rate'; valid keys: lr,",
    ),
    "inconsistent config keys": (
        lambda d: ["--config", write_json(d / "c.json", {"few_shot": 200, "many_shot": 100})],
        r"few_shot must be between 0 and many_shot, got few_shot=200",
    ),
    "bad flag": (lambda d: ["--learning-rate", "1"], "unrecognized arguments"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, case, run_main):
    make_args, message = BAD_CASES[case]
    out = tmp_path / "out"
    result = run_main(main, ["train", *make_args(tmp_path), "--folds", "2", "--out", out])
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert re.search(message, lines[0]), lines[0]
    assert not out.exists()


def test_predict_refuses_a_file_that_is_not_a_model(tmp_path):
    fake = tmp_path / "model.pt"
    fake.write_bytes(b"not a model")
    x = write(tmp_path / "x.npy", np.zeros((2, 19, 100)))
    result = run_module("predict", "--model", str(fake), "--x", x, "--out", str(tmp_path / "p.csv"))
    assert result.returncode == 2 and "could not load it safely" in result.stderr
    assert not (tmp_path / "p.csv").exists()


def test_help_explains_every_option(run_main):
    result = run_main(main, ["train", "--help"])
    assert result.returncode == 0
    for flag in (
        "--x",
        "--y",
        "--groups",
        "--config",
        "--folds",
        "--epochs",
        "--batch-size",
        "--lr",
        "--boundaries",
        "--k",
        "--lambda",
        "--seed",
        "--device",
        "--selection",
        "--out",
    ):
        assert flag in result.stdout


def test_our_own_bug_is_a_traceback_and_exit_1_not_a_user_error(npy_files, tmp_path):
    """A ValueError from inside torch is no bad input: it must not be reported as one."""
    script = (
        "import sys, torch.nn.functional as F\n"
        "def broken(*args, **kwargs):\n"
        "    raise ValueError('an internal failure')\n"
        "F.mse_loss = broken\n"
        "from centerir.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    data = ["--x", npy_files["x"], "--y", npy_files["y"], "--groups", npy_files["groups"]]
    result = subprocess.run(
        [sys.executable, "-c", script, "train", *map(str, data), *SMALL],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    assert "ValueError: an internal failure" in result.stderr
    assert "error: an internal failure" not in result.stderr


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["train", "--out", "{file}"], r"expected a folder for metrics\.json and predictions\.csv"),
        (["fit-final", "--out", "{folder}"], r"expected a file path for the model file"),
        (["fit-final", "--out", "{file}/model.pt"], r"writable place .* a file, not a folder"),
    ],
)
def test_unwritable_outputs_are_refused_before_any_training(tmp_path, command, message, run_main):
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "a_folder").mkdir()
    names = {"file": tmp_path / "a_file", "folder": tmp_path / "a_folder"}
    argv = [part.format(**names) for part in command] + ["--folds", "2", "--epochs", "1"]
    done = run_main(main, argv)
    assert done.returncode == 2 and done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert re.search(message, line), line
