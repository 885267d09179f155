"""Per-cell locks: their inputs, their header, and what a resolved lock says.

Pure: reads requirement files, starts no process. ``locking.py`` runs uv.

A lock is ``<locks>/<cell>.txt``: uv's hash-pinned output with ``# via``
annotations, under a header that records the inputs' digest. The digest
covers the requirement files (and those they include), the project's own
dependencies where it is part of the lock, the python, the platform and the
accelerator's rules; not the noxgrid or uv versions, which are recorded but
do not make a lock stale.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from noxgrid.config import Config, relative_path
from noxgrid.errors import ConfigError
from noxgrid.matrix import Cell

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

LOCK_FORMAT = 1
_INCLUDE = re.compile(r"^\s*(-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(==|@)\s*([^\s;\\]+)")
_HEADER = re.compile(r"^#\s*([a-z0-9-]+):\s*(.*)$")


def lock_path(config: Config, cell: Cell) -> Path:
    """Where the lock of ``cell`` lives."""
    return config.locks_dir / f"{cell.id}.txt"


def requirement_files(paths: Iterable[Path]) -> list[Path]:
    """The files, and every file they include with -r/-c, each once, in reading order."""
    seen: list[Path] = []

    def visit(path: Path) -> None:
        path = path.resolve()
        if path in seen:
            return
        seen.append(path)
        for line in path.read_text(encoding="utf-8").splitlines():
            match = _INCLUDE.match(line)
            if match:
                included = (path.parent / match.group(2)).resolve()
                if not included.is_file():
                    raise ConfigError(
                        f"{path}: includes {match.group(2)}, which does not exist "
                        f"(looked at {included})",
                        fix="correct the -r/-c line or create the file",
                    )
                visit(included)

    for path in paths:
        visit(path)
    return seen


def project_dependencies(config: Config, cell: Cell) -> list[str]:
    """The project's own requirements that belong in this cell's lock (deps + extras)."""
    profile = config.profiles[cell.profile]
    if not profile.install_project:
        return []
    with config.pyproject.open("rb") as stream:
        project = tomllib.load(stream).get("project", {})
    deps = list(project.get("dependencies", []) or [])
    optional = project.get("optional-dependencies", {}) or {}
    for extra in profile.extras:
        if extra not in optional:
            raise ConfigError(
                f"{config.pyproject}: tool.noxgrid.profile.{profile.name}.extras: "
                f"the project has no extra '{extra}'",
                fix=f"use one of: {', '.join(optional) or '(none declared)'}",
            )
        deps += list(optional[extra])
    return deps


def inputs_digest(config: Config, cell: Cell) -> tuple[str, list[str]]:
    """(sha256 of everything the lock depends on, the input files relative to the root)."""
    profile = config.profiles[cell.profile]
    accelerator = config.accelerators[cell.accelerator]
    files = requirement_files(profile.requirements)
    names = [relative_path(path.resolve(), config.root.resolve()) for path in files]
    document: dict[str, Any] = {
        "format": LOCK_FORMAT,
        "cell": cell.id,
        "python": cell.python,
        "platform": config.platform,
        "index-url": accelerator.index_url or config.index_url,
        "extra-index-urls": list(accelerator.extra_index_urls),
        "torch-backend": accelerator.torch_backend,
        "replace": [list(pair) for pair in accelerator.replace],
        "requirements": [
            [name, hashlib.sha256(path.read_bytes()).hexdigest()]
            for name, path in zip(names, files, strict=True)
        ],
        "project": project_dependencies(config, cell),
    }
    blob = json.dumps(document, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest(), names


def rewrite_requirements(text: str, replace: Mapping[str, str]) -> str:
    """``text`` with each requirement named in ``replace`` renamed (specifiers kept)."""
    if not replace:
        return text
    wanted = {canonicalize_name(old): new for old, new in replace.items()}
    lines = []
    for line in text.splitlines():
        body, _, comment = line.partition(" #")
        stripped = body.strip()
        if stripped and not stripped.startswith(("-", "#")):
            try:
                requirement = Requirement(stripped)
            except InvalidRequirement:
                lines.append(line)
                continue
            new = wanted.get(canonicalize_name(requirement.name))
            if new is not None:
                requirement.name = new
                line = str(requirement) + (f"  #{comment}" if comment else "")
        lines.append(line)
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, kw_only=True)
class LockedPackage:
    """One pinned package of a lock and what pulled it in."""

    name: str
    version: str
    hashes: tuple[str, ...]
    via: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Lock:
    """A parsed lock: its header fields and its packages by canonical name."""

    header: Mapping[str, str]
    packages: Mapping[str, LockedPackage] = field(default_factory=dict)

    @property
    def digest(self) -> str | None:
        """The inputs digest the lock was made from."""
        return self.header.get("inputs-sha256")

    def header_bytes(self, key: str) -> int | None:
        """A size recorded in the header (``download-bytes``, ``installed-bytes``)."""
        value = self.header.get(key, "")
        return int(value) if value.isdigit() else None

    def largest(self) -> list[tuple[str, int]]:
        """The ten largest packages recorded in the header, as (name==version, bytes)."""
        result = []
        for item in self.header.get("largest", "").split(", "):
            name, _, size = item.rpartition("=")
            if name and size.isdigit():
                result.append((name, int(size)))
        return result

    def chain(self, name: str) -> list[str]:
        """The shortest path from ``name`` up to a requirement file that asked for it.

        ``["triton", "torch", "sentence-transformers", "requirements/full.in"]``
        """
        start = canonicalize_name(name)
        if start not in self.packages:
            return [name]
        queue: deque[list[str]] = deque([[start]])
        seen = {start}
        while queue:
            path = queue.popleft()
            package = self.packages.get(path[-1])
            if package is None:
                continue
            for parent in package.via:
                if is_source(parent):
                    return [self.packages[p].name if p in self.packages else p for p in path] + [
                        _source_name(parent)
                    ]
                key = canonicalize_name(parent)
                if key not in seen:
                    seen.add(key)
                    queue.append([*path, key])
        return [self.packages[start].name]


def is_source(via: str) -> bool:
    """True for a ``# via`` entry naming a requirement file or pyproject.toml, not a package."""
    return via.startswith(("-r ", "-c ")) or "(" in via


