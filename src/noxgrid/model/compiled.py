"""What a project's compiled code is built from, to tell when its editable build is stale.

An editable install of a project with C, C++, Cython, Rust or Fortran sources compiles
them once, into the working tree; importing it later loads that build, whatever the
sources say now. The digests of those sources and of the build configuration are
recorded at the editable install; when they move, the project is built again. A
project with no compiled source has nothing here (its metadata files already reinstall
it). Pure: reads files, runs nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SOURCES = frozenset(
    {
        ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx",
        ".pyx", ".pxd", ".pxi", ".rs", ".f", ".f90", ".cu",
    }
)  # fmt: skip
BUILD_FILES = frozenset(
    {
        "setup.py", "meson.build", "meson.options", "meson_options.txt",
        "CMakeLists.txt", "Cargo.toml", "Cargo.lock", "build.rs",
    }
)  # fmt: skip
# pyproject.toml's tables that say how the project is built (not its dependencies).
BUILD_TABLES = ("setuptools", "scikit-build", "maturin", "meson-python", "setuptools-rust")
# Folders never walked: builds, caches, venvs, version control.
PRUNED = frozenset(
    {"build", "dist", "target", "node_modules", "__pycache__", "venv", "site-packages"}
)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def pyproject_build(root: Path) -> str | None:
    """The digest of pyproject.toml's build configuration: ``[build-system]`` and the
    build backends' tables; None without a readable pyproject.toml."""
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    tables = data.get("tool")
    tool: dict[str, object] = tables if isinstance(tables, dict) else {}
    wanted = {
        "build-system": data.get("build-system"),
        **{name: tool.get(name) for name in BUILD_TABLES if name in tool},
    }
    return _digest(json.dumps(wanted, sort_keys=True, default=str).encode())


def build_inputs(root: Path, skip: tuple[Path, ...] = ()) -> dict[str, str]:
    """Each compiled source and build file of the project (path relative to ``root``) with
    a short digest of its content; empty when the project has no compiled source.
    ``skip``: folders inside the project not to walk (the venvs)."""
    root = root.resolve()
    skipped = {path.resolve() for path in skip}
    found: dict[str, str] = {}
    compiled = False
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(
            name
            for name in dirs
            if not name.startswith(".")
            and name not in PRUNED
            and here / name not in skipped
            and not (here / name / "pyvenv.cfg").exists()  # a venv, whatever its name
        )
        for name in sorted(files):
            suffix = Path(name).suffix.lower()
            if suffix not in SOURCES and name not in BUILD_FILES:
                continue
            path = here / name
            try:
                found[path.relative_to(root).as_posix()] = _digest(path.read_bytes())
            except OSError:
                continue
            compiled = compiled or suffix in SOURCES
    if not compiled:
        return {}
    build = pyproject_build(root)
    if build is not None:
        found["pyproject.toml [build-system]"] = build
    return found


def changed_inputs(recorded: Mapping[str, object], now: Mapping[str, str]) -> list[str]:
    """The build inputs added, removed or changed since ``recorded``."""
    names = set(recorded) | set(now)
    return sorted(name for name in names if recorded.get(name) != now.get(name))


def stale_message(changed: list[str]) -> str:
    """The reason a rebuild was made (for the stage's line)."""
    shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
    return f"{shown} changed since its editable build"
