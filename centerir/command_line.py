"""What the three command lines share: one-line usage errors, and user errors as one line
with exit code 2 (anything else is a bug: traceback, exit code 1). Imports no torch."""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

from centerir.contract import UserError

USER_ERROR_EXIT = 2
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:/")  # s3://..., file:/..., as pathlib leaves them
DIVERGED_EXIT = 3  # training diverged: a result (reported, not a traceback), not a user error
INTERRUPTED_EXIT = 130


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line (exit code 2)."""

    def error(self, message: str):
        self.exit(USER_ERROR_EXIT, f"{self.prog}: error: {message} (see --help)\n")


def whole_number(text: str) -> int:
    """argparse type: an integer written in ASCII digits (``int`` alone also takes
    full-width digits, underscores and spaces)."""
    digits = text[1:] if text[:1] in "+-" else text
    if not (digits.isascii() and digits.isdigit()):
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    return int(text)


def finite_number(text: str) -> float:
    """argparse type: a finite decimal number in ASCII (no nan, inf or full-width digits)."""
    try:
        value = float(text) if text.isascii() else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or "_" in text:
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def run_command(command: Callable[[], int], interrupted: str = "interrupted") -> int:
    """Run ``command``; a ``UserError`` becomes ``error: <one line>`` on stderr and exit 2,
    Ctrl-C prints ``interrupted`` and exits 130. Every other exception propagates."""
    try:
        return command()
    except UserError as err:
        print(f"error: {printable(' '.join(str(err).split()))}", file=sys.stderr)
        return USER_ERROR_EXIT
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return INTERRUPTED_EXIT


def printable(text: str) -> str:
    """``text`` safe for a terminal: control characters (which may come from a file; an
    escape sequence could rewrite the screen) escaped as ``\\x1b``; newlines kept."""
    return "".join(
        c if c == "\n" or c.isprintable() else c.encode("unicode_escape").decode("ascii")
        for c in text
    )


def check_output_path(path: Path, what: str, folder: bool = False) -> None:
    """Refuse, before any work, an output ``path`` that cannot be written: a folder where a
    file goes (or the reverse), a FIFO, socket or device where a file goes, or a nearest
    existing parent that is no writable folder."""
    if URI.match(str(path)):  # pathlib reads "s3://b/x" as the local "s3:/b/x"
        raise UserError(f"{path}: expected a local path for {what}, got a URI.")
    if folder and path.exists() and not path.is_dir():
        raise UserError(f"{path}: expected a folder for {what}, got a file.")
    if not folder and path.is_dir():
        raise UserError(f"{path}: expected a file path for {what}, got a folder.")
    if not folder and path.exists() and not path.is_file():
        # writing to a FIFO blocks until someone reads it
        raise UserError(f"{path}: expected a file path for {what}, got a FIFO, socket or device.")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(
            f"{path}: expected a writable place for {what}, got {parent}, which is "
            f"{'not writable' if parent.is_dir() else 'a file, not a folder'}."
        )