def _source_name(via: str) -> str:
    if via.startswith(("-r ", "-c ")):
        return via[3:].strip()
    return via


def parse_lock(text: str) -> Lock:
    """Parse uv's hash-pinned output with split ``# via`` annotations and noxgrid's header."""
    header: dict[str, str] = {}
    packages: dict[str, LockedPackage] = {}
    current: dict[str, Any] | None = None
    in_header = True
    via_block = False

    def flush() -> None:
        if current is not None:
            packages[canonicalize_name(current["name"])] = LockedPackage(
                name=current["name"],
                version=current["version"],
                hashes=tuple(current["hashes"]),
                via=tuple(current["via"]),
            )

    for raw in text.splitlines():
        line = raw.rstrip()
        if in_header:
            match = _HEADER.match(line)
            if match:
                header[match.group(1)] = match.group(2).strip()
                continue
            if line.startswith("#") or not line:
                continue
            in_header = False
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("--hash="):
            if current is not None:
                current["hashes"].append(stripped.removeprefix("--hash=").rstrip(" \\"))
            continue
        if stripped.startswith("#"):
            note = stripped.lstrip("#").strip()
            if current is None:
                continue
            if note == "via":
                via_block = True
            elif note.startswith("via "):
                current["via"].append(note[4:].strip())
                via_block = False
            elif via_block and note:
                current["via"].append(note)
            continue
        pin = _PIN.match(stripped)
        if pin and not line.startswith((" ", "\t")):
            flush()
            via_block = False
            current = {"name": pin.group(1), "version": pin.group(4), "hashes": [], "via": []}
            for part in stripped.split():
                if part.startswith("--hash="):
                    current["hashes"].append(part.removeprefix("--hash="))
    flush()
    return Lock(header=header, packages=packages)


def render_header(fields: Sequence[tuple[str, str]], cell: Cell) -> str:
    """The comment block noxgrid puts above uv's output."""
    lines = [
        f"# Lock of cell {cell.id}, written by noxgrid: do not edit by hand.",
        f"# Refresh: noxgrid lock {cell.id}",
    ]
    lines += [f"# {key}: {value}" for key, value in fields]
    return "\n".join(lines) + "\n"
