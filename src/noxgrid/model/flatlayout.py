"""Where noxgrid's Dockerfile can go without breaking the project's build. Pure.

A setuptools project that names no packages or modules (no ``packages`` /
``py-modules`` in ``[tool.setuptools]``, setup.cfg's ``[options]`` or setup.py,
no ``package-dir``) and keeps its code at the root (no ``src/``) is built by
setuptools' automatic discovery in the flat layout: every top-level folder
whose name is an identifier and not one of the names setuptools leaves out
(``ci``, ``docs``, ``tests``, ``requirements``, hidden ones...) is taken for a
package, and more than one stops the build ("Multiple top-level packages
discovered in a flat-layout"). A ``docker/`` folder is such a package. In that
case noxgrid's Dockerfile goes where discovery does not look: a root
``Dockerfile`` when the project has none, else ``ci/Dockerfile`` (``ci`` is a name
setuptools leaves out), else ``Dockerfile.noxgrid``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULT_DOCKERFILE = "docker/Dockerfile"
# The top-level folder names setuptools' flat-layout discovery does not take for packages
# (those every setuptools since 61 leaves out; tests compare with the installed one).
IGNORED_FOLDERS = (
    *("ci", "bin", "doc", "docs", "documentation", "manpages", "news", "changelog"),
    *("test", "tests", "unit_test", "unit_tests", "example", "examples", "scripts"),
    *("tools", "util", "utils", "python", "build", "dist", "venv", "env"),
    *("requirements", "tasks", "fabfile", "site_scons", "benchmark", "benchmarks"),
    *("exercise", "exercises", "[._]*"),
)
# Where noxgrid's Dockerfile goes in a flat-layout project, the first that is free.
FLAT_PLACES = ("Dockerfile", "ci/Dockerfile", "Dockerfile.noxgrid")
_SETUP_PY = re.compile(r"\b(?:packages|py_modules|package_dir|ext_modules)\s*=")
_SETUP_CFG = re.compile(r"^\s*(?:packages|py_modules|package_dir)\s*=", re.MULTILINE)
_FLAT_ERROR = re.compile(r"Multiple top-level packages discovered in a flat-layout: \[([^\]]*)\]")


@dataclass(frozen=True)
class BuildFiles:
    """What decides setuptools' discovery: the build files' text (None: absent) and the
    names of the top-level folders."""

    pyproject: str | None = None
    setup_cfg: str | None = None
    setup_py: str | None = None
    folders: tuple[str, ...] = ()


def discovered_folder(name: str) -> bool:
    """True when setuptools' flat-layout discovery takes the top-level folder ``name``
    for a package."""
    return name.isidentifier() and not any(fnmatchcase(name, p) for p in IGNORED_FOLDERS)


def _setuptools_table(pyproject: str | None) -> tuple[bool, Mapping[str, Any]] | None:
    """(setuptools builds it, [tool.setuptools]); None when the text is no TOML."""
    if pyproject is None:
        return True, {}  # no pyproject.toml: setup.py, built by setuptools
    try:
        document = tomllib.loads(pyproject)
    except tomllib.TOMLDecodeError:
        return None
    system = document.get("build-system") or {}
    backend = str(system.get("build-backend") or "setuptools.build_meta:__legacy__")
    table = (document.get("tool") or {}).get("setuptools") or {}
    return backend.startswith("setuptools."), table if isinstance(table, dict) else {}


def flat_discovery(files: BuildFiles) -> str | None:
    """Why setuptools' automatic discovery in the flat layout builds this project (a
    sentence), or None when it does not (another backend, packages named, src layout)."""
    read = _setuptools_table(files.pyproject)
    if read is None or not read[0]:
        return None
    table = read[1]
    if any(key in table for key in ("packages", "py-modules", "package-dir", "ext-modules")):
        return None
    if files.setup_cfg is not None and _SETUP_CFG.search(files.setup_cfg):
        return None
    if files.setup_py is not None and _SETUP_PY.search(files.setup_py):
        return None
    if "src" in files.folders:
        return None
    where = "pyproject.toml" if files.pyproject is not None else "setup.py"
    return (
        f"setuptools builds the project ({where}) by automatic discovery in a flat layout "
        "(no packages or py-modules named, no src/): every top-level folder it does not "
        "leave out (ci, docs, tests, hidden ones...) is a package to it, and a second one "
        "stops the build"
    )


def dockerfile_place(files: BuildFiles, exists: Iterable[str]) -> tuple[str, str | None]:
    """(where noxgrid's Dockerfile goes, why when not docker/Dockerfile); ``exists``:
    the candidate paths the project already has."""
    why = flat_discovery(files)
    if why is None:
        return DEFAULT_DOCKERFILE, None
    taken = set(exists)
    place = next((p for p in FLAT_PLACES if p not in taken), FLAT_PLACES[-1])
    return place, (
        f"noxgrid's Dockerfile: {place}, not {DEFAULT_DOCKERFILE} ([tool.noxgrid.docker] "
        f"dockerfile names it): a docker/ folder would stop the project's build; {why}"
    )


def read_build_files(root: Path) -> BuildFiles:
    """The project's build files and top-level folders (reads, writes nothing)."""

    def text(name: str) -> str | None:
        path = root / name
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None

    folders = tuple(sorted(p.name for p in root.iterdir() if p.is_dir())) if root.is_dir() else ()
    return BuildFiles(text("pyproject.toml"), text("setup.cfg"), text("setup.py"), folders)


def existing_places(root: Path) -> list[str]:
    """The places of FLAT_PLACES the project at ``root`` already has."""
    return [place for place in FLAT_PLACES if (root / place).exists()]


def project_dockerfile(root: Path) -> tuple[str, str | None]:
    """Where ``init`` writes noxgrid's Dockerfile in the project at ``root``, and why."""
    return dockerfile_place(read_build_files(root), existing_places(root))


def declared_dockerfile_problem(files: BuildFiles, dockerfile: str) -> str | None:
    """Why the declared ``dockerfile``'s folder (when there) breaks the project's build,
    or None."""
    top = Path(dockerfile).parts[0] if len(Path(dockerfile).parts) > 1 else None
    why = flat_discovery(files)
    if top is None or top not in files.folders or why is None or not discovered_folder(top):
        return None
    return (
        f'[tool.noxgrid.docker] dockerfile = "{dockerfile}": its folder {top}/ is a second '
        f"top-level package to setuptools, so the project cannot be built: {why}"
    )


def moved_dockerfile_fix(dockerfile: str, exists: Iterable[str] = ()) -> str:
    """The fix for a Dockerfile in a folder that setuptools takes for a package."""
    taken = set(exists)
    place = next((p for p in FLAT_PLACES if p not in taken), FLAT_PLACES[-1])
    top = Path(dockerfile).parts[0]
    return (
        f"git mv {dockerfile} {place} (remove {top}/ if nothing else is in it), and set "
        f'dockerfile = "{place}" in [tool.noxgrid.docker] of pyproject.toml; or name the '
        'project\'s packages in [tool.setuptools] (packages = ["..."])'
    )


def flat_layout_failure(output: str, dockerfile: str, exists: Iterable[str] = ()) -> str | None:
    """The cause of setuptools' "Multiple top-level packages discovered in a flat-layout"
    in a build's ``output`` with its fix, or None when it says no such thing; ``exists``:
    the places of FLAT_PLACES the project already has."""
    found = _FLAT_ERROR.search(output)
    if found is None:
        return None
    names = [name.strip().strip("'\"") for name in found.group(1).split(",") if name.strip()]
    shown = ", ".join(names)
    parts = Path(dockerfile).parts
    top = parts[0] if len(parts) > 1 else None
    if top is not None and top in names:
        return (
            f"setuptools' automatic discovery found several top-level packages ({shown}): "
            f"{top}/ is the folder of noxgrid's Dockerfile ({dockerfile}), not a package; "
            f"fix: {moved_dockerfile_fix(dockerfile, exists)}"
        )
    return (
        f"setuptools' automatic discovery found several top-level packages ({shown}) in a "
        'flat layout; fix: name the project\'s packages in [tool.setuptools] (packages = ["..."]'
        ") of pyproject.toml, or move the folders that are not packages"
    )
