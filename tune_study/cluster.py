"""Starting or joining Ray, and checking that the storage path suits the cluster."""

from __future__ import annotations

import os
import socket
import sys
import uuid
from pathlib import Path

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from centerir.config import ConfigError
from tune_study.dashboard import (
    AUTH_MODE_ENV,
    TOKEN_ENV,
    TOKEN_PATH_ENV,
    exposure_warning,
    is_loopback,
    keep_token_private,
    token_mode_on,
)

CONNECT_TIMEOUT_S = 5.0
DEFAULT_DASHBOARD_PORT = 8265
HTTP2_SETTINGS = 0x4  # the SETTINGS frame type


def free_port(host: str, preferred: int) -> int:
    """``preferred`` when nothing listens there, else a port the system picks as free."""
    with socket.socket() as probe:
        try:
            probe.bind((host, preferred))
            return preferred
        except OSError:
            probe.bind((host, 0))
            return probe.getsockname()[1]


def start_ray(
    address: str | None, dashboard_host: str, dashboard_port: int | None, job_name: str
) -> str:
    """Start a local Ray (``address`` None) or join a cluster; returns the dashboard URL.

    A local Ray keeps every listener, the dashboard included, on 127.0.0.1 unless
    ``dashboard_host`` says otherwise (whoever logs in to the dashboard can run code), and
    asks for a token (its file is made private to the user). The driver's job carries
    ``job_name`` (the Jobs table's Name column).
    """
    job_config = ray.job_config.JobConfig(metadata={"job_name": job_name})
    if address is None:
        taken = (
            dashboard_port is not None
            and free_port(dashboard_host, dashboard_port) != dashboard_port
        )
        if taken:
            raise ConfigError(
                f"dashboard_port {dashboard_port} on {dashboard_host} is taken by another "
                "process; choose another --dashboard-port, or omit it to take a free one."
            )
        if not is_loopback(dashboard_host):
            print(exposure_warning(dashboard_host), file=sys.stderr)
        context = ray.init(
            include_dashboard=True,
            dashboard_host=dashboard_host,
            # another study may hold the default port: then take a free one (the URL is
            # printed); a port the user asked for is used or fails
            dashboard_port=dashboard_port or free_port(dashboard_host, DEFAULT_DASHBOARD_PORT),
            log_to_driver=False,
            configure_logging=False,
            job_config=job_config,
        )
        keep_token_private()
    else:
        check_reachable(address)
        try:
            context = ray.init(address=address, log_to_driver=False, job_config=job_config)
        except (ConnectionError, RuntimeError, ValueError) as err:
            first = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise ConfigError(
                f"cannot connect to Ray at address={address!r} ({first}); start the cluster "
                f"with 'ray start --head' or omit --address for a local study.{token_hint()}"
            ) from None
    url = context.dashboard_url or ""
    return url if not url or url.startswith("http") else f"http://{url}"


def token_hint() -> str:
    """What to try when joining failed without token mode: a cluster whose head found a
    token refuses drivers that bring none (Ray 2.60 only logs "InvalidAuthToken")."""
    if token_mode_on():
        return " Check that the token here is the cluster's."
    return (
        f" If the cluster uses token authentication, set {AUTH_MODE_ENV}=token and give its "
        f"token in ~/.ray/auth_token, ${TOKEN_ENV} or a file named by ${TOKEN_PATH_ENV}."
    )


def check_reachable(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Fail within seconds when nothing listens at ``host:port`` (Ray itself retries for
    minutes). ``"auto"`` is left to Ray, which fails at once when no cluster runs here."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(
            f"address must be 'auto', 'host:port' or 'ray://host:port', got {address!r}."
        )
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s) as peer:
            speaks_grpc = answers_http2(peer)
    except OSError as err:
        raise ConfigError(
            f"cannot reach a Ray cluster at address={address!r} ({err.strerror or err}); start "
            "it with 'ray start --head' or omit --address for a local study."
        ) from None
    if not speaks_grpc:
        raise ConfigError(
            f"address={address!r} answers, but not as Ray (no gRPC server there); give the "
            "head node's GCS port (6379 by default) or 'ray://host:10001' for Ray Client."
        )


