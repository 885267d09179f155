"""The Python versions a project's own test configuration runs, each with its file:line:
tox's envlist (``py312``, ``py3{8,9,10}-tests``, ``py3.12``; in ``tox.ini``,
``setup.cfg``'s ``[tox:tox]`` or ``pyproject.toml``'s ``legacy_tox_ini``) and the
Python versions its hand-written GitHub workflows set up.

Pure: reads files. ``noxgrid init`` caps the python axis at the newest of them where
the project states no version classifiers: ``requires-python = ">=3.8"`` allows
every later Python, but the project has tested only up to the newest one it runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from noxgrid.model.ci_jobs import read_jobs
from noxgrid.model.toxconfig import tox_sources

# py38, py312-tests, py3.12 (not pypy310: the name must start the token).
_TOX_PYTHON = re.compile(r"(?<![\w.])py3\.?(\d{1,2})(?!\d)")
_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
_ENVLIST = re.compile(r"^(env_?list)\s*=\s*(.*)$")
_LIMIT = 512  # brace expansions kept per line: an envlist is never larger


@dataclass(frozen=True)
class PythonTested:
    """A Python version the project's tests run, and where that is written."""

    version: str
    where: str

    @property
    def key(self) -> tuple[int, ...]:
        return version_key(self.version)


def version_key(version: str) -> tuple[int, ...]:
    """``3.12`` -> (3, 12), for ordering."""
    return tuple(int(part) for part in version.split("."))


def expand_braces(text: str) -> list[str]:
    """tox's brace expansion: ``py3{8,9}{,-x}`` -> py38, py38-x, py39, py39-x."""
    start = text.find("{")
    depth = 0
    for end in range(max(start, 0), len(text)):
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        if start >= 0 and depth == 0:
            break
    else:
        return [text]
    parts, level, current = [], 0, ""
    for char in text[start + 1 : end]:
        level += {"{": 1, "}": -1}.get(char, 0)
        if char == "," and level == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    found: list[str] = []
    for part in parts:
        found += expand_braces(text[:start] + part + text[end + 1 :])
        if len(found) > _LIMIT:
            break
    return found[:_LIMIT]


def _envlist_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line of the ``[tox]`` section's envlist value."""
    section, inside = "", False
    for number, line in enumerate(text.splitlines(), 1):
        header = _SECTION.match(line)
        if header:
            section, inside = header.group(1).strip(), False
            continue
        if section not in ("tox", "tox:tox"):
            continue
        match = _ENVLIST.match(line.strip()) if not line[:1].isspace() else None
        if match:
            inside = True
            yield number, match.group(2)
        elif inside and line[:1].isspace():
            yield number, line
        elif line.strip():
            inside = False


def tox_pythons(root: Path) -> list[PythonTested]:
    """The Python versions tox's envlist names, each at its file:line."""
    found: list[PythonTested] = []
    for name, text, offset in tox_sources(root):
        for number, line in _envlist_lines(text):
            versions = {
                f"3.{match.group(1)}"
                for expanded in expand_braces(line.split("#", 1)[0])
                for match in _TOX_PYTHON.finditer(expanded)
            }
            found += [
                PythonTested(v, f"{name}:{number + offset}")
                for v in sorted(versions, key=version_key)
            ]
    return found


def ci_pythons(root: Path) -> list[PythonTested]:
    """The Python versions the hand-written workflows set up, each at its file:line."""
    return [
        PythonTested(stated.value, stated.where(root))
        for job in read_jobs(root)
        for stated in job.pythons
        if re.fullmatch(r"3\.\d{1,2}", stated.value)
    ]


def newest_tested(root: Path) -> PythonTested | None:
    """The newest Python the project's own tox envlist or CI matrix runs (the first
    place it is written where several name it), or None when neither names one."""
    tested = [*tox_pythons(root), *ci_pythons(root)]
    if not tested:
        return None
    top = max(t.key for t in tested)
    return next(t for t in tested if t.key == top)
