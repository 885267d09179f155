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


class IndexUnavailable(NoxgridError):
    """The package index could not answer (uv could not reach it, or sizes could not be read)."""

    exit_code = 5


class EngineUnavailable(NoxgridError):
    """No usable Docker client or engine: none configured, none that builds with BuildKit,
    or no engine answering."""

    exit_code = 6


class StageFailure(NoxgridError):
    """Raised inside a stage: ends it as failed with this detail (and GitHub annotations)."""

    def __init__(self, detail: str, *, annotations: tuple[str, ...] | list[str] = ()) -> None:
        super().__init__(detail)
        self.annotations = tuple(annotations)


class StageSkipped(NoxgridError):
    """Raised inside a stage: ends it as skipped, with this reason."""


class LockRefused(NoxgridError):
    """Locking one cell stopped early; the lock outcome already says why (not written)."""


class LockUnreadable(NoxgridError):
    """A lock file is not TOML, or not a lock noxgrid can read."""


class LayerUnreadable(NoxgridError):
    """An image layer's folder could not be read completely (the image is exported
    and read whole instead)."""


class Interrupted(KeyboardInterrupt):
    """Raised by the runner once noxgrid was interrupted (Ctrl-C, SIGTERM): a command
    started after it, or stopped by it. A KeyboardInterrupt, not a NoxgridError, so no
    ``except NoxgridError`` or ``except Exception`` takes it for a failure; the stage it
    ends is recorded as interrupted."""

    def __init__(self, what: str = "interrupted") -> None:
        super().__init__(what)
        self.what = what
