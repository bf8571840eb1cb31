"""Hostile or careless input to ``python -m tune_study.launch``: every case is one
``error:`` line naming the key or file, exit code 2, no traceback, and nothing written,
refused by the settings checks before any data is read (so before Ray starts)."""

import os
import re

import pytest

from tune_study import launch


class PassedChecks(Exception):
    """The launcher got past the settings checks (raised where it would read the data)."""


def stop_at_data(settings):
    """Stands in for ``launch.load_study_data``: nothing past the checks runs."""
    raise PassedChecks(settings)


def study_file(text: str):
    """Arguments giving a study file ``s.toml`` with ``text``, written into the case's folder."""

    def make(folder):
        (folder / "s.toml").write_text(text)
        return ["--config", str(folder / "s.toml")]

    return make


def fifo(folder):
    os.mkfifo(folder / "f.toml")
    return ["--config", str(folder / "f.toml")]


def folder_named_toml(folder):
    (folder / "d.toml").mkdir()
    return ["--config", str(folder / "d.toml")]


def latin1_file(folder):
    (folder / "s.toml").write_bytes(b'name = "caf\xe9"\n')
    return ["--config", str(folder / "s.toml")]


FILE = r"s\.toml: "
TYPES = {  # a value of the wrong kind anywhere in the study file
    "string folds": ('folds = "3"', FILE + r"folds must be an integer, got folds='3'\."),
    "string time budget": (
        'time_budget = "1h"',
        FILE + r"time_budget must be a finite number, got time_budget='1h'\.",
    ),
    "number as name": ("name = 5", FILE + r"name must be a string, got name=5\."),
    "date as name": ("name = 1979-05-27", FILE + r"name must be a string, got name=datetime"),
    "string switch": ('prune = "no"', FILE + r"prune must be true or false, got prune='no'\."),
    "float seed": ("seed = 1.5", FILE + r"seed must be an integer, got seed=1\.5\."),
    "ranges not a table": ("ranges = 5", FILE + r"ranges must be a \[ranges\] table, got ranges=5"),
    "unknown table": ("[search]\nlr = 1", FILE + r"unknown study key\(s\) 'search'"),
    "strings as a range": (
        '[ranges]\nlr = ["a", "b"]',
        FILE + r"lr range must be \[low, high\] of two finite numbers, got \['a', 'b'\]\.",
    ),
    "one-number range": (
        "[ranges]\nlr = [1]",
        FILE + r"lr range must be \[low, high\] of two finite numbers, got \[1\]\.",
    ),
    "number as a range": (
        "[ranges]\nlr = 0.001",
        FILE + r"\[ranges\] lr must be \[low, high\], got 0\.001\.",
    ),
    "table as a range": (
        "[ranges.lr]\nlow = 1",
        FILE + r"\[ranges\] lr must be \[low, high\], got \{'low': 1\}\.",
    ),
    "bool in a range": (
        "[ranges]\nlr = [true, 0.001]",
        FILE + r"lr range must be \[low, high\] of two finite numbers, got \[True, 0\.001\]",
    ),
    "inf in a range": (
        "[ranges]\nlr = [1e-5, inf]",
        FILE + r"lr range must be \[low, high\] of two finite numbers, got \[1e-05, inf\]",
    ),
    "fractional boundaries": (
        "[ranges]\nboundaries = [2.5, 8]",
        FILE + r"boundaries range must be \[low, high\] of two whole numbers, got \[2\.5, 8\]",
    ),
    "k sets not a list": ("[ranges]\nk_sets = 5", FILE + r"\[ranges\] k_sets must be a list"),
    "number as a k set": (
        "[ranges]\nk_sets = [13]",
        FILE + r"k set names look like '1-3-5-15' .*, got 13\.",
    ),
    "string batch size": (
        '[ranges]\nbatch_sizes = ["x"]',
        FILE + r"batch_sizes must be a list of whole numbers, got \['x'\]\.",
    ),
    "unknown range": ("[ranges]\nlearning_rate = [1, 2]", FILE + r"unknown \[ranges\] key"),
    "string in config table": (
        '[config]\npatience = "x"',
        FILE + r"\[config\] patience must be an integer, got patience='x'\.",
    ),
    "unknown config key": ("[config]\npatiences = 3", FILE + r"\[config\] unknown config key"),
}
RANGES = {  # ranges in the wrong order or outside what the math takes
    "reversed range": (
        "[ranges]\nlr = [1e-2, 1e-5]",
        FILE + r"lr range must satisfy 0 < low <= high, got \(0\.01, 1e-05\)\.",
    ),
    "zero in a log range": (
        "[ranges]\nlambda = [0, 1e-5]",
        FILE + r"lambda range must satisfy 0 < low <= high",
    ),
    "reversed boundaries": (
        "[ranges]\nboundaries = [20, 8]",
        FILE + r"boundaries range must satisfy low <= high, got \(20, 8\)\.",
    ),
    "zero boundaries": (
        "[ranges]\nboundaries = [0, 8]",
        FILE + r"boundaries range: boundaries must be >= 1, got boundaries=0\.",
    ),
    "boundaries 1e13": (
        "[ranges]\nboundaries = [8, 10000000000000]",
        FILE + r"boundaries range: boundaries must be <= 1000, got boundaries=10000000000000",
    ),
    "lambda 1e300": (
        "[ranges]\nlambda = [1e-9, 1e300]",
        FILE + r"lambda range: lambda must be <= 1e\+06, got lambda=1e\+300",
    ),
    "dropout above one": (
        "[ranges]\ndropout = [0.1, 2]",
        FILE + r"dropout range: dropout must be in \[0, 1\), got dropout=2\.0\.",
    ),
    "batch size one": (
        "[ranges]\nbatch_sizes = [1, 32]",
        FILE + r"batch_sizes: batch_size must be >= 2, got batch_size=1\.",
    ),
    "no batch sizes": (
        "[ranges]\nbatch_sizes = []",
        FILE + r"batch_sizes must be a list of whole numbers, got \[\]\.",
    ),
    "no k sets": ("[ranges]\nk_sets = []", FILE + r"k_sets must name at least one k set"),
    "repeated k": (
        '[ranges]\nk_sets = ["1-1"]',
        FILE + r"k set names look like '1-3-5-15' \(group sizes >= 1, none repeated\), got '1-1'",
    ),
    "k set with commas": ('[ranges]\nk_sets = ["1,3"]', FILE + r"k set names look like"),
    "huge seed": (
        "seed = 100000000000000000000000",
        FILE + r"seed must be <= 2147483647, got seed=100000000000000000000000",
    ),
    "one fold": ("folds = 1", FILE + r"folds must be >= 2, got folds=1\."),
    "config sets folds": (
        "[config]\nfolds = 5",
        FILE + r"\[config\] sets 'folds', a study setting: .* pass --folds\.",
    ),
    "config out of range": (
        "[config]\nfew_shot = 500",
        FILE + r"\[config\] few_shot must be between 0 and many_shot",
    ),
    "dashboard host in file": (
        'dashboard_host = "256.1.1.1"',
        FILE + r"dashboard_host must be an IP address or host name of this machine",
    ),
    "storage URI in file": ('storage_path = "s3://b/x"', FILE + r"storage_path must be a local"),
}
STUDY_FILE_CASES = {case: (study_file(text), message) for case, (text, message) in TYPES.items()}
STUDY_FILE_CASES.update({case: (study_file(text), msg) for case, (text, msg) in RANGES.items()})

