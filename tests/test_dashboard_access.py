"""The dashboard's start message and token hygiene (tune_study.dashboard), without Ray."""

import os
import re
import shlex
import socket
import stat
import subprocess
import sys

import pytest

from tune_study import dashboard
from tune_study.cluster import token_hint
from tune_study.dashboard import (
    AUTH_MODE_ENV,
    TOKEN_ENV,
    TOKEN_PATH_ENV,
    dashboard_access,
    exposure_warning,
    is_loopback,
    keep_token_private,
    token_command,
)

URL = "http://127.0.0.1:8265"


@pytest.fixture
def token_env(monkeypatch, tmp_path):
    """A private HOME in token mode, no token variables."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv(AUTH_MODE_ENV, "token")
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.delenv(TOKEN_PATH_ENV, raising=False)
    return tmp_path


def login_command(message: str) -> str:
    return re.search(r"login: .*\n    (\S.*)", message).group(1)


def test_a_local_study_says_how_to_log_in_and_never_prints_the_token(token_env):
    token_file = token_env / ".ray" / "auth_token"
    token_file.parent.mkdir()
    token_file.write_text("s3cr3t-token")
    message = dashboard_access(URL, None, "127.0.0.1", "demo")
    assert message.splitlines()[0] == f"Ray dashboard: {URL}"
    assert f"it reads {token_file}" in message and "s3cr3t" not in message
    assert "ssh -N -L 8265:127.0.0.1:8265 " in message and "Jobs, named 'demo'" in message
    printed = subprocess.run(
        shlex.split(login_command(message)),
        env={**os.environ, "HOME": str(token_env)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert printed.stdout == "s3cr3t-token"


def test_the_token_command_is_the_ray_of_this_python():
    assert token_command().startswith(shlex.quote(str(sys.executable).rsplit("/", 1)[0]))


def test_a_token_from_the_environment_is_named_not_shown(token_env, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, "from-env")
    message = dashboard_access(URL, None, "127.0.0.1", "demo")
    assert f"where ${TOKEN_ENV} is set" in message and "from-env" not in message


def test_without_token_mode_the_message_says_anyone_can_run_code(token_env, monkeypatch):
    monkeypatch.setenv(AUTH_MODE_ENV, "disabled")
    message = dashboard_access(URL, None, "127.0.0.1", "demo")
    assert "without token authentication" in message and "get-auth-token" not in message
    assert "no login (RAY_AUTH_MODE=disabled)" in exposure_warning("0.0.0.0")


def test_a_dashboard_on_every_interface_names_this_machine(token_env):
    message = dashboard_access(URL, None, "0.0.0.0", "demo")
    assert f"http://{socket.gethostname()}:8265" in message
    assert "ssh" not in message.splitlines()[-2]
    warning = exposure_warning("0.0.0.0")
    assert "has the token can run code" in warning and "unencrypted" in warning
    assert "no authentication" not in warning


def test_an_ipv6_dashboard_address_is_bracketed(token_env):
    assert "http://[fd00::1]:8265" in dashboard_access(URL, None, "fd00::1", "demo")


def test_a_joined_cluster_points_at_its_head_node(token_env):
    message = dashboard_access(URL, "10.0.0.5:6379", "127.0.0.1", "demo")
    assert "the dashboard is the head node's" in message and "get-auth-token" in message


def test_a_failed_join_without_token_mode_suggests_it(monkeypatch):
    monkeypatch.delenv(AUTH_MODE_ENV, raising=False)
    assert f"set {AUTH_MODE_ENV}=token" in token_hint()
    monkeypatch.setenv(AUTH_MODE_ENV, "token")
    assert "the cluster's" in token_hint()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False), ("vm", False)],
)
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


def test_the_token_file_is_made_private_to_its_owner(token_env):
    token_file = token_env / ".ray" / "auth_token"
    token_file.parent.mkdir()
    token_file.write_text("t")
    token_file.chmod(0o644)
    keep_token_private()
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_a_token_in_the_environment_touches_no_file(token_env, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, "t")
    assert dashboard.token_file() is None
    keep_token_private()  # nothing to do, nothing raised
