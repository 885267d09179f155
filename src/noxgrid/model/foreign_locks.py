"""The pins of the lock file a project already keeps for another tool: ``poetry.lock``,
``uv.lock``, ``pdm.lock`` or a PEP 751 ``pylock.toml``.

Pure: reads files, starts no process. A cell that has no noxgrid lock of its own yet
resolves with these pins as uv's preferences, so its first lock holds what the
project already tests with (a pickled model needs the scikit-learn it was made with).
Only registry pins are read: the project itself, editable, path, git and URL entries
are no pins an index can serve.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.markers import InvalidMarker, Marker, UndefinedEnvironmentName
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

# In the order they are looked for: the first one found gives the pins.
LOCK_FILES = ("poetry.lock", "uv.lock", "pdm.lock", "pylock.toml")


@dataclass(frozen=True)
class ForeignPin:
    """One pin of another tool's lock, and where it is written."""

    name: str
    version: str
    file: str
    line: int
    # Where the lock pins it only for some environments (a forked resolution).
    marker: str | None = None


@dataclass(frozen=True)
class ForeignLock:
    """Another tool's lock: its file and its registry pins."""

    file: str
    pins: tuple[ForeignPin, ...]

    def versions(self) -> dict[str, str]:
        """Canonical name -> version (the last pin of a name wins)."""
        return {canonicalize_name(pin.name): pin.version for pin in self.pins}


def _entry_lines(text: str, header: str) -> list[int]:
    """The line number of each ``[[header]]`` array-of-tables entry, in order."""
    wanted = f"[[{header}]]"
    return [
        number
        for number, line in enumerate(text.splitlines(), start=1)
        if line.split("#", 1)[0].strip() == wanted
    ]


def _pins(
    text: str,
    file: str,
    header: str,
    registry: Callable[[Mapping[str, Any]], bool],
    marker: Callable[[Mapping[str, Any]], str | None],
    own: str | None,
) -> tuple[ForeignPin, ...]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return ()
    entries = document.get(header, [])
    if not isinstance(entries, list):
        return ()
    lines = _entry_lines(text, header)
    found = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            continue
        name, version = entry.get("name"), entry.get("version")
        if not isinstance(name, str) or not isinstance(version, str) or not registry(entry):
            continue
        if own is not None and canonicalize_name(name) == canonicalize_name(own):
            continue
        line = lines[index] if index < len(lines) else 0
        found.append(ForeignPin(name, version, file, line, marker(entry)))
    return tuple(found)


def _poetry_registry(entry: Mapping[str, Any]) -> bool:
    # [package.source] is only written for what PyPI does not serve (or another index).
    source = entry.get("source")
    return not isinstance(source, Mapping) or source.get("type") == "legacy"


def _uv_registry(entry: Mapping[str, Any]) -> bool:
    source = entry.get("source")
    return not isinstance(source, Mapping) or "registry" in source


def _uv_marker(entry: Mapping[str, Any]) -> str | None:
    markers = entry.get("resolution-markers")
    if not isinstance(markers, list) or not markers:
        return None
    return " or ".join(f"({m})" for m in markers if isinstance(m, str)) or None


def _pdm_registry(entry: Mapping[str, Any]) -> bool:
    return not any(key in entry for key in ("path", "url", "git", "editable", "ref"))


def _pylock_registry(entry: Mapping[str, Any]) -> bool:
    return not any(key in entry for key in ("vcs", "directory", "archive"))


def _marker_key(entry: Mapping[str, Any]) -> str | None:
    value = entry.get("marker")
    return value if isinstance(value, str) and value else None


def _no_marker(entry: Mapping[str, Any]) -> str | None:
    return None


def parse_poetry_lock(text: str, own: str | None = None) -> tuple[ForeignPin, ...]:
    """The registry pins of a ``poetry.lock``."""
    return _pins(text, "poetry.lock", "package", _poetry_registry, _no_marker, own)


def parse_uv_lock(text: str, own: str | None = None) -> tuple[ForeignPin, ...]:
    """The registry pins of a ``uv.lock`` (the project, editable and path sources left out)."""
    return _pins(text, "uv.lock", "package", _uv_registry, _uv_marker, own)


def parse_pdm_lock(text: str, own: str | None = None) -> tuple[ForeignPin, ...]:
    """The registry pins of a ``pdm.lock``."""
    return _pins(text, "pdm.lock", "package", _pdm_registry, _marker_key, own)


def parse_pylock(
    text: str, file: str = "pylock.toml", own: str | None = None
) -> tuple[ForeignPin, ...]:
    """The registry pins of a PEP 751 lock (``pylock.toml``, ``pylock.<name>.toml``)."""
    return _pins(text, file, "packages", _pylock_registry, _marker_key, own)


def _candidates(root: Path) -> Iterable[Path]:
    for name in LOCK_FILES:
        yield root / name
    yield from sorted(root.glob("pylock.*.toml"))


def read_foreign_lock(root: Path, own: str | None = None) -> ForeignLock | None:
    """The first lock of another tool in the project's folder that holds pins, or None."""
    for path in _candidates(root):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if "[tool.noxgrid]" in text:
            continue  # noxgrid's own lock (a locks folder at the project's root)
        if path.name == "poetry.lock":
            pins = parse_poetry_lock(text, own)
        elif path.name == "uv.lock":
            pins = parse_uv_lock(text, own)
        elif path.name == "pdm.lock":
            pins = parse_pdm_lock(text, own)
        else:
            pins = parse_pylock(text, path.name, own)
        if pins:
            return ForeignLock(path.name, pins)
    return None


def _applies(marker: str | None, environment: Mapping[str, str]) -> bool:
    if marker is None:
        return True
    try:
        return Marker(marker).evaluate(dict(environment))
    except (InvalidMarker, UndefinedEnvironmentName):
        return True  # a marker noxgrid cannot judge: uv weighs the preference itself


def cell_environment(python: str, platform: str) -> dict[str, str]:
    """The marker environment of a cell's target (python ``3.X`` on a Linux platform)."""
    machine = "aarch64" if "aarch64" in platform else "x86_64"
    return {
        "python_version": python,
        "python_full_version": f"{python}.0",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": machine,
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": "",
    }


def preferred_pins(lock: ForeignLock, python: str, platform: str) -> str:
    """The pins that apply to a cell, as requirement lines for uv to prefer (one per name)."""
    environment = cell_environment(python, platform)
    chosen: dict[str, ForeignPin] = {}
    for pin in lock.pins:
        if _applies(pin.marker, environment):
            chosen[canonicalize_name(pin.name)] = pin
    return "".join(f"{pin.name}=={pin.version}\n" for pin in chosen.values())


_REQUIREMENT_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")


def kept_pins(preferred: str, resolved: Mapping[str, str]) -> tuple[int, list[str]]:
    """(how many preferred pins the resolution kept, ``name old -> new`` of those it moved)."""
    kept, moved = 0, []
    for line in preferred.splitlines():
        match = _REQUIREMENT_NAME.match(line)
        if not match:
            continue
        name, version = match.groups()
        now = resolved.get(canonicalize_name(name))
        if now is None:
            continue
        if now == version:
            kept += 1
        else:
            moved.append(f"{name} {version} -> {now}")
    return kept, sorted(moved)
