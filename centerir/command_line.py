"""What the three command lines share: one-line usage errors, and user errors as one line
with exit code 2 (anything else is a bug: traceback, exit code 1). Imports no torch."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

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
