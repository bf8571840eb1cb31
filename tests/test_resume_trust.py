"""Which experiment folders --resume may hand to Ray (tune_study.resume_trust), and the
checks of Ray's saved state and of fold checkpoints, without a running Ray."""

import json
import os
import shutil
from pathlib import Path

import pytest
from ray import tune

from centerir.contract import UserError
from tune_study import trainable
from tune_study.ray_compat import check_saved_search_state
from tune_study.resume_trust import (
    STAMP_FILE,
    check_resumable,
    key_file,
    stamp_experiment,
    user_key,
)


@pytest.fixture
def storage(tmp_path, monkeypatch):
    """A storage folder (mode 0755) with one stamped experiment holding a Ray-like file."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    root = tmp_path / "runs"
    experiment = root / "study"
    (experiment / "trial_1").mkdir(parents=True)
    for folder in (tmp_path, root, experiment, experiment / "trial_1"):
        folder.chmod(0o755)
    stamp_experiment(experiment)
    (experiment / "tuner.pkl").write_bytes(b"not unpickled by these tests")
    (experiment / "tuner.pkl").chmod(0o644)
    return root


def refused(experiment: Path, root: Path, match: str) -> None:
    with pytest.raises(UserError, match=match) as caught:
        check_resumable(experiment, root)
    assert "\n" not in str(caught.value)


def test_the_folder_started_here_resumes_and_its_key_is_private(storage):
    check_resumable(storage / "study", storage)
    assert key_file().stat().st_mode & 0o777 == 0o600
    assert key_file().parent.stat().st_mode & 0o777 == 0o700


def test_a_copied_folder_is_refused_though_it_belongs_to_the_user(storage):
    shutil.copytree(storage / "study", storage / "copy")
    refused(storage / "copy", storage, "copied or moved here")


def test_a_tampered_copy_unpacked_at_the_original_path_and_inode_is_refused(storage, tmp_path):
    """An archive of the folder (stamp included) unpacked where the original was: the
    folder may even get the same inode back, but its marker is a new file."""
    original = storage / "study"
    shutil.copytree(original, tmp_path / "tampered", symlinks=True)
    shutil.rmtree(original / "trial_1")
    for entry in original.iterdir():  # the folder itself (and its inode) stays
        entry.unlink()
    for entry in (tmp_path / "tampered").iterdir():
        shutil.move(entry, original / entry.name)
    refused(original, storage, "copied or moved here")


def test_a_fifo_inside_is_refused_without_blocking(storage):
    os.mkfifo(storage / "study" / "experiment_state-2000-01-01_00-00-00.json", 0o600)
    refused(storage / "study", storage, "is a FIFO, socket or device")


def test_a_key_that_cannot_be_made_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "centerir-tune").write_text("a file where the key's folder goes")
    with pytest.raises(UserError, match="cannot make or read the resume key"):
        user_key(create=True)


def test_a_moved_folder_is_refused_until_it_is_back_in_place(storage):
    (storage / "study").rename(storage / "moved")
    refused(storage / "moved", storage, "it was started at '.*study'")
    (storage / "moved").rename(storage / "study")
    check_resumable(storage / "study", storage)


def test_a_folder_stamped_with_another_users_key_is_refused(storage, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "colleague"))
    user_key(create=True)
    refused(storage / "study", storage, "by another user")


@pytest.mark.parametrize("stamp", [None, "", "[]", '{"mac": 5}', '{"path": "x"}'])
def test_a_folder_without_a_valid_stamp_is_refused(storage, stamp):
    target = storage / "study" / STAMP_FILE
    target.unlink()
    if stamp is not None:
        target.write_text(stamp)
    refused(storage / "study", storage, "no valid origin stamp of yours|expected the origin")


@pytest.mark.parametrize("where", ["study/tuner.pkl", "study/trial_1", "study", ""])
def test_anything_others_can_write_is_refused_with_the_fix(storage, where):
    (storage / where).chmod(0o777 if (storage / where).is_dir() else 0o666)
    refused(storage / "study", storage, r"others can write to .*; .*chmod go-w")


def test_a_symbolic_link_inside_is_refused(storage, tmp_path):
    (tmp_path / "elsewhere.pkl").write_bytes(b"x")
    (storage / "study" / "searcher-state.pkl").symlink_to(tmp_path / "elsewhere.pkl")
    refused(storage / "study", storage, "is a symbolic link")


def test_a_key_file_others_can_read_is_refused(storage):
    key_file().chmod(0o644)
    refused(storage / "study", storage, "only you can read")


FULL_STATE = '{"trial_data": %s, "runner_data": {}, "stats": {}}'


@pytest.mark.parametrize(
    "text",
    [
        "{",
        "[]",
        FULL_STATE % "5",
        FULL_STATE % '[["{}"]]',
        FULL_STATE % '[["{}", "[]"]]',
        '{"x": 1}',
        '{"trial_data": [["{}", "{}"]]}',
        "[" * 100_000,
    ],
)
def test_a_damaged_saved_search_state_refuses_resume(tmp_path, text):
    (tmp_path / "experiment_state-2026-12-02_10-00-00.json").write_text(text)
    with pytest.raises(UserError, match="damaged file .* start a new study"):
        check_saved_search_state(tmp_path)


def test_an_intact_saved_search_state_passes(tmp_path):
    trials = [[json.dumps({"a": 1}), json.dumps({"last_result": {}})]]
    state = {"trial_data": trials, "runner_data": {}, "stats": {}}
    (tmp_path / "experiment_state-2026-12-02_10-00-00.json").write_text(json.dumps(state))
    check_saved_search_state(tmp_path)


def write_checkpoint(folder: Path, folds: int | None, text: str | None = None) -> None:
    folder.mkdir(parents=True)
    fold = {"fold": 0, "metrics": {"mae": 1.0}}
    saved = {"config": {}, "folds": [dict(fold, fold=i) for i in range(folds or 0)]}
    (folder / trainable.CHECKPOINT_FILE).write_text(text if text is not None else json.dumps(saved))


@pytest.mark.parametrize(
    "damage, expected, note",
    [
        (None, 3, ""),
        (
            '{"folds": [{"fold": 0',
            2,
            "checkpoint_000002 was damaged: resumed from checkpoint_000001",
        ),
        ("", 2, "resumed from checkpoint_000001 (2 finished folds)"),
        ('{"folds": [{"unknown": 1}]}', 2, "resumed from checkpoint_000001"),
    ],
)
def test_a_damaged_fold_checkpoint_falls_back_to_the_newest_intact_one(
    tmp_path, monkeypatch, damage, expected, note
):
    monkeypatch.setattr(trainable, "FoldResult", FakeFold)
    write_checkpoint(tmp_path / "checkpoint_000000", 1)
    write_checkpoint(tmp_path / "checkpoint_000001", 2)
    write_checkpoint(tmp_path / "checkpoint_000002", 3, damage)
    latest = tune.Checkpoint.from_directory(str(tmp_path / "checkpoint_000002"))
    monkeypatch.setattr(trainable.tune, "get_checkpoint", lambda: latest)
    folds, message = trainable.load_finished_folds()
    assert len(folds) == expected and note in message and bool(note) == bool(message)


def test_with_every_checkpoint_damaged_the_folds_rerun_with_a_note(tmp_path, monkeypatch):
    write_checkpoint(tmp_path / "checkpoint_000000", 1, "{")
    latest = tune.Checkpoint.from_directory(str(tmp_path / "checkpoint_000000"))
    monkeypatch.setattr(trainable.tune, "get_checkpoint", lambda: latest)
    assert trainable.load_finished_folds() == (
        [],
        "checkpoint checkpoint_000000 was damaged and no intact one was left: folds rerun",
    )


class FakeFold:
    """Stands for FoldResult: these tests are about which file is read, not fold contents."""

    @classmethod
    def from_dict(cls, values):
        if set(values) != {"fold", "metrics"}:
            raise TypeError(f"unexpected keys {sorted(values)}")
        return values
