"""Whether an image can take the project's code from /app instead of a wheel built from it.

noxgrid's template installs the project one of two ways (``PROJECT_INSTALL``):

- ``built`` (the default, always right): the whole project is copied, then built by its
  backend into a wheel and installed, in a step every source change runs again.
- ``source``: the project's metadata and entry points are built by its backend from
  its build configuration alone (pyproject.toml, setup.cfg and the readme and licence
  files, the ``project-meta`` stage), in a layer that changes only when they do; a
  ``.pth`` puts the project's source folder (``/app/src``) on the import path, and the
  code is copied last. A change to the code then runs no backend.

``source`` is chosen only where that gives the same installed project: a setuptools
project whose build-system.requires names nothing but setuptools and wheel, with static
``[project]`` metadata, no ``setup.py``, no compiled code (:mod:`noxgrid.model.compiled`),
``[tool.setuptools]`` keys of SETUPTOOLS_KEYS only (no cmdclass, no plugin: nothing runs
at build time), packages found in one source folder (a src layout) that holds nothing
but .py files, py.typed and data files its package-data patterns name (the wheel's
files: nothing more in /app), a readme and licence the metadata stage copies. Anything
else is ``built``, with the reason. Pure: reads files, runs nothing.
"""

from __future__ import annotations

import glob
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from noxgrid.model.compiled import build_inputs
from noxgrid.model.context import ignore_patterns, ignored
from noxgrid.model.devtools import requirement_names

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

BACKEND = "setuptools.build_meta"
# What the template's project-meta stage copies besides pyproject.toml and setup.cfg.
META_GLOBS = ("README*", "LICEN[CS]E*", "COPYING*", "NOTICE*", "AUTHORS*")
# The only build requirements: anything else (a plugin such as grpcio-tools generating
# modules at build_py) runs at build time, on code the metadata stage does not hold.
BUILD_REQUIRES = frozenset({"setuptools", "wheel"})
# The only [tool.setuptools] keys: where the packages are (checked by _folder), which data
# files the wheel holds (checked by _stray_file), and flags that change no installed file.
SETUPTOOLS_KEYS = frozenset(
    {"packages", "package-dir", "package-data", "include-package-data", "zip-safe", "platforms"}
)


@dataclass(frozen=True)
class SourceInstall:
    """``folder``: the source folder /app/<folder> put on the import path, or None with
    ``reason``: why the wheel is built from the whole project instead."""

    folder: str | None
    reason: str = ""


def _built(reason: str) -> SourceInstall:
    return SourceInstall(folder=None, reason=reason)


def _meta_file(value: Any, *, licence: bool = False) -> bool:
    """A readme or licence the metadata stage copies: none, inline text (a licence's
    string is an SPDX expression), or a file at the root matching one of META_GLOBS."""
    if value is None or (licence and isinstance(value, str)):
        return True
    path = value.get("file") if isinstance(value, dict) else value
    if path is None:
        return True  # {text = "..."}
    return isinstance(path, str) and "/" not in path and any(fnmatch(path, g) for g in META_GLOBS)


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _folder(root: Path, setuptools: dict[str, Any]) -> str | SourceInstall:
    """The one source folder setuptools finds the packages in, or why there is none."""
    packages = setuptools.get("packages")
    find = packages.get("find") if isinstance(packages, dict) else None
    package_dir = setuptools.get("package-dir") or {}
    if isinstance(find, dict):
        if set(find) - {"where", "namespaces"}:
            return _built("[tool.setuptools.packages.find] includes or excludes packages")
        if find.get("namespaces", True) is not True:
            return _built("[tool.setuptools.packages.find] namespaces = false leaves folders out")
        where = find.get("where") or ["."]
        if not isinstance(where, list) or len(where) != 1:
            return _built("[tool.setuptools.packages.find] where names several folders")
        folder = str(where[0]).strip("/")
    elif set(package_dir) - {""}:
        return _built("[tool.setuptools] package-dir maps single packages")
    else:
        folder = str(package_dir.get("", "src" if (root / "src").is_dir() else "."))
    if folder in ("", ".") or ".." in folder.split("/"):
        return _built("a flat layout: /app would put more than the packages on the import path")
    if not (root / folder).is_dir():
        return _built(f"the source folder {folder}/ does not exist")
    return folder


def _requires_problem(build_system: dict[str, Any]) -> str:
    """Why build-system.requires may run more than setuptools at build time, or ""."""
    requires = build_system.get("requires") or []
    if not isinstance(requires, list):
        return "build-system.requires is not a list"
    names = requirement_names(requires, own="")
    if names is None:
        return "build-system.requires holds a line that is no requirement"
    for item, name in zip(requires, names, strict=True):
        if name not in BUILD_REQUIRES:
            return (
                f"build-system.requires names {item!r} (only setuptools and wheel run on "
                "the build configuration alone)"
            )
    return ""


