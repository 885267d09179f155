"""The environment a GitHub workflow's ``run:`` line sees: the ``env:`` of the workflow,
its job and its step, read from the file's lines (no YAML parser: noxgrid has none at
run time, and line numbers are what a message needs).

Pure: reads text. A variable set in several scopes takes the innermost one's value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_ENV_KEY = re.compile(r"^\s*(?:-\s+)?env:\s*(?:#.*)?$")
_ASSIGN = re.compile(r"^(\s*)([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*?)\s*$")
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


@dataclass(frozen=True)
class Setting:
    """One variable of an ``env:`` block: its value and line (1-based)."""

    value: str
    line: int
    indent: int  # the indentation of its ``env:`` key: deeper is more inner


def _unquote(value: str) -> str:
    value = re.sub(r"\s+#.*$", "", value) if not value.startswith(("'", '"')) else value
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def env_blocks(lines: Sequence[str]) -> list[tuple[int, int, dict[str, Setting]]]:
    """(line index of the ``env:`` key, its indentation, its variables) of each block."""
    blocks = []
    for index, line in enumerate(lines):
        match = _ENV_KEY.match(line)
        if not match:
            continue
        indent = line.index("env:")  # the key's column, also after a list item's "- "
        settings: dict[str, Setting] = {}
        for number in range(index + 1, len(lines)):
            text = lines[number]
            if not text.strip() or text.lstrip().startswith("#"):
                continue
            assign = _ASSIGN.match(text)
            if assign is None or len(assign.group(1)) <= indent:
                break
            settings[assign.group(2)] = Setting(_unquote(assign.group(3)), number + 1, indent)
        blocks.append((index, indent, settings))
    return blocks


def _in_scope(lines: Sequence[str], block: int, indent: int, command: int) -> bool:
    """True when no line between the block's ``env:`` key and the command leaves the
    mapping that holds that key (a line indented less: another step, job or the end)."""
    low, high = sorted((block, command))
    for text in lines[low + 1 : high]:
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        start = len(text) - len(text.lstrip())
        if start < indent:
            return False
    return True


def environment(lines: Sequence[str], command: int) -> dict[str, Setting]:
    """The variables a ``run:`` line at index ``command`` sees, innermost scope winning."""
    seen: dict[str, Setting] = {}
    for index, indent, settings in env_blocks(lines):
        if not _in_scope(lines, index, indent, command):
            continue
        for name, setting in settings.items():
            if name not in seen or setting.indent >= seen[name].indent:
                seen[name] = setting
    return seen


def expand(text: str, variables: Mapping[str, str]) -> tuple[str, list[str]]:
    """``text`` with ``$NAME`` and ``${NAME}`` replaced where known; the names replaced."""
    used: list[str] = []

    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name in variables:
            used.append(name)
            return variables[name]
        return match.group(0)

    return _VARIABLE.sub(one, text), used
