"""Errors motte reports to its user, each with its own exit status."""

from __future__ import annotations

EXIT_USAGE = 2  # bad option, manifest key or mount source: nothing started
EXIT_INTERNAL = 125  # motte itself failed (as docker run does)
EXIT_NOT_EXECUTABLE = 126
EXIT_NOT_FOUND = 127


class MotteError(Exception):
    """A failure reported as one line `motte: MESSAGE` and exit status `status`."""

    def __init__(self, message: str, status: int = EXIT_INTERNAL) -> None:
        super().__init__(message)
        self.status = status


class UsageError(MotteError):
    """A bad option, manifest key or mount: exit 2, nothing started."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_USAGE)