def _keys_problem(setuptools: Any) -> str:
    """Why [tool.setuptools] asks the build for more than the source install gives, or ""."""
    if not isinstance(setuptools, dict):
        return "[tool.setuptools] is not a table"
    if "packages" in setuptools and not isinstance(setuptools["packages"], dict):
        return "[tool.setuptools] names its packages one by one"
    other = sorted(set(setuptools) - SETUPTOOLS_KEYS)
    if other:
        return (
            f"[tool.setuptools] {other[0]}: the build may run code or pick files by it (only "
            f"{', '.join(sorted(SETUPTOOLS_KEYS))} are known to change nothing /app misses)"
        )
    return ""


def _package_data(base: Path, package_data: Any) -> set[str] | str:
    """The files under ``base`` (the source folder) setuptools' package-data patterns put
    in the wheel, globbed as setuptools globs them; or why they cannot be read."""
    if not isinstance(package_data, dict):
        return "[tool.setuptools] package-data is not a table"
    found: set[str] = set()
    for package, patterns in package_data.items():
        if not isinstance(patterns, list):
            return f"[tool.setuptools.package-data] {package} is not a list"
        if package in ("", "*"):
            folders = [p for p in base.rglob("*") if p.is_dir() and p.name != "__pycache__"]
        else:
            folders = [base.joinpath(*str(package).split("."))]
        for folder in folders:
            for pattern in patterns:
                # glob.glob, as setuptools globs (its `*` skips hidden files; Path.glob's not)
                hits = glob.glob(str(pattern), root_dir=folder, recursive=True)  # noqa: PTH207
                found.update(str(folder / hit) for hit in hits if (folder / hit).is_file())
    return found


def _stray_file(
    root: Path, folder: str, setuptools: dict[str, Any], default_ignore: Sequence[str]
) -> str:
    """Why /app/<folder> holds more than the wheel would (the first file .dockerignore lets
    in that is not .py, py.typed or named by package-data), or ""."""
    base = root / folder
    dockerignore = root / ".dockerignore"
    patterns = (
        ignore_patterns(_text(dockerignore)) if dockerignore.is_file() else list(default_ignore)
    )
    covered = _package_data(base, setuptools.get("package-data") or {})
    if isinstance(covered, str):
        return covered
    for path in sorted(base.rglob("*")):
        if "__pycache__" in path.relative_to(base).parts or not path.is_file():
            continue
        if ignored(path.relative_to(root).as_posix(), patterns):
            continue  # never in /app
        if path.suffix == ".py" or path.name == "py.typed" or str(path) in covered:
            continue
        return (
            f"{path.relative_to(root).as_posix()} is in the source folder but no "
            "package-data pattern puts it in the wheel"
        )
    return ""


def _config_problem(root: Path, project: dict[str, Any], setuptools: Any) -> str:
    """Why the build configuration asks for the whole project, or ""."""
    if project.get("dynamic"):
        return "[project] dynamic: metadata read from the code"
    if (root / "setup.py").exists():
        return "setup.py may read any file"
    if "[options" in _text(root / "setup.cfg"):
        return "setup.cfg's [options] say how the packages are found"
    if not _meta_file(project.get("readme")) or not _meta_file(
        project.get("license"), licence=True
    ):
        return "the readme or licence file is not README*/LICENSE* at the root"
    if project.get("license-files") is not None or (
        isinstance(setuptools, dict) and setuptools.get("license-files") is not None
    ):
        return "license-files lists its own files"
    return _keys_problem(setuptools)


def source_install(root: Path, default_ignore: Sequence[str] = ()) -> SourceInstall:
    """How the image installs the project at ``root`` (see the module's doc);
    ``default_ignore``: the .dockerignore patterns written where the project has none."""
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return _built("no readable pyproject.toml")
    project = data.get("project")
    build_system = data.get("build-system") or {}
    backend = build_system.get("build-backend")
    setuptools = (data.get("tool") or {}).get("setuptools") or {}
    if not isinstance(project, dict) or not project.get("name"):
        return _built("no [project] table")
    if backend != BACKEND:
        return _built(f"the build backend is {backend or 'not set'}, not {BACKEND}")
    problem = _requires_problem(build_system) or _config_problem(root, project, setuptools)
    if problem:
        return _built(problem)
    folder = _folder(root, setuptools)
    if isinstance(folder, SourceInstall):
        return folder
    if build_inputs(root):
        return _built("compiled sources: the backend builds them")
    stray = _stray_file(root, folder, setuptools, default_ignore)
    return _built(stray) if stray else SourceInstall(folder=folder)
