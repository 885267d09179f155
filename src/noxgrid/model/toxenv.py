"""What tox's test environment installs: its ``deps`` (requirements and ``-r`` files)
and ``extras``, read from ``tox.ini``, ``setup.cfg``'s ``[tox:tox]`` or
``pyproject.toml``'s ``legacy_tox_ini``.

Pure: reads files. ``noxgrid init`` takes them as the lean profile's test requirements
where the project has no test requirement file of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from noxgrid.model.toxconfig import tox_sources, tox_testenv


@dataclass(frozen=True)
class ToxEnv:
    """tox's ``[testenv]``: its requirements, the files it reads with ``-r``, its extras."""

    where: str
    requirements: tuple[str, ...]
    files: tuple[str, ...]
    extras: tuple[str, ...]


def _lines(value: str) -> list[str]:
    """A tox multi-line value's entries, factor prefixes (``py38: mock``) removed."""
    found = []
    for raw in value.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        found.append(re.sub(r"^[\w.,!{}-]+:\s+", "", line))
    return found


def tox_env(root: Path) -> ToxEnv | None:
    """The project's tox test environment, where it installs anything."""
    for name, text, _ in tox_sources(root):
        section = tox_testenv(text)
        if section is None:
            continue
        requirements: list[str] = []
        files: list[str] = []
        for entry in _lines(section.get("deps", "")):
            entry = entry.replace("{toxinidir}/", "").replace("{toxinidir}", ".")
            match = re.match(r"^(?:-r\s*|--requirement[=\s]+)(\S+)$", entry)
            if match:
                files.append(match.group(1))
            elif "{" not in entry and not entry.startswith("-"):
                requirements.append(entry)
        extras = [
            e for line in _lines(section.get("extras", "")) for e in re.split(r"[,\s]+", line) if e
        ]
        if requirements or files or extras:
            return ToxEnv(
                f"{name} {section.section}", tuple(requirements), tuple(files), tuple(extras)
            )
    return None
