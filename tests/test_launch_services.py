"""Services and resources the launcher needs, refused in one line (exit 2) before any
training and before anything is written: a non-Ray listener as --address, a taken dashboard
port, an Optuna storage that cannot be opened, a trial share no node can give."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.study_runs import private_env

ROOT = Path(__file__).resolve().parents[1]


def launch(args: list[str], tmp_path: Path, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tune_study.launch",
            *args,
            "--storage-path",
            str(tmp_path / "runs"),
        ],
        env=private_env(tmp_path),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_refused(done: subprocess.CompletedProcess, tmp_path: Path, message: str) -> None:
    assert done.returncode == 2, done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*.json"))


@pytest.fixture
def silent_listener():
    """A TCP port that accepts connections and never answers (not Ray)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def test_an_address_that_is_not_ray_is_refused_within_seconds(tmp_path, silent_listener):
    started = time.monotonic()
    done = launch(["--address", f"127.0.0.1:{silent_listener}"], tmp_path, timeout=60)
    assert_refused(done, tmp_path, "answers, but not as Ray")
    assert time.monotonic() - started < 30


def test_a_taken_dashboard_port_is_refused(tmp_path, silent_listener):
    done = launch(["--dashboard-port", str(silent_listener)], tmp_path, timeout=60)
    assert_refused(done, tmp_path, f"dashboard_port {silent_listener} on 127.0.0.1 is taken")


@pytest.mark.parametrize(
    "url, message",
    [
        ("foo://bar", "NoSuchModuleError"),
        ("sqlite:///{tmp}/missing/study.db", "unable to open database file"),
    ],
)
def test_an_optuna_storage_that_cannot_be_opened_is_refused_before_ray(tmp_path, url, message):
    done = launch(["--optuna-storage", url.format(tmp=tmp_path)], tmp_path, timeout=60)
    assert_refused(done, tmp_path, message)
    assert "Ray dashboard" not in done.stderr


def test_a_fifo_as_data_does_not_block(tmp_path):
    os.mkfifo(tmp_path / "x.npy")
    done = launch(["--x", str(tmp_path / "x.npy"), "--y", str(tmp_path / "x.npy")], tmp_path, 20)
    assert_refused(done, tmp_path, "x.npy")


@pytest.mark.slow
@pytest.mark.parametrize(
    "flag, value, message",
    [
        ("--cpus-per-trial", "1000", "got 1000 while the largest node has 2 CPUs"),
        ("--gpus-per-trial", "1", "got 1 while the largest node has 0 GPUs"),
    ],
)
def test_a_trial_share_no_node_can_give_is_refused_instead_of_waiting(
    tmp_path, flag, value, message
):
    done = launch([flag, value], tmp_path, timeout=120)
    assert_refused(done, tmp_path, message)
