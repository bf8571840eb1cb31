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
from centerir.contract import PLAIN_MSE, PUBLISHED
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
    assert reason.startswith("pruned after 2 folds: running mae 1.7600 is worse than 1.7500,")
    assert "the 25th percentile (from the best) of 4 completed trials at that fold" in reason
    # after 3 folds: 1, 13/3, 2, 4 -> 1.75 again from different folds
    assert pruner.should_prune("t", 3, 1.75) == "" and pruner.should_prune("t", 3, 1.8)


def test_pruner_on_a_higher_is_better_objective_keeps_the_top_quarter():
    pruner = FoldPercentilePruner("r2", "max")
    for trial_id, r2 in {"a": 0.1, "b": 0.2, "c": 0.3, "d": 0.4}.items():
        pruner.record_complete(trial_id, [r2, r2, r2])
    # 75th percentile of 0.1..0.4 (linear): 0.325
    assert pruner.should_prune("t", 2, 0.325) == ""
    assert pruner.should_prune("t", 2, 0.32).startswith("pruned after 2 folds: running r2 0.3200")


def test_pruner_needs_one_completed_peer_with_as_many_folds_and_not_itself():
    pruner = FoldPercentilePruner()
    pruner.record_complete("paper", [2.0, 2.0, 2.0, 2.0])
    assert pruner.should_prune("t", 2, 2.0) == ""
    assert "(from the best) of 1 completed trials" in pruner.should_prune("t", 2, 2.1)
    pruner.record_complete("short", [0.1, 0.1])  # a 2-fold peer does not count at fold 3
    assert "of 1 completed trials" in pruner.should_prune("t", 3, 2.1)
    assert pruner.should_prune("paper", 3, 9.9) == ""  # its own record never counts
    assert pruner.should_prune("short", 2, 9.9).endswith("of 1 completed trials at that fold count")


