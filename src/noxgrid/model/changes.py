"""Which cells a change touches (``noxgrid matrix --changed-since REF``).

============================================  =====================================
changed file                                  cells
============================================  =====================================
``<locks>/<cell>.txt``                        that cell
a requirement file of a profile (or included)  that profile's cells
anything else (sources, Dockerfile, config)   every cell
git cannot tell (no such ref, no repository)  every cell
============================================  =====================================
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from noxgrid.model.config import Config
from noxgrid.model.inputs import requirement_files
from noxgrid.model.lockfile import lock_path
from noxgrid.model.matrix import Matrix


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
            if _inside(path, config.root):
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
