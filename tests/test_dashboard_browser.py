"""The dashboards in a real headless Chromium, followed as a new user would.

A small study runs in the background (a private HOME and RAY_TMPDIR); the test reads the
launcher's start message, runs the token command it prints, logs in to the Ray dashboard
through its token dialog, and finds the study's job and its running trial by the trial's
name; then optuna-dashboard, started on the study's ``--optuna-storage``, lists the study
and its trial. Everything the test starts is stopped, even on failure.
"""

import contextlib
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.study_runs import private_env

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
NAME = "browser-demo"
# Trials that stay running for minutes: no early stopping, many epochs (the test stops the
# study once it has looked).
LONG_TRIALS = "[config]\npatience = 0\n"
ARGS = ["--num-samples", "1", "--max-concurrent", "1", "--folds", "2", "--epochs", "500"]
START_TIMEOUT_S = 150
PAGE_TIMEOUT_MS = 60_000


def chromium() -> str:
    """The system's Chromium, and Playwright to drive it; skipped (failed under CI) without."""
    browser = next(
        (shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None
    )
    missing = [
        what
        for what, absent in (
            ("Debian's chromium (make browser)", browser is None),
            ("playwright (pip install -e '.[dev]')", not has_module("playwright")),
            ("optuna-dashboard (pip install -e '.[dev]')", not has_module("optuna_dashboard")),
        )
        if absent
    ]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install {', '.join(missing)} for the dashboard browser test")
        pytest.skip(f"needs {', '.join(missing)}: missing on this machine")
    return browser


def has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_start_message(stderr: Path, process: subprocess.Popen) -> str:
    """The launcher's stderr once it has printed the dashboard's login command."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        text = stderr.read_text()
        if re.search(r"login: .*\n    \S.*\n", text):
            return text
        assert process.poll() is None, f"the launcher ended early:\n{text[-3000:]}"
        time.sleep(1)
    raise AssertionError(f"no dashboard login line in {START_TIMEOUT_S} s:\n{text[-3000:]}")


def running_trial_folder(experiment: Path) -> Path:
    """The first trial's folder (named like the trial), once Tune has made it."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        folders = sorted(p for p in experiment.glob("lr*") if p.is_dir())
        if folders:
            return folders[0]
        time.sleep(1)
    raise AssertionError(f"no trial folder in {experiment} after {START_TIMEOUT_S} s")


@contextlib.contextmanager
def background(command: list[str], env: dict, log: Path):
    """A process (and its children) in its own session, killed on exit."""
    with log.open("w") as out:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=out, stderr=out, start_new_session=True
        )
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the launcher and the Ray it started
        process.wait(timeout=60)


def log_in_to_ray(page, url: str, token: str) -> None:
    """Open the printed URL and answer the token dialog as a user would."""
    page.goto(url)
    page.get_by_text("Authentication Token Required").wait_for(timeout=PAGE_TIMEOUT_MS)
    page.get_by_placeholder("Enter your authentication token").fill(token)
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Authentication Token Required").wait_for(
        state="hidden", timeout=PAGE_TIMEOUT_MS
    )


def see_in_log(page, text: str) -> None:
    """Wait until the actor page's log (stderr, the tab shown first) shows ``text``,
    pressing its Refresh button meanwhile (the log does not reload by itself)."""
    deadline = time.monotonic() + PAGE_TIMEOUT_MS / 1000
    line = page.get_by_text(text).first
    while not line.is_visible():
        assert time.monotonic() < deadline, f"the actor's log never showed {text!r}"
        page.get_by_role("button", name="Refresh", exact=True).click()
        page.wait_for_timeout(2000)


def test_printed_login_reaches_the_running_trial_and_optuna_lists_it(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    browser_path = chromium()
    env = private_env(tmp_path)
    study_file = tmp_path / "study.toml"
    study_file.write_text(LONG_TRIALS)
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    experiment = tmp_path / "runs" / NAME
    launcher = [sys.executable, "-m", "tune_study.launch", "--config", str(study_file), *ARGS]
    launcher += ["--holdout", "0", "--storage-path", str(experiment.parent), "--name", NAME]
    launcher += ["--optuna-storage", storage]
    stderr = tmp_path / "launcher.log"
    try:
        with (
            background(launcher, env, stderr) as study,
            sync_playwright() as playwright,
        ):
            message = wait_for_start_message(stderr, study)
            url = re.search(r"^Ray dashboard: (http://\S+)$", message, re.M).group(1)
            command = re.search(r"login: .*\n    (\S.*)\n", message).group(1)
            assert "get-auth-token" in command
            token = subprocess.run(
                command, shell=True, env=env, capture_output=True, text=True, check=True
            ).stdout
            assert token and token not in message  # the launcher never prints the token
            trial = running_trial_folder(experiment).name
            browser = playwright.chromium.launch(executable_path=browser_path)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(PAGE_TIMEOUT_MS)

            log_in_to_ray(page, url, token)
            page.get_by_role("link", name="Jobs", exact=True).first.click()
            job_row = page.get_by_role("row").filter(has_text=NAME)
            expect(job_row).to_contain_text("RUNNING", timeout=PAGE_TIMEOUT_MS)
            page.get_by_role("link", name="Actors", exact=True).first.click()
            worker = page.get_by_role("row").filter(has_text="run_trial").filter(has_text="ALIVE")
            expect(worker).to_have_count(
                1, timeout=PAGE_TIMEOUT_MS
            )  # --max-concurrent 1: one trial worker
            worker.get_by_role("link").first.click()  # the actor's ID: its page, with its log
            see_in_log(page, f"trial {trial} (experiment {NAME}")

            port = free_port()
            dashboard = [str(Path(sys.executable).with_name("optuna-dashboard")), storage]
            dashboard += ["--host", "127.0.0.1", "--port", str(port)]
            with background(dashboard, env, tmp_path / "optuna-dashboard.log"):
                optuna_page = f"http://127.0.0.1:{port}/dashboard"
                deadline = time.monotonic() + 60
                while True:  # optuna-dashboard takes seconds to import and listen
                    with (
                        contextlib.suppress(OSError),
                        socket.create_connection(("127.0.0.1", port), timeout=1),
                    ):
                        break
                    assert time.monotonic() < deadline, "optuna-dashboard did not listen"
                    time.sleep(0.5)
                page.goto(optuna_page)
                page.get_by_text(NAME, exact=False).first.click()
                page.wait_for_url(re.compile(r".*/studies/\d+$"))
                page.goto(f"{page.url}/trials")  # the sidebar's "Trials (List)"
                expect(page.get_by_text("Trial 0").first).to_be_visible(timeout=PAGE_TIMEOUT_MS)
                expect(page.get_by_text("Running").first).to_be_visible(timeout=PAGE_TIMEOUT_MS)
            browser.close()
    finally:
        shutil.rmtree(env["RAY_TMPDIR"], ignore_errors=True)
