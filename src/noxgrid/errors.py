"""One error tree for noxgrid.

Every error a user can cause or meet is a :class:`NoxgridError`: one paragraph
that says what is wrong, where, and how to fix it, plus an exit code. Only the
CLI and the nox layer print these or exit; the library raises them.
"""

from __future__ import annotations


class NoxgridError(Exception):
    """Base class: a message, a fix hint and the exit code the CLI uses."""

    exit_code = 1

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        if self.fix:
            return f"{self.message}\n  fix: {self.fix}"
        return self.message


class ConfigError(NoxgridError):
    """The ``[tool.noxgrid]`` declaration is missing, malformed or impossible."""

    exit_code = 2


class SelectionError(NoxgridError):
    """A cell pattern matched no cell of the matrix."""

    exit_code = 2


class InterpreterNotFound(NoxgridError):
    """No interpreter of the cell's Python version could be found."""

    exit_code = 3


class CommandFailed(NoxgridError):
    """A process noxgrid started exited non-zero or could not be started."""

    exit_code = 4


class CellFailed(NoxgridError):
    """One or more cells ended with a failed stage."""

    exit_code = 1


class LockOutdated(NoxgridError):
    """A cell's lock is missing or was made from other inputs."""

    exit_code = 1
