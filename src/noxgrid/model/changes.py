"""Which cells a change touches (``noxgrid matrix --changed-since REF``).

============================================  =====================================
changed file                                  cells
============================================  =====================================
``<locks>/<cell>.txt``                        that cell
a requirement file of a profile (or included)  that profile's cells
anything else (sources, Dockerfile, config)   every cell
a file at the repository's root that every   every cell
service shares (the compose file, a hand-
written workflow, root requirement files)
another service's generated workflow, or      none
anything else outside the project
git cannot tell (no such ref, no repository)  every cell
============================================  =====================================
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from noxgrid.model.compose import COMPOSE_FILES
from noxgrid.model.config import Config
from noxgrid.model.drift import is_generated
from noxgrid.model.inputs import requirement_files
from noxgrid.model.lockfile import lock_path
from noxgrid.model.matrix import Matrix

_ROOT_REQUIREMENTS = re.compile(r"^(?:requirements|constraints)[\w.-]*\.(?:txt|in)$")


def affected(config: Config, matrix: Matrix, changed: Iterable[Path]) -> Matrix:
    """The cells whose inputs include any changed file (pure)."""
    chosen: set[str] = set()
    by_file: dict[Path, set[str]] = {}
    for cell in matrix:
        by_file.setdefault(lock_path(config, cell).resolve(), set()).add(cell.id)
    for profile in config.profiles.values():
        ids = {cell.id for cell in matrix if cell.profile == profile.name}
        for path in requirement_files(profile.requirements):
            by_file.setdefault(path.resolve(), set()).update(ids)
    for path in changed:
        cells = by_file.get(path.resolve())
        if cells is None:
            if _inside(path, config.root) or shared(config, path):
                return matrix  # a source, the Dockerfile, the config: every cell
            continue  # outside the project (another project in the repository)
        chosen |= cells
    return Matrix(tuple(cell for cell in matrix if cell.id in chosen))


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def shared(config: Config, path: Path) -> bool:
    """True for a file outside the project that every service of the repository shares:
    at the repository's root, its compose file or a requirement file (``requirements*.txt``,
    ``requirements/*``, ``constraints*.txt``); any hand-written workflow; the project's own
    generated workflows. Another service's generated workflow is not shared."""
    repo = config.repo_root.resolve()
    target = path.resolve()
    if target in (config.workflow_file.resolve(), config.release_workflow_file.resolve()):
        return True
    if target.parent == repo:
        return target.name in COMPOSE_FILES or bool(_ROOT_REQUIREMENTS.match(target.name))
    if target.parent == repo / "requirements":
        return target.suffix in (".txt", ".in")
    if target.parent == repo / ".github" / "workflows":
        return target.suffix in (".yml", ".yaml") and not is_generated(target)
    return False