def make_searcher(storage, points=None):
    return StatusAwareOptunaSearch(
        space=SPACES["default"],
        metric="mae",
        mode="min",
        points_to_evaluate=points,
        sampler=optuna.samplers.RandomSampler(seed=0),
        study_name="units",
        storage=storage,
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
    storage = optuna.storages.InMemoryStorage()
    searcher = make_searcher(storage)
    searcher.suggest("t1")
    searcher.on_trial_result("t1", {"mae": 2.5, "training_iteration": 1, "status": "running"})
    searcher.on_trial_complete("t1", {"mae": 2.0, "training_iteration": 2, "status": status})
    (trial,) = optuna.load_study(study_name="units", storage=storage).trials
    assert trial.state == state
    if state == TrialState.COMPLETE:
        assert trial.value == 2.0


def test_a_trial_stopped_midway_reaches_optuna_as_pruned_not_with_its_partial_value():
    storage = optuna.storages.InMemoryStorage()
    searcher = make_searcher(storage)
    searcher.suggest("t1")
    searcher.on_trial_complete("t1", {"mae": 1.0, "training_iteration": 1, "status": "running"})
    (trial,) = optuna.load_study(study_name="units", storage=storage).trials
    assert trial.state == TrialState.PRUNED and trial.value is None


def test_plain_mse_runs_second_and_optuna_never_hears_of_it():
    from tune_study.search import plain_mse_params
    from tune_study.searcher import BaselinesFirst

    storage = optuna.storages.InMemoryStorage()
    space = SPACES["default"]
    paper = space.as_trial_params(PUBLISHED)
    wrapped = BaselinesFirst(make_searcher(storage, [paper]), [plain_mse_params(space)])
    first, second, third = (wrapped.suggest(f"t{i}") for i in range(3))
    assert first["lambda"] == PUBLISHED["lambda"] and first["k"] == PUBLISHED["k"]
    assert second == {**PLAIN_MSE, "role": "plain_mse"}
    assert third["lambda"] != 0.0 and "role" not in third
    state = wrapped.get_state()
    for trial_id, value in (("t0", 2.0), ("t1", 1.0), ("t2", 3.0)):
        result = {"mae": value, "training_iteration": 3, "status": "complete"}
        wrapped.on_trial_result(trial_id, result)
        wrapped.on_trial_complete(trial_id, result)
    values = [t.value for t in optuna.load_study(study_name="units", storage=storage).trials]
    assert values == [2.0, 3.0]  # the published and the proposal; plain MSE untold
    restored = BaselinesFirst(make_searcher(optuna.storages.InMemoryStorage()), [])
    restored.set_state(state)
    assert restored.fixed_trials == {"t1"} and restored.fixed == [] and restored.proposals == 2


def test_trial_config_takes_the_chosen_k_and_drops_branch_names():
    params = {"lr": 3e-4, "boundaries": 12, "k_set_b12": "1-3", "k": "1-3", "lambda": 1e-7}
    config = trial_config(params, Config(folds=3, epochs=5))
    assert config.k == (1, 3) and config.folds == 3 and config["lambda"] == 1e-7


def demo_files(folder, groups=True):
    """A small demo data set as .npy files; the launcher's data flags."""
    import numpy as np

    from centerir.demo import make_demo_dataset

    data = make_demo_dataset(n_subjects=12, segments_per_subject=2, window_seconds=1.0)
    flags = []
    for key in ("x", "y", "groups")[: 3 if groups else 2]:
        np.save(folder / f"{key}.npy", getattr(data, key))
        flags += [f"--{key}", str(folder / f"{key}.npy")]
    return flags


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
    "holdout above half": (
        ["--holdout", "0.7"],
        r"holdout must be a share of subjects in \[0, 0\.5\]",
    ),
    "holdout nan": (
        ["--holdout", "nan"],
        r"argument --holdout: expected a finite number, got .nan.",
    ),
    "string in study file": (
        lambda d: ["--config", write(d / "s.toml", 'holdout = "0.2"')],
        r"holdout must be a finite number, got holdout='0\.2'",
    ),
    "float outer folds in study file": (
        lambda d: ["--config", write(d / "s.toml", "outer_folds = 2.5")],
        r"outer_folds must be an integer, got outer_folds=2\.5",
    ),
    "string switch in study file": (
        lambda d: ["--config", write(d / "s.toml", 'prune = "false"')],
        r"prune must be true or false, got prune='false'",
    ),
    "wrong table type": (
        lambda d: ["--config", write(d / "s.toml", "folds = '3'")],
        r"folds must be an integer, got folds='3'",
    ),
    "holdout of one subject": (["--holdout", "0.02"], r"holds out 1, expected at least 2"),
    "too few left to tune": (
        ["--holdout", "0.5", "--folds", "40"],
        r"holdout=0\.5 leaves too few subjects to tune: .*expected at least 42 subjects",
    ),
    "holdout without subject ids": (
        lambda d: ["--holdout", "0.2", *demo_files(d, groups=False)],
        r"holdout must be 0 without subject ids",
    ),
    "one outer fold": (["--outer-folds", "1"], r"outer_folds must be from 2 to 100"),
    "outer folds with a holdout": (
        ["--outer-folds", "3", "--holdout", "0.2"],
        r"holdout must be 0 or unset with outer_folds",
    ),
    "outer folds without subject ids": (
        lambda d: ["--outer-folds", "3", *demo_files(d, groups=False)],
        r"outer_folds needs subject ids \(--groups\)",
    ),
    "more outer folds than subjects allow": (
        ["--outer-folds", "40"],
        r"outer_folds=40 needs at least 80 subjects \(2 per outer test fold\), got 60",
    ),
    "outer folds leave too few to tune": (
        ["--outer-folds", "20", "--folds", "56"],
        r"outer_folds=20 leaves too few subjects to tune in outer fold 1: .*at least 58",
    ),
    "unknown objective": (
        ["--objective", "accuracy"],
        r"objectives must be 1 to 3 distinct reported metrics separated by commas, got "
        r"objectives='accuracy' \('accuracy' is not one of mae, rmse",
    ),
    "subject objective without ids": (
        lambda d: ["--objective", "subject_mae", *demo_files(d, groups=False)],
        r"objective 'subject_mae' is computed over subjects and needs subject ids",
    ),
    "resume unknown study": (["--resume", "--name", "nothing"], r"no study to resume there"),
    "unwritable storage": (
        lambda d: ["--storage-path", write(d / "file", "x") + "/sub"],
        r"is not writable",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, case, run_main, monkeypatch):
    from tune_study.launch import main

    args, message = BAD[case]
    args = args(tmp_path) if callable(args) else args
    storage = tmp_path / "runs"
    if "--storage-path" not in args:
        args = [*args, "--storage-path", str(storage)]
    (tmp_path / "home").mkdir()
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run_main(main, args)
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
    assert json.loads(json.dumps(settings.to_dict()))["num_samples"] == 7


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


def test_an_internal_error_in_the_launcher_propagates_as_a_traceback(tmp_path, monkeypatch):
    """Only a UserError is one line and exit 2; a ValueError of ours must reach Python,
    which prints its traceback and exits 1."""
    from tune_study import launch

    def broken(*args, **kwargs):
        raise ValueError("an internal failure")

    monkeypatch.setattr(launch, "split_subjects", broken)
    monkeypatch.setattr(os, "environ", dict(os.environ))
    with pytest.raises(ValueError, match="an internal failure"):
        launch.main(["--storage-path", str(tmp_path / "runs")])
    assert not (tmp_path / "runs").exists()


def test_a_ray_without_the_private_parts_we_use_is_refused_in_one_line(monkeypatch):
    from ray.tune.experiment.trial import Trial

    from centerir.contract import UserError
    from tune_study.ray_compat import check_ray

    check_ray()  # the installed Ray has them
    monkeypatch.delattr(Trial, "local_path")
    with pytest.raises(
        UserError,
        match=r"ray must be a version this project works with \(tested: "
        r">=2\.60,<2\.61\), got ray 2\.\d+\.\d+, which lacks Trial\.local_path",
    ):
        check_ray()


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({}, r"expected the study's plan \(holdout in \[0, 0\.5\], lambda_range"),
        ({"holdout": "x"}, r"expected the study's plan"),
        ({"holdout": -1}, r"expected the study's plan"),
        ({"lambda_range": [1e-3]}, r"expected the study's plan"),
        ({"lambda_range": [1e-2, 1e-3]}, r"expected the study's plan"),
    ],
)
def test_resume_refuses_an_edited_plan_before_ray_starts(tmp_path, plan, message, run_main):
    from tune_study.launch import main
    from tune_study.settings import StudySettings

    saved = StudySettings(name="s", storage_path=str(tmp_path)).resolved().to_dict()
    good = {"holdout": 0.2, "holdout_reason": "r", "lambda_range": [1e-6, 1e-2], "lambda_note": ""}
    saved.update(base_config={"folds": 3, "epochs": 6, "seed": 42}, plan={**good, **plan})
    if not plan:
        saved["plan"] = {}
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "centerir_study.json").write_text(json.dumps(saved))
    before = sorted(p.name for p in (tmp_path / "s").iterdir())
    done = run_main(main, ["--resume", "--storage-path", tmp_path, "--name", "s"])
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert re.search(message, line) and "centerir_study.json" in line
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == before


