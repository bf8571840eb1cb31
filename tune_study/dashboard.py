"""How a user gets into the Ray dashboard of the study's Ray: the URL, the token login, a tunnel.

Ray 2.60 protects its dashboard with a token when token authentication is on (a local
``ray.init()`` turns it on; ``ray start --head`` does when ``~/.ray/auth_token`` exists): the
page asks for the token, and ``ray get-auth-token`` prints it. The launcher tells the user
that command, never the token itself. docs/dashboard.md explains the rest.
"""

from __future__ import annotations

import getpass
import ipaddress
import os
import shlex
import socket
import stat
import sys
from pathlib import Path
from urllib.parse import urlsplit

# Ray's documented switch (docs.ray.io, ray-security/token-auth): "token" or "disabled". A
# local ray.init() with it unset sets it to "token" in this process, and ray.init(address=
# "auto") does when a token is found, so after ray.init it says whether Ray asks for a token.
AUTH_MODE_ENV = "RAY_AUTH_MODE"
# Where Ray reads the token, in this order (the same documentation).
TOKEN_ENV = "RAY_AUTH_TOKEN"
TOKEN_PATH_ENV = "RAY_AUTH_TOKEN_PATH"
GUIDE = "docs/dashboard.md"


def token_mode_on() -> bool:
    """Whether the Ray this process started or joined asks for a token (call after
    ``ray.init``)."""
    return os.environ.get(AUTH_MODE_ENV, "").lower() == "token"


def token_file() -> Path | None:
    """The file Ray reads the token from, or None when ``RAY_AUTH_TOKEN`` holds it."""
    if os.environ.get(TOKEN_ENV):
        return None
    if os.environ.get(TOKEN_PATH_ENV):
        return Path(os.environ[TOKEN_PATH_ENV]).expanduser()
    return Path.home() / ".ray" / "auth_token"


def token_command() -> str:
    """The shell command that prints this environment's Ray token: the ``ray`` script of the
    Python running the launcher (its Ray, whatever ``ray`` the user's PATH finds)."""
    script = Path(sys.executable).with_name("ray")
    if script.is_file() and os.access(script, os.X_OK):
        return f"{shlex.quote(str(script))} get-auth-token"
    return f"{shlex.quote(sys.executable)} -m ray.scripts.scripts get-auth-token"


def keep_token_private() -> None:
    """Make the token file readable by its owner alone: Ray writes it with the umask's
    permissions (often 0644), and anyone who reads it can run code through the dashboard."""
    path = token_file()
    if path is None or not path.is_file():
        return
    info = path.stat()
    if info.st_uid == os.getuid() and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        path.chmod(stat.S_IMODE(info.st_mode) & ~(stat.S_IRWXG | stat.S_IRWXO))


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an IP address or name) is this machine's loopback interface."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(dashboard_host: str) -> str:
    """The warning for a dashboard listening beyond loopback."""
    if token_mode_on() or AUTH_MODE_ENV not in os.environ:
        # unset: the local ray.init about to run turns token mode on
        guard = (
            "anyone who can reach it and has the token can run code as you, and the token "
            "crosses the network unencrypted (plain HTTP)"
        )
    else:
        guard = f"it has no login ({AUTH_MODE_ENV}={os.environ[AUTH_MODE_ENV]}) and can run code"
    return (
        f"warning: the Ray dashboard will listen on {dashboard_host}: {guard}; expose it only "
        f"to trusted networks, or keep it on 127.0.0.1 and use an SSH tunnel ({GUIDE})"
    )


def login_line() -> str:
    """How to log in to the dashboard of the Ray this process started or joined: the command
    that prints the token on a line of its own, to copy as it is."""
    if not token_mode_on():
        return (
            "  login: none asked: this Ray runs without token authentication, so whoever "
            "reaches its ports can run code as you"
        )
    if os.environ.get(TOKEN_ENV):
        source = f"where ${TOKEN_ENV} is set, as here"
    else:
        source = f"as this user; it reads {token_file()}"
    return (
        f"  login: the page asks for a token: run this ({source}) and paste what it prints\n"
        f"    {token_command()}"
    )


def tunnel_line(url: str, address: str | None, dashboard_host: str) -> str:
    """How to open the dashboard from another computer."""
    port = urlsplit(url).port
    here = f"{getpass.getuser()}@{socket.gethostname()}"
    if address is not None:
        return (
            "  from another computer: the dashboard is the head node's; tunnel to it with "
            f"ssh -N -L {port}:127.0.0.1:{port} <you>@<head node>, then open "
            f"http://127.0.0.1:{port}"
        )
    if not is_loopback(dashboard_host):
        # 0.0.0.0 or :: listens on every interface: the machine's name reaches one
        host = socket.gethostname() if _is_unspecified(dashboard_host) else dashboard_host
        return f"  from another computer: http://{_bracketed(host)}:{port}"
    return (
        f"  from another computer: ssh -N -L {port}:127.0.0.1:{port} {here}, then open "
        f"http://127.0.0.1:{port} there (the same token)"
    )


def _is_unspecified(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def _bracketed(host: str) -> str:
    """``host`` as it goes into a URL (an IPv6 address in brackets)."""
    return f"[{host}]" if ":" in host else host


def dashboard_access(url: str, address: str | None, dashboard_host: str, job_name: str) -> str:
    """The launcher's start message for the dashboard: the URL, how to log in (the command
    that prints the token, never the token), how to reach it from another computer, and
    where the study is in it.

    Parameters
    ----------
    url : str
        The dashboard's URL as Ray reports it (``http://host:port``).
    address : str or None
        ``--address`` of a joined cluster; None for a local Ray.
    dashboard_host : str
        ``--dashboard-host`` of a local Ray (ignored for a joined cluster).
    job_name : str
        The study's name, shown in the Jobs table's Name column.
    """
    return "\n".join(
        (
            f"Ray dashboard: {url}",
            login_line(),
            tunnel_line(url, address, dashboard_host),
            f"  the study: Jobs, named {job_name!r}; its trials: Actors > the ID of a run_trial "
            f"row > Logs, where each trial starts with its name and config ({GUIDE})",
        )
    )
