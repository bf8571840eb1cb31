"""The GPU path, checked on the CPU: every pipeline and batch source trains the same model to
the last bit, a NaN still stops a fold with its epoch, the precision key, the device-memory
rule, and benchmarks/gpu_check.py end to end."""

import functools
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import centerir.cv as cv_module
import centerir.device_batches as device_batches
import centerir.training as training_module
from centerir.batches import StreamedWindows
from centerir.cli import main
from centerir.config import Config, ConfigError
from centerir.contract import Status
from centerir.cpu_math import resolve_vector_math
from centerir.cv import Callback, cross_validate
from centerir.demo import make_demo_dataset
from centerir.device_batches import (
    OVERLAPPED,
    SYNCHRONOUS,
    ResidentWindows,
    fits_on_device,
    resident_bytes,
)
from centerir.loss import CenterIRLoss
from centerir.training import TrainingStart, fit_model, precision_note, training_precision

ROOT = Path(__file__).resolve().parents[1]
CPU = torch.device("cpu")
GIB = 2**30

# Fold MAEs of the demo data (make_demo_dataset(seed=0)), 2 folds, 2 epochs, seed 42, every
# other key at its default, on the CPU with 2 torch threads (as tests/conftest.py sets), on
# torch 2.13.0+cpu, as `python -m centerir train --folds 2 --epochs 2 --device cpu` writes
# them (metrics.json, repr of each fold's "mae"). Pinned so that the CUDA branches of the
# batch pipelines cannot change what a CPU trains, to the last bit.
RECORDED_TORCH = "2.13.0+cpu"
RECORDED_FOLD_MAE = [2.149797385931015, 2.055282733341058]
DEMO_CONFIG = Config(folds=2, epochs=2)


class EpochLog(Callback):
    """Every epoch's logs, in order."""

    def __init__(self):
        self.logs = []

    def on_epoch_end(self, fold, epoch, logs):
        self.logs.append((fold, epoch, logs["train_loss"], logs["val_mae"], logs["best_epoch"]))


def demo_run(dataset):
    """(fold MAEs, out-of-fold predictions, selected epochs, epoch logs) of DEMO_CONFIG."""
    resolve_vector_math()  # as every command does first (see centerir.cpu_math)
    log = EpochLog()
    result = cross_validate(DEMO_CONFIG, dataset, callbacks=[log], device="cpu")
    assert result.status == Status.COMPLETE
    return (
        [fold.metrics["mae"] for fold in result.folds],
        [fold.predictions for fold in result.folds],
        [fold.selected_epoch for fold in result.folds],
        log.logs,
    )


def resident_on_cpu(dataset, fit_index, val_index, standardizer, targets, device, pipeline):
    """fold_windows holding the windows on the device whatever it is (CUDA only in use)."""
    return ResidentWindows.load(dataset, fit_index, val_index, standardizer, targets, device)


@pytest.fixture(scope="module")
def demo():
    return make_demo_dataset(seed=0)


@pytest.fixture(scope="module")
def default_run(demo):
    torch.set_num_threads(2)  # module fixtures run before the per-test conftest one
    return demo_run(demo)


def test_demo_fold_maes_on_the_cpu_are_the_pinned_ones(default_run):
    if torch.__version__ != RECORDED_TORCH:
        pytest.skip(
            f"the MAEs were recorded on torch {RECORDED_TORCH}; torch {torch.__version__} may "
            "differ in the last bits"
        )
    assert default_run[0] == RECORDED_FOLD_MAE


def test_every_pipeline_and_batch_source_trains_the_same_model_on_the_cpu(small_demo, monkeypatch):
    overlapped = demo_run(small_demo)
    synchronous_fit = functools.partial(fit_model, pipeline=SYNCHRONOUS)
    monkeypatch.setattr(cv_module, "fit_model", synchronous_fit)
    synchronous = demo_run(small_demo)
    monkeypatch.setattr(cv_module, "fit_model", fit_model)
    monkeypatch.setattr(training_module, "fold_windows", resident_on_cpu)
    resident = demo_run(small_demo)
    # MAEs, every prediction, the selected epochs and every epoch's training loss and
    # validation MAE, compared as floats: equal to the last bit
    assert overlapped == synchronous == resident


def test_resident_batches_and_predictions_equal_the_streamed_ones(small_demo, monkeypatch):
    monkeypatch.setattr(device_batches, "STATS_CHUNK_ROWS", 10)  # several chunks to load
    config = Config(batch_size=7)
    fit, val = np.arange(5, 70), np.arange(70, small_demo.n_samples)
    start = TrainingStart.seeded(config, small_demo, fit, CPU, seed=3)
    parts = (small_demo, fit, val, start.standardizer, start.targets, CPU)
    streamed, resident = StreamedWindows(*parts), ResidentWindows.load(*parts)
    first, second = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    for _ in range(2):  # two epochs: the generators must advance alike
        pairs = zip(
            streamed.training_batches(first, 7), resident.training_batches(second, 7), strict=True
        )
        for (x, y), (held_x, held_y) in pairs:
            assert torch.equal(x, held_x) and torch.equal(y, held_y)
    np.testing.assert_array_equal(
        streamed.predict_val(start.model), resident.predict_val(start.model)
    )
    np.testing.assert_array_equal(
        streamed.predict_fit(start.model), resident.predict_fit(start.model)
    )
    assert len(resident.predict_val(start.model)) == len(val)