PARSER = r"python -m tune_study\.launch: error: argument "
FLAG_CASES = {
    "nan cpus": (["--cpus-per-trial", "nan"], PARSER + r"--cpus-per-trial: expected a finite"),
    "nan time budget": (["--time-budget", "nan"], PARSER + r"--time-budget: expected a finite"),
    "inf gpus": (["--gpus-per-trial", "inf"], PARSER + r"--gpus-per-trial: expected a finite"),
    "nan holdout": (["--holdout", "nan"], PARSER + r"--holdout: expected a finite number"),
    "full-width folds": (["--folds", "３"], PARSER + r"--folds: expected a whole number, got '３'"),
    "full-width port": (["--dashboard-port", "８２６５"], PARSER + r"--dashboard-port: expected a"),
    "underscored samples": (["--num-samples", "1_0"], PARSER + r"--num-samples: expected a whole"),
    "fractional epochs": (["--epochs", "2.5"], PARSER + r"--epochs: expected a whole number"),
    "zero cpus": (["--cpus-per-trial", "0"], r"^error: cpus_per_trial must be > 0, got "),
    "negative gpus": (["--gpus-per-trial", "-1"], r"^error: gpus_per_trial must be >= 0"),
    "zero time budget": (["--time-budget", "0"], r"^error: time_budget must be > 0 seconds"),
    "zero samples": (["--num-samples", "0"], r"^error: num_samples must be >= 1"),
    "zero concurrent": (["--max-concurrent", "0"], r"^error: max_concurrent must be >= 1"),
    "one fold": (["--folds", "1"], r"^error: folds must be >= 2, got folds=1\."),
    "zero epochs": (["--epochs", "0"], r"^error: epochs must be >= 1, got epochs=0\."),
    "one outer fold": (["--outer-folds", "1"], r"^error: outer_folds must be from 2 to 100"),
    "101 outer folds": (["--outer-folds", "101"], r"^error: outer_folds must be from 2 to 100"),
    "negative holdout": (["--holdout", "-0.1"], r"^error: holdout must be a share of subjects"),
    "whole holdout": (["--holdout", "1"], r"^error: holdout must be a share of subjects"),
    "negative seed": (["--seed", "-1"], r"^error: seed must be >= 0, got seed=-1\."),
    "seed past 2**31": (["--seed", str(2**31)], r"^error: seed must be <= 2147483647"),
    "name with a newline": (
        ["--name", "abc\n"],
        r"^error: name must be a plain folder name .*, got name='abc\\n'\.",
    ),
    "dot as name": (["--name", "."], r"^error: name must be a plain folder name"),
    "s3 storage": (
        ["--storage-path", "s3://bucket/x"],
        r"^error: storage_path must be a local folder \(no control characters; URIs like "
        r"s3://bucket/x are not supported: mount the storage and give its path\), got "
        r"storage_path='s3://bucket/x'\.",
    ),
    "newline in storage": (["--storage-path", "runs\nx"], r"^error: storage_path must be a local"),
    "file URI storage": (["--storage-path", "file:///tmp/x"], r"storage_path must be a local"),
    "empty storage": (["--storage-path", ""], r"^error: storage_path must be a local folder"),
    "NUL in storage": (["--storage-path", "a\0b"], r"^error: storage_path must be a local"),
    "bad dashboard address": (
        ["--dashboard-host", "256.1.1.1"],
        r"^error: dashboard_host must be an IP address or host name of this machine, got "
        r"dashboard_host='256\.1\.1\.1' \(.*\); omit it for 127\.0\.0\.1\.",
    ),
    "empty dashboard host": (["--dashboard-host", ""], r"^error: dashboard_host must be"),
    "dashboard on another machine": (  # TEST-NET-1: never an address of this machine
        ["--dashboard-host", "192.0.2.1"],
        r"^error: dashboard_host must be an IP address or host name of this machine",
    ),
    "port zero": (["--dashboard-port", "0"], r"^error: dashboard_port must be a port from 1"),
    "port 65536": (["--dashboard-port", "65536"], r"^error: dashboard_port must be a port"),
    "unknown objective": (["--objective", "accuracy"], r"^error: objectives must be 1 to 3"),
    "unknown one of several objectives": (
        ["--objectives", "mae,accuracy"],
        r"^error: objectives must be 1 to 3 distinct reported metrics separated by commas, got "
        r"objectives='mae,accuracy' \('accuracy' is not one of mae, rmse, ",
    ),
    "repeated objective": (
        ["--objectives", "mae,few_mae,mae"],
        r"^error: objectives must be .*, got objectives='mae,few_mae,mae' \('mae' is named twice\)",
    ),
    "four objectives": (
        ["--objectives", "mae,rmse,r2,few_mae"],
        r"^error: objectives must be .* \(at most 3 objectives, got 4\)\.$",
    ),
    "empty objective in a list": (["--objectives", "mae,"], r"\('' is not one of mae"),
    "prune with several objectives": (
        ["--objectives", "mae,few_mae", "--prune"],
        r"^error: prune cannot be used with several objectives \(objectives='mae,few_mae'\)",
    ),
    "objective and objectives in a study file": (
        study_file('objective = "mae"\nobjectives = "mae,r2"\n'),
        r"s\.toml: give 'objectives' or 'objective', not both\.",
    ),
    "objectives list with a number in a study file": (
        study_file('objectives = ["mae", 3]\n'),
        r"s\.toml: objectives must be a list of metric names .*, got objectives=\[.mae., 3\]",
    ),
    "repeated objective in a study file list": (
        study_file('objectives = ["few_mae", "few_mae"]\n'),
        r"s\.toml: objectives must be .*'few_mae' is named twice",
    ),
    "unknown space": (["--space", "huge"], r"^error: space must be one of"),
    "storage file name": (["--optuna-storage", "study.db"], r"^error: optuna_storage must be"),
    "empty data paths": (["--x", "", "--y", ""], r"^error: x must be a local file path"),
    "x without y": (["--x", "x.npy"], r"^error: --x and --y must be given together"),
    "y without x": (["--y", "y.npy"], r"^error: --x and --y must be given together"),
    "groups without data": (["--groups", "g.npy"], r"^error: --groups needs --x and --y"),
    "study file is a folder": (folder_named_toml, r"d\.toml: expected config file as a regular"),
    "study file is a FIFO": (fifo, r"f\.toml: expected config file as a regular file, got a FIFO"),
    "missing study file": (["--config", "nothing.toml"], r"nothing\.toml: config file not found"),
    "study file not TOML": (["--config", "s.yaml"], r"s\.yaml: expected a \.toml study file"),
    "study file not UTF-8": (latin1_file, r"s\.toml: expected config file as UTF-8 text"),
    "key given twice": (study_file("folds = 3\nfolds = 4"), r"s\.toml: not valid TOML"),
}
CASES = {**STUDY_FILE_CASES, **{f"flag: {case}": value for case, value in FLAG_CASES.items()}}


