"""Which experiment folders ``--resume`` may hand to Ray.

``Tuner.restore`` unpickles ``tuner.pkl``, the searcher's state and the trials' state from
the experiment folder, so whoever wrote those files can run code as the user who resumes.
The rule, checked before Ray starts:

1. **Made here, by you.** A new study first creates an empty marker, :data:`MARKER_FILE`,
   and then writes :data:`STAMP_FILE`: an HMAC (SHA-256) of the folder's absolute path,
   its inode, and the marker's inode and inode-change time (``st_ctime_ns``, set by the
   kernel and by no copy, archive or ``touch``), under a key kept outside every experiment
   in ``$XDG_CONFIG_HOME/centerir-tune/resume.key`` (default ``~/.config``; created once,
   readable by the user only). A folder copied, moved, downloaded or unpacked — even at
   the very path and inode of the original — has a new marker, and one made by another
   user carries their key's HMAC: neither verifies, so neither is restored, even when the
   copy belongs to the user. (A ``chmod`` or ``touch`` of the marker voids the stamp too.)
2. **Writable by you only.** The folder, everything in it, and its parents up to the
   storage folder are owned by the user (parents may be root's) and writable by no group
   or other user, as ssh requires of ``authorized_keys``. So nobody else can have planted
   a pickle since the stamp was written. The launcher clears the group and other write bits
   from its umask, so the files Ray writes pass.

The stamp is written once, before Ray saves anything, so a study killed at any moment stays
resumable. Only local folders (including network file systems mounted here) can be
checked; a storage URI is refused by the launcher.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from centerir.contract import UserError, read_json_file, write_json_file

STAMP_FILE = ".centerir_origin.json"
MARKER_FILE = ".centerir_origin"  # empty, never touched again: its ctime is part of the stamp
KEY_BYTES = 32
NO_GROUP_OR_OTHER_WRITE = 0o022


class UntrustedFolder(UserError):
    """An experiment folder whose Ray files must not be unpickled."""


def key_file() -> Path:
    """Where the user's resume key lives (outside every experiment folder)."""
    config = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config) / "centerir-tune" / "resume.key"


def user_key(create: bool) -> bytes | None:
    """The user's secret key (``KEY_BYTES`` bytes), created with mode 0600 when ``create``;
    None when there is none yet. A key file others can read or that another user owns is
    refused: with it they could stamp a folder."""
    path = key_file()
    try:
        if create and not os.path.lexists(path):
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(secrets.token_bytes(KEY_BYTES))
        if not os.path.lexists(path):
            return None
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
            raise UntrustedFolder(
                f"{path}: expected the resume key as a file of yours that only you can read "
                f"(chmod 600), got mode {stat.filemode(info.st_mode)} owned by uid "
                f"{info.st_uid}."
            )
        key = path.read_bytes()
    except OSError as err:
        raise UntrustedFolder(f"{path}: cannot make or read the resume key ({err}).") from None
    if len(key) != KEY_BYTES:
        raise UntrustedFolder(
            f"{path}: expected a {KEY_BYTES}-byte resume key, got {len(key)} bytes; delete "
            "it (studies started with it can then no longer be resumed)."
        )
    return key


def origin_mac(key: bytes, directory: Path) -> str:
    """HMAC-SHA256 (hex) under ``key`` of the folder's absolute path and inode and of its
    marker's inode and inode-change time."""
    folder, marker = directory.stat(), (directory / MARKER_FILE).lstat()
    message = (
        f"{directory.resolve()}\0{folder.st_ino}\0{marker.st_ino}\0{marker.st_ctime_ns}"
    ).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def stamp_experiment(directory: Path) -> None:
    """Mark ``directory`` (existing, new) as started here by this user: a study's first
    files."""
    key = user_key(create=True)
    os.close(os.open(directory / MARKER_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    write_json_file(
        directory / STAMP_FILE,
        {"path": str(directory.resolve()), "mac": origin_mac(key, directory)},
    )


def restrict_umask() -> None:
    """Files this process (and a local Ray it starts) creates are writable by the user only."""
    os.umask(os.umask(0) | NO_GROUP_OR_OTHER_WRITE)


def check_resumable(directory: Path, storage: Path) -> None:
    """Refuse, with one line, to restore ``directory`` (inside ``storage``) unless it was
    stamped here by this user and nobody else can write to it or to the parents up to
    ``storage``."""
    refuse = f"refusing to resume {directory}: resuming unpickles Ray's files from it, and"
    stamp = directory / STAMP_FILE
    key = user_key(create=False)
    stamped = stamp.is_file() and (directory / MARKER_FILE).is_file()
    saved = read_json_file(stamp, "origin stamp") if stamped else None
    if key is None or not isinstance(saved, dict) or not isinstance(saved.get("mac"), str):
        raise UntrustedFolder(
            f"{refuse} it has no valid origin stamp of yours ({STAMP_FILE}), so it was not "
            "started here by your launcher (copied, downloaded or older); start a new study."
        )
    if not hmac.compare_digest(saved["mac"], origin_mac(key, directory)):
        raise UntrustedFolder(
            f"{refuse} its origin stamp does not match: it was started at "
            f"{saved.get('path')!r} or by another user, and was copied or moved here; resume "
            "it where it was started, or start a new study."
        )
    for path in (directory, *writable_parents(directory, storage)):
        check_not_writable_by_others(path, refuse, root_ok=path != directory)
    for root, folders, files in os.walk(directory):
        for name in folders + files:
            check_not_writable_by_others(Path(root, name), refuse, root_ok=False)


def writable_parents(directory: Path, storage: Path) -> list[Path]:
    """The parents of ``directory`` up to and including ``storage``."""
    parents = []
    for parent in directory.parents:
        parents.append(parent)
        if parent == storage:
            break
    return parents


def check_not_writable_by_others(path: Path, refuse: str, root_ok: bool) -> None:
    """Refuse a ``path`` owned by another user (root allowed when ``root_ok``), writable by a
    group or other users, or a symbolic link (it may point anywhere)."""
    info = path.lstat()
    owners = {os.geteuid(), 0} if root_ok else {os.geteuid()}
    if stat.S_ISLNK(info.st_mode):
        raise UntrustedFolder(f"{refuse} {path} is a symbolic link.")
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
        raise UntrustedFolder(f"{refuse} {path} is a FIFO, socket or device, not a file.")
    if info.st_uid not in owners:
        raise UntrustedFolder(f"{refuse} {path} belongs to uid {info.st_uid}, not to you.")
    if info.st_mode & NO_GROUP_OR_OTHER_WRITE:
        raise UntrustedFolder(
            f"{refuse} others can write to {path} (mode {stat.filemode(info.st_mode)}); if "
            f"it is yours as it is, run: chmod go-w {path}"
        )