@pytest.mark.parametrize("pipeline", [OVERLAPPED, SYNCHRONOUS], ids=["overlapped", "synchronous"])
def test_a_nan_loss_in_epoch_2_stops_the_fold_as_diverged_in_epoch_2(
    small_demo, monkeypatch, pipeline
):
    fit, val, batch_size = np.arange(40), np.arange(40, 60), 8  # 5 steps per epoch
    steps = []
    real_forward = CenterIRLoss.forward

    def nan_from_step_6(self, features, labels):
        steps.append(1)
        value = real_forward(self, features, labels)
        return value * math.nan if len(steps) > 5 else value

    monkeypatch.setattr(CenterIRLoss, "forward", nan_from_step_6)
    config = Config(batch_size=batch_size, epochs=4, patience=0)
    outcome = fit_model(config, small_demo, fit, val, CPU, seed=1, pipeline=pipeline)
    assert outcome.status == Status.DIVERGED
    assert outcome.message.startswith("loss became nan in epoch 2 (lr=0.0001"), outcome.message
    assert (outcome.epochs_run, outcome.selected_epoch) == (2, 1)


def test_precision_must_be_fp32_or_bf16():
    with pytest.raises(
        ConfigError, match=r"precision must be one of \('fp32', 'bf16'\), got precision='fp16'\."
    ):
        Config.from_dict({"precision": "fp16"})
    with pytest.raises(ConfigError, match=r"precision must be a string, got precision=16\."):
        Config.from_dict({"precision": 16})
    assert Config().precision == "fp32"


def test_bf16_applies_on_cuda_only():
    bf16, fp32 = Config(precision="bf16"), Config()
    cuda = torch.device("cuda")
    assert training_precision(bf16, cuda) == "bf16"
    assert training_precision(bf16, CPU) == training_precision(fp32, cuda) == "fp32"
    assert (
        precision_note(bf16, CPU) == "precision bf16 applies on CUDA only: training in fp32 on cpu"
    )
    assert precision_note(bf16, cuda) == precision_note(fp32, CPU) == ""


def test_train_with_bf16_on_the_cpu_says_it_trains_in_fp32(npy_files, tmp_path, run_main):
    data = ["--x", npy_files["x"], "--y", npy_files["y"], "--groups", npy_files["groups"]]
    flags = ["--folds", "2", "--epochs", "1", "--device", "cpu", "--out", tmp_path / "out"]
    result = run_main(main, ["train", *data, *flags, "--precision", "bf16"])
    assert result.returncode == 0, result.stderr
    assert "note: precision bf16 applies on CUDA only: training in fp32 on cpu" in result.stderr
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["config"]["precision"] == "bf16"
    assert {fold["device"] for fold in metrics["folds"]} == {"cpu"}


def test_an_unknown_precision_flag_is_one_line_and_exit_2(run_main):
    result = run_main(main, ["train", "--precision", "fp16"])
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "--precision: invalid choice: 'fp16'" in line


def test_resident_windows_take_at_most_half_of_what_the_process_may_still_allocate(
    monkeypatch,
):
    cuda = torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (60 * GIB, 100 * GIB))
    monkeypatch.setattr(torch.cuda, "memory_reserved", lambda device: 5 * GIB)
    monkeypatch.setattr(torch.cuda, "get_per_process_memory_fraction", lambda device: 0.25)
    # the process's share (25 GiB) less what it reserved (5 GiB) binds: half of 20 GiB
    assert fits_on_device(10 * GIB, cuda) and not fits_on_device(10 * GIB + 1, cuda)
    monkeypatch.setattr(torch.cuda, "get_per_process_memory_fraction", lambda device: 1.0)
    # the whole GPU: the free 60 GiB bind
    assert fits_on_device(30 * GIB, cuda) and not fits_on_device(30 * GIB + 1, cuda)
    assert resident_bytes(10, 19, 500) == 4 * 10 * (19 * 500 + 1)


NON_NEGATIVE = {"max_abs_difference", "overlap_share"}  # may be 0; the rest must be > 0


def numbers(values):
    """Every int or float inside nested dicts and lists (bools excluded)."""
    if isinstance(values, dict):
        return [n for value in values.values() for n in numbers(value)]
    if isinstance(values, list):
        return [n for value in values for n in numbers(value)]
    is_number = isinstance(values, (int, float)) and not isinstance(values, bool)
    return [values] if is_number else []


@pytest.mark.slow
def test_the_gpu_check_runs_end_to_end_on_the_cpu(tmp_path):
    out = tmp_path / "check.json"
    command = [sys.executable, "benchmarks/gpu_check.py", "--device", "cpu", "--tiny"]
    finished = subprocess.run(
        [*command, "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    report = json.loads(out.read_text())
    parts = report["parts"]
    assert set(parts) == {"cli", "throughput", "busy", "processes"}
    assert not [name for name, part in parts.items() if "error" in part]
    cli = parts["cli"]
    assert len(cli["cpu_fold_mae"]) == len(cli["device_fold_mae"]) == 2
    assert cli["max_abs_difference"] == 0  # two CPU processes: the same bits
    rows = parts["throughput"]["rows"]
    assert {(row["batch_size"], row["precision"]) for row in rows} == {
        (8, "fp32"),
        (8, "bf16"),
        (16, "fp32"),
        (16, "bf16"),
    }
    assert {row["precision_used"] for row in rows} == {"fp32"}
    for row in rows:
        assert set(row["samples_per_s"]) == {"synchronous", "overlapped"}
    assert parts["busy"] == {
        "method": None,
        "rows": [],
        "note": "not applicable on a CPU",
        "seconds": parts["busy"]["seconds"],
    }
    processes = parts["processes"]
    assert len(processes["per_process_samples_per_s"]) == 4
    assert 0 <= processes["overlap_share"] <= 1
    for name in ("cli", "throughput", "processes"):
        rest = {key: value for key, value in parts[name].items() if key not in NON_NEGATIVE}
        values = numbers(rest)
        assert values and all(math.isfinite(v) and v > 0 for v in values), name
    assert "4 processes:" in finished.stdout and "synchronous/s" in finished.stdout