def answers_http2(peer: socket.socket) -> bool:
    """Whether the server on ``peer`` speaks HTTP/2, as Ray's GCS and Ray Client (gRPC) do:
    sent the client connection preface and an empty SETTINGS frame, an HTTP/2 server's
    first frame is its own SETTINGS (RFC 9113, section 3.4). Anything else, or silence
    until the socket's timeout, is not Ray, which would otherwise retry for minutes."""
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    empty_settings = bytes([0, 0, 0, HTTP2_SETTINGS, 0, 0, 0, 0, 0])
    try:
        peer.sendall(preface + empty_settings)
        header = b""
        while len(header) < 9:
            chunk = peer.recv(9 - len(header))
            if not chunk:
                return False
            header += chunk
    except OSError:  # includes the timeout
        return False
    return header[3] == HTTP2_SETTINGS


def check_trial_fits(cpus_per_trial: float, gpus_per_trial: float) -> None:
    """Refuse a trial share no single node of the connected Ray can give (Tune would wait
    for it forever)."""
    nodes = [node.get("Resources", {}) for node in alive_nodes()]
    most_cpus = max((node.get("CPU", 0.0) for node in nodes), default=0.0)
    most_gpus = max((node.get("GPU", 0.0) for node in nodes), default=0.0)
    if cpus_per_trial > most_cpus:
        raise ConfigError(
            f"cpus_per_trial must fit on one node, got {cpus_per_trial:g} while the largest "
            f"node has {most_cpus:g} CPUs; lower --cpus-per-trial."
        )
    if gpus_per_trial > most_gpus:
        raise ConfigError(
            f"gpus_per_trial must fit on one node, got {gpus_per_trial:g} while the largest "
            f"node has {most_gpus:g} GPUs; use --gpus-per-trial 0 (CPU) or a GPU cluster."
        )


def cluster_gpus() -> float:
    """GPUs the connected cluster declares."""
    return float(ray.cluster_resources().get("GPU", 0))


def alive_nodes() -> list[dict]:
    return [node for node in ray.nodes() if node.get("Alive")]


def _marker_visible(path: str) -> bool:
    return os.path.exists(path)


def check_storage_shared(storage_path: Path) -> None:
    """On a multi-node cluster, prove every node sees the storage path, or fail clearly.

    Writes a marker file there and asks a task pinned to each node whether it exists.
    """
    nodes = alive_nodes()
    if len(nodes) < 2:
        return
    storage_path.mkdir(parents=True, exist_ok=True)
    marker = storage_path / f".centerir-storage-check-{uuid.uuid4().hex}"
    marker.write_text("shared storage check\n")
    try:
        probe = ray.remote(num_cpus=0)(_marker_visible)
        answers = ray.get(
            [
                probe.options(
                    scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)
                ).remote(str(marker))
                for node in nodes
            ]
        )
    finally:
        marker.unlink(missing_ok=True)
    blind = [
        node["NodeManagerAddress"] for node, seen in zip(nodes, answers, strict=True) if not seen
    ]
    if blind:
        raise ConfigError(
            f"storage_path {storage_path} is not visible from node(s) {', '.join(blind)}: a "
            "multi-node cluster needs storage every node shares (an NFS mount)."
        )


def check_storage_writable(storage_path: Path) -> None:
    """Fail before any training when results could not be written."""
    probe_dir = storage_path
    while not probe_dir.exists():
        probe_dir = probe_dir.parent
    if not probe_dir.is_dir() or not os.access(probe_dir, os.W_OK | os.X_OK):
        raise ConfigError(
            f"storage_path {storage_path} is not writable ({probe_dir} does not accept new "
            "files); choose another --storage-path."
        )
    try:
        stats = os.statvfs(probe_dir)
    except OSError:
        return
    free = stats.f_bavail * stats.f_frsize
    if free < 50 * 2**20:
        raise ConfigError(
            f"storage_path {storage_path} has only {free / 2**20:.1f} MiB free; a study needs "
            "at least 50 MiB for results and checkpoints: free some space or choose another "
            "--storage-path."
        )
