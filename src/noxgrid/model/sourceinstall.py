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
project with static ``[project]`` metadata, no ``setup.py``, no compiled code
(:mod:`noxgrid.model.compiled`), packages found in one source folder (a src layout),
a readme and licence the metadata stage copies. Anything else is ``built``, with the
reason. Pure: reads files, runs nothing.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from noxgrid.model.compiled import build_inputs

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

BACKEND = "setuptools.build_meta"
# What the template's project-meta stage copies besides pyproject.toml and setup.cfg.
META_GLOBS = ("README*", "LICEN[CS]E*", "COPYING*", "NOTICE*", "AUTHORS*")
# tool.setuptools keys that name files or packages the metadata stage does not hold.
EXPLICIT = ("packages", "py-modules", "ext-modules", "data-files", "script-files")


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


def source_install(root: Path) -> SourceInstall:
    """How the image installs the project at ``root`` (see the module's doc)."""
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return _built("no readable pyproject.toml")
    project = data.get("project")
    backend = (data.get("build-system") or {}).get("build-backend")
    tool = data.get("tool") or {}
    setuptools = tool.get("setuptools") or {}
    if not isinstance(project, dict) or not project.get("name"):
        return _built("no [project] table")
    if backend != BACKEND:
        return _built(f"the build backend is {backend or 'not set'}, not {BACKEND}")
    if project.get("dynamic"):
        return _built("[project] dynamic: metadata read from the code")
    if (root / "setup.py").exists():
        return _built("setup.py may read any file")
    if "[options" in _text(root / "setup.cfg"):
        return _built("setup.cfg's [options] say how the packages are found")
    if not _meta_file(project.get("readme")) or not _meta_file(
        project.get("license"), licence=True
    ):
        return _built("the readme or licence file is not README*/LICENSE* at the root")
    if project.get("license-files") is not None or setuptools.get("license-files") is not None:
        return _built("license-files lists its own files")
    if not isinstance(setuptools, dict) or any(
        key in setuptools and not (key == "packages" and isinstance(setuptools[key], dict))
        for key in EXPLICIT
    ):
        return _built("[tool.setuptools] names its packages, modules or files one by one")
    folder = _folder(root, setuptools)
    if isinstance(folder, SourceInstall):
        return folder
    if build_inputs(root):
        return _built("compiled sources: the backend builds them")
    return SourceInstall(folder=folder)
