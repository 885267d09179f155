"""A profile's local packages: Python projects inside the repository that a lock cannot
hold from an index (``pip install --no-deps ./sub_package``).

Pure: reads files, starts no process. A local package is known by its content: a
digest of its source files, walked in a fixed order, leaving out what building,
testing or version control write there (``build/``, ``dist/``, ``*.egg-info``,
``__pycache__``, ``.git``), so the digest changes with an edit of the source and
with nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from noxgrid.model.config import Config
    from noxgrid.model.matrix import Cell

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Folders no source lives in: version control, build outputs, caches, environments.
SKIPPED_FOLDERS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        "build",
        "dist",
        ".tox",
        ".nox",
        ".noxgrid",
        ".venv",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "node_modules",
    }
)
SKIPPED_SUFFIXES = (".egg-info", ".pyc", ".pyo")

# The files that make a folder a Python project pip can install.
PROJECT_FILES = ("pyproject.toml", "setup.py")


def project_problem(path: Path, root: Path) -> str | None:
    """Why ``path`` cannot be a local package of the project at ``root`` (None: it can)."""
    try:
        inside = path.resolve().is_relative_to(root.resolve())
    except OSError:
        inside = False
    if not inside:
        return f"{path} is outside the project folder {root}"
    if path.resolve() == root.resolve():
        return "it is the project itself (install-project installs that)"
    if not path.is_dir():
        return f"no such folder (looked at {path})"
    if not any((path / name).is_file() for name in PROJECT_FILES):
        return f"{path} has neither pyproject.toml nor setup.py: not a Python project"
    return None


def _skipped(name: str) -> bool:
    return name in SKIPPED_FOLDERS or name.endswith(SKIPPED_SUFFIXES)


def source_files(path: Path) -> list[str]:
    """The package's source files, relative to ``path`` (POSIX), sorted."""
    found = []
    for folder, folders, files in os.walk(path):
        folders[:] = sorted(name for name in folders if not _skipped(name))
        base = Path(folder)
        found += [
            (base / name).relative_to(path).as_posix() for name in files if not _skipped(name)
        ]
    return sorted(found)


def content_digest(path: Path) -> str:
    """sha256 over each source file's relative path and content, in sorted order."""
    digest = hashlib.sha256()
    for name in source_files(path):
        file = path / name
        try:
            data = file.read_bytes()
        except OSError:  # a dangling link: its target names what it would be
            try:
                data = b"link:" + str(file.readlink()).encode()
            except OSError:
                data = b"unreadable"
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def declared_dependencies(path: Path) -> list[str]:
    """The dependencies a local package states in its ``[project]`` table (static only)."""
    try:
        data: Mapping[str, Any] = tomllib.loads((path / "pyproject.toml").read_text("utf-8"))
    except (OSError, ValueError):
        return []
    project = data.get("project", {})
    if not isinstance(project, Mapping) or "dependencies" in project.get("dynamic", []):
        return []
    return [str(item) for item in project.get("dependencies", []) or []]


@dataclass(frozen=True, kw_only=True)
class LocalPackage:
    """One local package as a cell installed it: where, what, its content digest, and
    whether this run installed it or proved the installed copy current."""

    path: str  # relative to the project root
    digest: str
    name: str = ""
    version: str = ""
    action: str = ""  # "installed" or "kept"

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {
            "path": self.path,
            "name": self.name,
            "version": self.version,
            "digest": self.digest,
            "action": self.action,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LocalPackage:
        """Inverse of :meth:`as_dict`."""
        return cls(
            path=str(data.get("path", "")),
            digest=str(data.get("digest", "")),
            name=str(data.get("name", "")),
            version=str(data.get("version", "")),
            action=str(data.get("action", "")),
        )

    def describe(self) -> str:
        """One line: ``sub (subpkg 0.1.0, sha256 1a2b3c4d5e6f, installed)``."""
        what = " ".join(part for part in (self.name, self.version) if part)
        parts = [what, f"sha256 {self.digest[:12]}", self.action]
        return f"{self.path} ({', '.join(part for part in parts if part)})"


def direct_url_path(dist_info: Path) -> str | None:
    """The folder a distribution was installed from (its ``direct_url.json``, not editable),
    resolved, or None."""
    try:
        data = json.loads((dist_info / "direct_url.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    url = str(data.get("url", ""))
    if not url.startswith("file://") or (data.get("dir_info") or {}).get("editable"):
        return None
    # A file URL escapes what a URL cannot hold (a space is %20).
    escaped = url.removeprefix("file://").encode()
    raw = re.sub(rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), escaped)
    return raw.decode("utf-8", errors="replace").rstrip("/")


def local_package_args(config: Config, cell: Cell) -> str:
    """The cell's local packages as the ``LOCAL_PACKAGES`` build argument: ``./sub ./other``
    (a bare ``sub`` would be read as a package name, not a folder)."""
    root = config.root.resolve()
    return " ".join(
        f"./{path.relative_to(root).as_posix()}"
        for path in config.profiles[cell.profile].local_packages
    )


def local_packages_problem(dockerfile: str, name: str, packages: str) -> str | None:
    """Why an image built from ``dockerfile`` would lack the profile's local ``packages``
    (space-separated paths): it never reads the ``LOCAL_PACKAGES`` build argument."""
    if not packages or re.search(r"^\s*ARG\s+LOCAL_PACKAGES\b", dockerfile, re.MULTILINE):
        return None
    return (
        f"the profile installs local packages ({packages}) but {name} has no "
        "`ARG LOCAL_PACKAGES`, so its image would lack them; fix: install them after the "
        "project as noxgrid's template does (`noxgrid dockerfile` prints it): "
        '`ARG LOCAL_PACKAGES=""` and `uv pip install --no-deps $LOCAL_PACKAGES` from the '
        "project's folder"
    )