def test_resume_rechecks_the_saved_settings(tmp_path, run_main):
    from tune_study.launch import main
    from tune_study.settings import StudySettings

    saved = StudySettings(name="s", storage_path=str(tmp_path)).resolved().to_dict()
    saved.update(objectives="foo", base_config={})
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "centerir_study.json").write_text(json.dumps(saved))
    done = run_main(main, ["--resume", "--storage-path", tmp_path, "--name", "s"])
    assert done.returncode == 2
    assert "centerir_study.json: objectives must be 1 to 3 distinct reported metrics" in done.stderr


def test_the_contract_names_every_saved_setting():
    from dataclasses import fields

    from centerir.contract import SETTINGS_KEYS
    from tune_study.settings import StudySettings

    saved = {f.name for f in fields(StudySettings)} | {"base_config", "plan", "objective"}
    assert saved == SETTINGS_KEYS


@pytest.mark.parametrize("line", ['objectives = ["mae", "few_mae"]', 'objectives = "mae, few_mae"'])
def test_a_study_file_names_several_objectives_as_a_list_or_a_string(tmp_path, line):
    from tune_study.settings import StudySettings, read_study_file

    (tmp_path / "s.toml").write_text(line + "\n")
    settings = StudySettings(**read_study_file(tmp_path / "s.toml"))
    assert settings.objective_names == ("mae", "few_mae") and settings.objective == "mae"
    assert settings.multi_objective


def test_a_multi_objective_search_tells_optuna_every_objective(tmp_path):
    import optuna

    from search_spaces import get_space
    from tune_study.search import make_search
    from tune_study.settings import StudySettings

    database = f"sqlite:///{tmp_path / 'o.db'}"
    settings = StudySettings(
        objectives="mae,subject_r2", name="mo", num_samples=4, optuna_storage=database
    ).resolved()
    search = make_search(settings, get_space("default"), 1).searcher.searcher
    assert search.metric == ["mae", "subject_r2"] and search.mode == ["min", "max"]
    study = optuna.load_study(study_name="mo", storage=database)
    assert study.metric_names == ["mae", "subject_r2"]
    assert [d.name for d in study.directions] == ["MINIMIZE", "MAXIMIZE"]


def test_a_new_study_records_the_meta_of_prepared_data(tmp_path, monkeypatch):
    from dataclasses import replace

    from centerir.contract import DATA_META_FILE
    from centerir.demo import make_demo_dataset
    from tune_study.launch import plan_studies
    from tune_study.settings import StudySettings
    from tune_study.study import start_files

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    meta = {"sfreq": 250.0, "ch_names": ["Fp1", "Fp2"], "window_seconds": 5.0}
    dataset = replace(make_demo_dataset(seed=0), meta=meta)
    settings = StudySettings(name="m", storage_path=str(tmp_path / "runs")).resolved()
    (planned,) = plan_studies(dataset, settings, resume=False)
    start_files(settings, dataset, planned.plan)
    saved = json.loads((settings.experiment_dir() / DATA_META_FILE).read_text())
    assert saved == meta
