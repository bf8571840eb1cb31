"""What the three command lines share: one-line usage errors, and user errors as one line
with exit code 2 (anything else is a bug: traceback, exit code 1). Imports no torch."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from centerir.contract import UserError

USER_ERROR_EXIT = 2
INTERRUPTED_EXIT = 130


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line (exit code 2)."""

    def error(self, message: str):
        self.exit(USER_ERROR_EXIT, f"{self.prog}: error: {message} (see --help)\n")


def run_command(command: Callable[[], int], interrupted: str = "interrupted") -> int:
    """Run ``command``; a ``UserError`` becomes ``error: <one line>`` on stderr and exit 2,
    Ctrl-C prints ``interrupted`` and exits 130. Every other exception propagates."""
    try:
        return command()
    except UserError as err:
        print(f"error: {' '.join(str(err).split())}", file=sys.stderr)
        return USER_ERROR_EXIT
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return INTERRUPTED_EXIT


def check_output_path(path: Path, what: str, folder: bool = False) -> None:
    """Refuse, before any work, an output ``path`` that cannot be written: a folder where a
    file goes (or the reverse), or a nearest existing parent that is no writable folder."""
    if folder and path.exists() and not path.is_dir():
        raise UserError(f"{path}: expected a folder for {what}, got a file.")
    if not folder and path.is_dir():
        raise UserError(f"{path}: expected a file path for {what}, got a folder.")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(
            f"{path}: expected a writable place for {what}, got {parent}, which is "
            f"{'not writable' if parent.is_dir() else 'a file, not a folder'}."
        )