@pytest.fixture
def refused(tmp_path, run_main, monkeypatch):
    """Run the launcher in ``tmp_path`` (its working folder); check that it refused in one
    line before reading any data and wrote nothing; return that line."""

    monkeypatch.setattr(launch, "load_study_data", stop_at_data)
    monkeypatch.chdir(tmp_path)

    def run(args) -> str:
        args = args(tmp_path) if callable(args) else args
        if "--storage-path" not in args:
            args = [*args, "--storage-path", str(tmp_path / "runs")]
        before = sorted(p.name for p in tmp_path.iterdir())
        done = run_main(launch.main, args)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr and done.stdout == "", done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "error: " in lines[0], done.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == before  # no runs/, no s3:/
        return lines[0]

    return run


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_named_line_exit_2_and_nothing_written(case, refused):
    args, message = CASES[case]
    line = refused(args)
    assert re.search(message, line), line


def test_good_input_passes_the_same_checks(tmp_path, run_main, monkeypatch):
    """The checks refuse nothing valid: every kind of range and flag at its edge."""
    monkeypatch.setattr(launch, "load_study_data", stop_at_data)
    study = tmp_path / "s.toml"
    study.write_text(
        'space = "wide"\nseed = 2147483647\nprune = false\ntime_budget = 60\n'
        "[ranges]\nlr = [1e-4, 1e-4]\nboundaries = [1000, 1000]\n"
        'k_sets = ["1", "1-3-5-15"]\nlambda = [1e-9, 1e6]\nbatch_sizes = [2, 64]\n'
        "dropout = [0, 0.5]\n[config]\npatience = 0\n"
    )
    args = [
        "--config", str(study), "--storage-path", str(tmp_path / "runs"),
        "--name", "a.b-c_1", "--dashboard-host", "localhost", "--dashboard-port", "65535",
        "--holdout", "0", "--cpus-per-trial", "0.5", "--gpus-per-trial", "0",
    ]  # fmt: skip
    with pytest.raises(PassedChecks) as passed:
        run_main(launch.main, args)
    settings = passed.value.args[0]
    assert settings.ranges["boundaries"] == [1000, 1000] and settings.seed == 2147483647
    assert settings.base_config().patience == 0 and settings.name == "a.b-c_1"
    assert not (tmp_path / "runs").exists()
