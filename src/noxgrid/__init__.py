"""noxgrid: one declaration in pyproject.toml for a Python x accelerator x profile matrix.

Public API::

    import noxgrid
    noxgrid.sessions()          # in a noxfile: registers ci-<profile> sessions
    config = noxgrid.load_config("path/to/project")
    matrix = noxgrid.expand(config)
"""

from __future__ import annotations

from noxgrid._version import __version__
from noxgrid.errors import NoxgridError
from noxgrid.model.config import Config
from noxgrid.model.declaration import load_config
from noxgrid.model.matrix import Cell, Matrix, expand


def sessions(project: str | None = None) -> list[str]:
    """Register nox sessions for the project's matrix; returns their names.

    Call it from a noxfile. ``project`` defaults to the noxfile's folder.
    """
    from noxgrid.nox_sessions import register

    return register(project)


__all__ = [
    "Cell",
    "Config",
    "Matrix",
    "NoxgridError",
    "__version__",
    "expand",
    "load_config",
    "sessions",
]
