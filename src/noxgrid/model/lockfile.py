"""Per-cell locks: where they live, their digests, and what a lock says.

Pure: reads text, starts no process. ``noxgrid.lock.resolve`` runs uv.

A lock is ``<locks>/pylock.py<cell>.toml``, a PEP 751 lock (``model.pylock``)
whose ``[tool.noxgrid]`` table records two digests. (Older noxgrid wrote
``<locks>/<cell>.txt``, uv's hash-pinned requirements with a comment header;
those are still read, and ``noxgrid lock`` migrates them.) The inputs digest
covers the requirement files (and those they include), the project's own
dependencies where it is part of the lock, the python, the platform and the
accelerator's rules; not the noxgrid or uv versions, which are recorded but
do not make a lock stale. The body digest covers the lock's own text (every
line but its own): a lock edited by hand, a package line added or a hash
changed, no longer matches it and is refused.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion

from noxgrid.errors import LockUnreadable
from noxgrid.model.config import Config
from noxgrid.model.matrix import Cell
from noxgrid.model.pylock import is_pylock, read_pylock
from noxgrid.model.sizes import is_pure_wheel

LOCK_FORMAT = 1

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(==|@)\s*([^\s;\\]+)")

_HEADER = re.compile(r"^#\s*([a-z0-9-]+):\s*(.*)$")

BODY_KEY = "body-sha256"

_BODY_LINE = re.compile(rf"^(?:#\s*{BODY_KEY}:|{BODY_KEY}\s*=)[^\n]*(?:\n|$)", re.MULTILINE)


def body_digest(text: str) -> str:
    """sha256 of a lock's text without its own body digest line (line endings as LF)."""
    normal = text.replace("\r\n", "\n")
    without = _BODY_LINE.sub("", normal)
    return hashlib.sha256(without.encode("utf-8")).hexdigest()


def seal(text: str) -> str:
    """``text`` with its body digest inserted after the header's inputs digest (or on top)."""
    digest = body_digest(text)
    lines = text.split("\n")
    toml = is_pylock(text)
    marker = "inputs-sha256 = " if toml else "# inputs-sha256:"
    at = next((i + 1 for i, line in enumerate(lines) if line.startswith(marker)), 0)
    lines.insert(at, f'{BODY_KEY} = "{digest}"' if toml else f"# {BODY_KEY}: {digest}")
    return "\n".join(lines)


def lock_name(cell: Cell) -> str:
    """The lock's file name: ``pylock.py311-cpu-lean.toml`` (PEP 751 names have no dots)."""
    return f"pylock.py{cell.id.replace('.', '')}.toml"


def lock_path(config: Config, cell: Cell) -> Path:
    """Where the lock of ``cell`` lives."""
    return config.locks_dir / lock_name(cell)


def legacy_lock_path(config: Config, cell: Cell) -> Path:
    """Where an older noxgrid kept the lock of ``cell`` (uv's requirements format)."""
    return config.locks_dir / f"{cell.id}.txt"


@dataclass(frozen=True, kw_only=True)
class LockedPackage:
    """One pinned package of a lock, what pulled it in, and where it came from.

    ``url`` is set for a direct-URL requirement (``name @ https://...``), whose
    version the lock does not state (``version`` is then taken from a wheel's
    file name where it can be, else empty); ``index`` is the index uv took
    the package from (its ``# from`` annotation).
    """

    name: str
    version: str
    hashes: tuple[str, ...]
    via: tuple[str, ...]
    url: str | None = None
    index: str | None = None
    # The wheels the lock lists for the cell (file names): the cell installs one of them.
    wheels: tuple[str, ...] = ()

    @property
    def pure(self) -> bool:
        """True when every file the cell can install is a pure-Python wheel."""
        return bool(self.wheels) and all(map(is_pure_wheel, self.wheels))


