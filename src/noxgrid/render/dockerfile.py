"""The Dockerfile template noxgrid ships, and the .dockerignore it writes where a project
has none (version control, caches, venvs, build leftovers and secrets).
"""

from __future__ import annotations

from pathlib import Path

from noxgrid.model.image import DOCKERIGNORE

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "Dockerfile"


def default_dockerignore() -> str:
    """The .dockerignore noxgrid writes where a project has none."""
    return "\n".join(DOCKERIGNORE) + "\n"
