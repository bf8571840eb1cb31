"""Study pieces that need no running Ray: settings, pruning rule, Optuna states, bad input."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from centerir.config import Config
from search_spaces import SPACES
from tune_study.pruning import FoldPercentilePruner
from tune_study.searcher import StatusAwareOptunaSearch
from tune_study.trainable import trial_config

ROOT = Path(__file__).resolve().parents[1]
optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_pruner_compares_with_a_percentile_of_completed_trials_at_the_same_fold_count():
    pruner = FoldPercentilePruner()
    assert pruner.should_prune("t", 2, 9.9) == ""  # no completed trial yet
    for trial_id, maes in {"a": [1, 1, 1], "b": [1, 3, 9], "c": [3, 3, 0], "d": [4, 4, 4]}.items():
        pruner.record_complete(trial_id, [float(m) for m in maes])
    assert pruner.should_prune("t", 1, 9.9) == ""  # never before fold 2
    # running means after 2 folds: 1, 2, 3, 4 -> 25th percentile (linear) 1.75
    assert pruner.should_prune("t", 2, 1.75) == ""
    reason = pruner.should_prune("t", 2, 1.76)
    assert reason.startswith("pruned after 2 folds: running MAE 1.7600 is worse than 1.7500,")
    assert "the 25th percentile of 4 completed trials at that fold count" in reason
    # after 3 folds: 1, 13/3, 2, 4 -> 1.75 again from different folds
    assert pruner.should_prune("t", 3, 1.75) == "" and pruner.should_prune("t", 3, 1.8)


def test_pruner_needs_one_completed_peer_with_as_many_folds_and_not_itself():
    pruner = FoldPercentilePruner()
    pruner.record_complete("paper", [2.0, 2.0, 2.0, 2.0])
    assert pruner.should_prune("t", 2, 2.0) == ""
    assert "the 25th percentile of 1 completed trials" in pruner.should_prune("t", 2, 2.1)
    pruner.record_complete("short", [0.1, 0.1])  # a 2-fold peer does not count at fold 3
    assert "of 1 completed trials" in pruner.should_prune("t", 3, 2.1)
    assert pruner.should_prune("paper", 3, 9.9) == ""  # its own record never counts
    assert pruner.should_prune("short", 2, 9.9).endswith("of 1 completed trials at that fold count")


def make_searcher():
    return StatusAwareOptunaSearch(
        space=SPACES["default"],
        metric="mae",
        mode="min",
        sampler=optuna.samplers.RandomSampler(seed=0),
    )


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("complete", TrialState.COMPLETE),
        ("pruned", TrialState.PRUNED),
        ("diverged", TrialState.FAIL),
    ],
)
def test_optuna_hears_the_reported_status(status, state):
    searcher = make_searcher()
    searcher.suggest("t1")
    searcher.on_trial_result("t1", {"mae": 2.5, "training_iteration": 1, "status": "running"})
    searcher.on_trial_complete("t1", {"mae": 2.0, "training_iteration": 2, "status": status})
    trial = searcher._ot_study.trials[0]
    assert trial.state == state
    if state == TrialState.COMPLETE:
        assert trial.value == 2.0


def test_trial_config_takes_the_chosen_k_and_drops_branch_names():
    params = {"lr": 3e-4, "boundaries": 12, "k_set_b12": "1-3", "k": "1-3", "lambda": 1e-7}
    config = trial_config(params, Config(folds=3, epochs=5))
    assert config.k == (1, 3) and config.folds == 3 and config["lambda"] == 1e-7


def launch(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "tune_study.launch", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        # caches (matplotlib, Ray) go to a HOME of their own, outside what the test inspects
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(cwd / "home")},
    )


def write(path, text):
    path.write_text(text)
    return str(path)


BAD = {
    "name leaves storage": (["--name", "../x"], r"name must be a plain folder name"),
    "absolute name": (["--name", "/tmp/x"], r"name must be a plain folder name"),
    "study file not toml": (
        lambda d: ["--config", write(d / "s.json", "{}")],
        r"expected a \.toml study file",
    ),
    "broken toml": (
        lambda d: ["--config", write(d / "s.toml", "num_samples = = 3")],
        r"s\.toml: not valid TOML",
    ),
    "unknown study key": (
        lambda d: ["--config", write(d / "s.toml", "trials = 3")],
        r"unknown study key\(s\) 'trials'",
    ),
    "bad config table": (
        lambda d: ["--config", write(d / "s.toml", "[config]\npatience = -1")],
        r"patience must be >= 0, got patience=-1",
    ),
    "searched key in config table": (
        lambda d: ["--config", write(d / "s.toml", "[config]\nboundaries = 8")],
        r"\[config\] fixes 'boundaries', which the 'default' space searches",
    ),
    "x without y": (lambda d: ["--x", str(d / "x.npy")], r"--x and --y must be given together"),
    "missing data": (
        lambda d: ["--x", str(d / "x.npy"), "--y", str(d / "y.npy")],
        r"x\.npy: X file not found",
    ),
    "zero samples": (["--num-samples", "0"], r"num_samples must be >= 1"),
    "one fold": (["--folds", "1"], r"folds must be >= 2"),
    "bad space": (["--space", "huge"], r"space must be one of"),
    "bad range": (
        lambda d: ["--config", write(d / "s.toml", "[ranges]\nlr = [1, 0]")],
        r"lr range must satisfy 0 < low <= high",
    ),
    "unknown flag": (["--trials", "3"], r"unrecognized arguments: --trials"),
    "unreachable address": (["--address", "127.0.0.1:1"], r"cannot reach a Ray cluster"),
    "resume without name": (["--resume"], r"--resume needs --name"),
    "resume unknown study": (["--resume", "--name", "nothing"], r"no study to resume there"),
    "unwritable storage": (
        lambda d: ["--storage-path", write(d / "file", "x") + "/sub"],
        r"is not writable",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, case):
    args, message = BAD[case]
    args = args(tmp_path) if callable(args) else args
    storage = tmp_path / "runs"
    if "--storage-path" not in args:
        args = [*args, "--storage-path", str(storage)]
    (tmp_path / "home").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    result = launch(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert re.search(message, lines[0]), lines[0]
    assert not storage.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def private_mounts() -> list[str] | None:
    """An ``unshare`` prefix giving a private mount namespace, or None where none is allowed."""
    prefix = ["unshare", "--mount"]
    if os.geteuid() != 0:
        prefix[1:1] = ["--user", "--map-root-user"]
    try:
        probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return prefix if probe.returncode == 0 else None


# In a private mount namespace: a 2 MiB tmpfs filled to the last block, the launcher pointed
# at it, then the exit code it gave and what the disk holds afterwards.
FULL_DISK_SCRIPT = """
mount -t tmpfs -o size=2m tmpfs "$1" || exit 99
dd if=/dev/zero of="$1/filler" bs=64k 2>/dev/null
"$2" -m tune_study.launch --storage-path "$1/runs" --name study
echo "exit $?"; ls -A "$1"
"""


def test_a_full_storage_disk_is_refused_before_any_training(tmp_path):
    prefix = private_mounts()
    if prefix is None:
        message = "a private mount namespace (unshare --mount) is not allowed here"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    disk = tmp_path / "disk"
    disk.mkdir()
    (tmp_path / "home").mkdir()
    result = subprocess.run(
        [*prefix, "sh", "-c", FULL_DISK_SCRIPT, "sh", str(disk), sys.executable],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home")},
    )
    assert result.stdout.split() == ["exit", "2", "filler"], result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert re.search(r"runs/study has only 0\.0 MiB free; .* another --storage-path", lines[0])


def test_settings_file_round_trip_values(tmp_path):
    from tune_study.launch import build_parser, settings_from_args

    study = tmp_path / "study.toml"
    study.write_text(
        'num_samples = 5\nspace = "paper"\n[ranges]\nlr = [1e-4, 1e-3]\n[config]\npatience = 4\n'
    )
    args = build_parser().parse_args(
        ["--config", str(study), "--num-samples", "7", "--x", "a.npy", "--y", "b.npy"]
    )
    settings = settings_from_args(args)
    assert settings.num_samples == 7 and settings.space == "paper"  # the flag wins
    assert settings.ranges == {"lr": [1e-4, 1e-3]} and settings.folds == 10
    assert settings.base_config().patience == 4
    assert json.loads(settings.to_json())["num_samples"] == 7


def test_ungrouped_data_and_test_selection_are_flagged_at_start_and_end():
    import numpy as np

    from centerir.data import EEGDataset
    from tune_study.settings import StudySettings
    from tune_study.study import protocol_cautions

    data = EEGDataset(np.zeros((8, 1, 2, 60)), np.arange(8.0), None, "x.npy")
    settings = StudySettings(x="x.npy", y="y.npy", config={"selection": "test"}).resolved()
    cautions = protocol_cautions(settings, data)
    assert any("split across train and test" in c and "--groups" in c for c in cautions)
    assert any("optimistic" in c for c in cautions)
    grouped = EEGDataset(np.zeros((8, 1, 2, 60)), np.arange(8.0), np.arange(8) // 2, "x.npy")
    assert protocol_cautions(StudySettings().resolved(), grouped) == []