@dataclass(frozen=True, kw_only=True)
class Lock:
    """A parsed lock: its header fields, its packages by canonical name, its body digest."""

    header: Mapping[str, str]
    packages: Mapping[str, LockedPackage] = field(default_factory=dict)
    computed_body: str | None = None

    @property
    def digest(self) -> str | None:
        """The inputs digest the lock was made from."""
        return self.header.get("inputs-sha256")

    @property
    def body_state(self) -> str:
        """``"sealed"`` when the recorded body digest matches the text, ``"unsealed"``
        when there is none (a lock by an older noxgrid, or written by hand), else
        ``"edited"``."""
        recorded = self.header.get(BODY_KEY)
        if not recorded:
            return "unsealed"
        return "sealed" if recorded == self.computed_body else "edited"

    def source_builds(self) -> list[str]:
        """``name==version`` of each package the lock records as built from source."""
        value = self.header.get("source-builds", "none")
        return [] if value in ("", "none") else [item.strip() for item in value.split(",")]

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

    def pure_python(self) -> set[str]:
        """The packages (canonical names) the cell installs from pure-Python wheels only."""
        return {key for key, package in self.packages.items() if package.pure}

    def chain(self, name: str) -> list[str]:
        """The shortest path from ``name`` up to a requirement file that asked for it.

        ``["triton", "torch", "sentence-transformers", "requirements/full.in"]``. A
        requester the lock does not pin is the project itself (uv read its metadata from
        its folder, and the lock leaves it out): the chain ends there, ``[..., "mysvc"]``.
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
                if is_source(parent) or canonicalize_name(parent) not in self.packages:
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


_TOOL_FIELD = re.compile(r'^([a-z0-9-]+)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$')


def parse_lock_header(text: str) -> Lock:
    """A lock's header fields and body digest only, without its packages: what freshness
    needs, at a fraction of a full TOML parse. An edit anywhere still breaks the digest."""
    if not is_pylock(text):
        return parse_lock(text)
    start = text.rfind("\n[tool.noxgrid]\n")
    header: dict[str, str] = {}
    if start >= 0:
        for line in text[start:].splitlines()[2:]:
            if line.startswith("["):
                break
            match = _TOOL_FIELD.match(line)
            if match:
                header[match.group(1)] = _unquoted(match.group(2))
    return Lock(header=header, computed_body=body_digest(text))


def _unquoted(value: str) -> str:
    """A TOML basic string's content (noxgrid writes them with JSON's escapes)."""
    if "\\" not in value:
        return value
    try:
        return str(json.loads(f'"{value}"'))
    except ValueError:
        return value


def parse_lock(text: str) -> Lock:
    """Parse a lock: a PEP 751 pylock, or (older) uv's hash-pinned requirements output
    with split ``# via`` annotations under noxgrid's comment header."""
    if is_pylock(text):
        try:
            fields, entries = read_pylock(text)
        except LockUnreadable:
            # Broken by hand: refused as edited (or unsealed), never half-read.
            recorded = re.search(rf'^{BODY_KEY}\s*=\s*"([0-9a-f]*)"', text, re.MULTILINE)
            fields = {BODY_KEY: recorded.group(1)} if recorded else {}
            return Lock(header=fields, computed_body=body_digest(text))
        packages: dict[str, LockedPackage] = {
            canonicalize_name(entry["name"]): LockedPackage(
                name=entry["name"],
                version=entry["version"] or (_url_version(entry["url"]) if entry["url"] else ""),
                hashes=tuple(entry["hashes"]),
                via=tuple(entry["via"]),
                url=entry["url"],
                index=entry["index"],
                wheels=tuple(entry["wheels"]),
            )
            for entry in entries
        }
        return Lock(header=fields, packages=packages, computed_body=body_digest(text))
    header: dict[str, str] = {}
    lines = text.splitlines()
    at = 0
    for at, raw in enumerate(lines):  # noqa: B007 - where the header ends is the point
        line = raw.rstrip()
        match = _HEADER.match(line)
        if match:
            header[match.group(1)] = match.group(2).strip()
        elif line and not line.startswith("#"):
            break
    else:
        at = len(lines)
    reader = _BodyReader()
    for raw in lines[at:]:
        reader.feed(raw.rstrip())
    return Lock(header=header, packages=reader.done(), computed_body=body_digest(text))


