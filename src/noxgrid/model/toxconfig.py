"""tox's configuration as noxgrid reads it: where it is, and which of its environments
runs the project's test suite.

Pure: reads files. tox's configuration is in ``tox.ini``, ``setup.cfg`` (``[tox:tox]``)
or ``pyproject.toml``'s ``legacy_tox_ini``. A project's suite is often not in the bare
``[testenv]`` but in a named one (``[testenv:mlserver]`` with its own ``commands``,
``deps`` and ``setenv``); a named environment inherits what it does not set from
``[testenv]``, as tox does. The environment chosen is the first, in ``envlist`` order
then in the file's, whose commands run pytest; else the bare ``[testenv]``.
"""

from __future__ import annotations

import configparser
import re
import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# A command that runs pytest: ``pytest``, ``py.test``, ``python -m pytest``, a wrapper's.
_RUNS_PYTEST = re.compile(r"(?:^|[\s/])(?:py\.?test)(?:\s|$)")


@dataclass(frozen=True)
class ToxSection:
    """One tox test environment: its section's name and its settings, ``[testenv]``'s
    filled in where it sets nothing of its own."""

    section: str
    settings: Mapping[str, str]

    def get(self, key: str, default: str = "") -> str:
        """A setting's raw value."""
        return self.settings.get(key, default)


def tox_sources(root: Path) -> Iterator[tuple[str, str, int]]:
    """(file, text, line offset) of each place tox's configuration can be: the offset is
    the number of the file's lines before the text (``legacy_tox_ini`` in pyproject.toml)."""
    for name in ("tox.ini", "setup.cfg"):
        path = root / name
        if path.is_file():
            yield name, path.read_text(encoding="utf-8", errors="replace"), 0
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        text = pyproject.read_text(encoding="utf-8", errors="replace")
        match = re.search(r"legacy_tox_ini\s*=\s*(?:\"\"\"|''')(.*?)(?:\"\"\"|''')", text, re.S)
        if match:
            yield "pyproject.toml", match.group(1), text[: match.start(1)].count("\n")


def _envlist(parser: configparser.RawConfigParser) -> list[str]:
    """The names ``envlist`` (or ``env_list``) gives, in order."""
    for section in ("tox", "tox:tox"):
        if section in parser:
            value = parser[section].get("envlist") or parser[section].get("env_list") or ""
            return [name for name in re.split(r"[,\s]+", value) if name]
    return []


def tox_environments(text: str) -> list[ToxSection]:
    """Every test environment of a tox configuration: ``envlist``'s first (an environment
    without a section of its own is ``[testenv]``), then the other named sections, then
    ``[testenv]``; each once."""
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return []
    base = dict(parser["testenv"]) if "testenv" in parser else {}
    named = [s.split(":", 1)[1].strip() for s in parser.sections() if s.startswith("testenv:")]
    order = [name for name in _envlist(parser) if name in named or base]
    order += [name for name in named if name not in order]
    found: list[ToxSection] = []
    seen: set[str] = set()
    for name in order:
        section = f"testenv:{name}" if name in named else "testenv"
        if section in seen:
            continue
        seen.add(section)
        own = dict(parser[section]) if section != "testenv" else {}
        found.append(ToxSection(f"[{section}]", {**base, **own}))
    if base and "testenv" not in seen:
        found.append(ToxSection("[testenv]", base))
    return found


def runs_pytest(env: ToxSection) -> bool:
    """True when one of the environment's commands runs pytest."""
    return any(_RUNS_PYTEST.search(command) for command in joined(env.get("commands")))


def tox_testenv(text: str) -> ToxSection | None:
    """The environment that runs the project's tests: the first that runs pytest, else
    the bare ``[testenv]``; None when there is neither."""
    environments = tox_environments(text)
    for env in environments:
        if runs_pytest(env):
            return env
    return next((env for env in environments if env.section == "[testenv]"), None)


def setenv(env: ToxSection) -> dict[str, str]:
    """tox's ``setenv`` (or ``set_env``): KEY = value per line (factor prefixes removed)."""
    found: dict[str, str] = {}
    value = env.get("setenv") or env.get("set_env")
    for line in joined(value.splitlines() if value else []):
        key, sep, text = line.partition("=")
        if sep and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key.strip()):
            found[key.strip()] = text.strip()
    return found


def tox_commands(root: Path) -> Iterator[tuple[str, int, str, dict[str, str]]]:
    """(file, line, command, setenv) of each command of the environment that runs the
    project's tests."""
    for name, text, _ in tox_sources(root):
        env = tox_testenv(text)
        if env is None or not env.get("commands"):
            continue
        lines = text.splitlines()
        start = next((i for i, line in enumerate(lines) if line.strip() == env.section), 0)
        variables = setenv(env)
        for command in joined(env.get("commands").splitlines()):
            yield name, _line_of(lines, start, command), command, variables


def _line_of(lines: Sequence[str], start: int, command: str) -> int:
    """The 1-based line where ``command`` (continuations joined) begins, from ``start`` on
    (its section's header); 0 where it cannot be found."""
    for index in range(start, len(lines)):
        first = lines[index].strip().rstrip("\\").strip()
        first = re.sub(r"^[A-Za-z_][\w-]*\s*=\s*", "", first)  # commands = pytest
        first = re.sub(r"^[\w.,!{}-]+:\s+", "", first)
        if first and not first.startswith(("#", "[")) and command.startswith(first):
            return index + 1
    return 0


def joined(lines: Sequence[str] | str) -> Iterator[str]:
    """tox's command lines: continuations joined, comments and factor prefixes
    (``py311: ``) removed."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    current = ""
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        current = f"{current} {line[:-1]}" if line.endswith("\\") else f"{current} {line}"
        if not line.endswith("\\"):
            yield re.sub(r"^[\w.,!{}-]+:\s+", "", current.strip())
            current = ""


def tox_tokens(
    command: str, variables: Mapping[str, str], posargs: Sequence[str] | None
) -> list[str]:
    """A tox command's words: ``{posargs}`` is what the workflow passes after ``--``
    (else its default), ``{env:KEY:default}`` what ``setenv`` sets."""
    given = shlex.join(posargs) if posargs is not None else None
    command = re.sub(
        r"\{posargs(?::((?:[^{}]|\{[^{}]*\})*))?\}",
        lambda m: given if given is not None else (m.group(1) or ""),
        command,
    )
    command = re.sub(
        r"\{env:([A-Za-z_][A-Za-z0-9_]*)(?::([^{}]*))?\}",
        lambda m: variables.get(m.group(1), m.group(2) or ""),
        command,
    )
    command = command.replace("{toxinidir}/", "").replace("{toxinidir}", ".")
    try:
        return shlex.split(command)
    except ValueError:
        return []