class _BodyReader:
    """uv's output, one line at a time: pins, their hashes, ``# via`` and ``# from``."""

    def __init__(self) -> None:
        self.packages: dict[str, LockedPackage] = {}
        self.current: dict[str, Any] | None = None
        self.via_block = False

    def feed(self, line: str) -> None:
        stripped = line.strip()
        if not stripped:
            return
        if stripped.startswith("--hash="):
            if self.current is not None:
                self.current["hashes"].append(stripped.removeprefix("--hash=").rstrip(" \\"))
        elif stripped.startswith("#"):
            self._note(stripped.lstrip("#").strip())
        else:
            pin = _PIN.match(stripped)
            if pin and not line.startswith((" ", "\t")):
                self._pin(pin, stripped)

    def _note(self, note: str) -> None:
        current = self.current
        if current is None:
            return
        if note.startswith("from ") and "://" in note:
            current["index"] = note[5:].strip().rstrip("/")
            self.via_block = False
        elif note == "via":
            self.via_block = True
        elif note.startswith("via "):
            current["via"].append(note[4:].strip())
            self.via_block = False
        elif self.via_block and note:
            current["via"].append(note)

    def _pin(self, pin: re.Match[str], stripped: str) -> None:
        self.done()
        self.via_block = False
        url = pin.group(4) if pin.group(3) == "@" else None
        self.current = {
            "name": pin.group(1),
            "version": _url_version(url) if url else pin.group(4),
            "hashes": [
                part.removeprefix("--hash=")
                for part in stripped.split()
                if part.startswith("--hash=")
            ],
            "via": [],
            "url": url,
            "index": None,
        }

    def done(self) -> dict[str, LockedPackage]:
        """The packages read so far (the one being read included)."""
        current = self.current
        if current is not None:
            self.packages[canonicalize_name(current["name"])] = LockedPackage(
                name=current["name"],
                version=current["version"],
                hashes=tuple(current["hashes"]),
                via=tuple(current["via"]),
                url=current["url"],
                index=current["index"],
            )
        return self.packages


def _url_version(url: str) -> str:
    """The version in a wheel's or sdist's file name at the end of ``url`` ("" if none)."""
    name = url.split("#", 1)[0].split("?", 1)[0].rsplit("/", 1)[-1]
    try:
        if name.endswith(".whl"):
            return str(parse_wheel_filename(name)[1])
        if name.endswith((".tar.gz", ".zip")):
            return str(parse_sdist_filename(name)[1])
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        pass
    return ""


def lock_title(cell: Cell) -> list[str]:
    """The comment lines on top of a lock."""
    return [
        f"Lock of cell {cell.id}, written by noxgrid: do not edit by hand.",
        f"Refresh: noxgrid lock {cell.id}",
    ]


def preferences(lock: Lock) -> str:
    """The pins of ``lock`` as requirements, for uv to prefer when it resolves again."""
    lines = [
        f"{p.name} @ {p.url}" if p.url else f"{p.name}=={p.version}"
        for p in lock.packages.values()
        if p.url or p.version
    ]
    return "\n".join(lines) + "\n"


def pin_changes(old: Lock, new: Lock) -> list[str]:
    """``name old -> new`` for each pin that differs between two locks (added, moved, gone)."""
    before, after = old.packages, new.packages
    moved = sorted(
        f"{after[k].name} {before[k].version if k in before else '(new)'} -> {after[k].version}"
        for k in after
        if k not in before or before[k].version != after[k].version
    )
    return moved + sorted(
        f"{before[k].name} {before[k].version} -> (gone)" for k in before if k not in after
    )


def current_lock(config: Config, cell: Cell) -> Lock | None:
    """The cell's lock as it is (or the older .txt lock it replaces); None when there is
    none, or it cannot be read."""
    for path in (lock_path(config, cell), legacy_lock_path(config, cell)):
        if path.is_file():
            try:
                return parse_lock(path.read_text(encoding="utf-8"))
            except (LockUnreadable, UnicodeDecodeError, OSError):
                return None
    return None
