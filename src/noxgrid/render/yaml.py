"""A small YAML emitter for generated workflows, with one tested quoting rule. Pure.

GitHub reads workflows as YAML, where a plain scalar can mean something else
than it says: ``3.10`` is the number 3.1, ``on`` and ``yes`` are booleans to a
YAML 1.1 reader, ``a: b`` and ``x #y`` change the structure. A string is
written plain only when no YAML reader could take it for anything but that
string; otherwise it is double-quoted (JSON escaping, which YAML reads the
same). Multi-line strings are literal blocks. ``Commented`` adds a trailing
comment (the version beside a pinned commit). The tests parse every document
this writes with a real YAML parser and compare it with the model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Words a YAML 1.1 or 1.2 reader takes for booleans or null, in any case.
_SPECIAL = {
    "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", "",
}  # fmt: skip
_NUMBER = re.compile(
    r"^[-+]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?$|^0[xob][0-9a-fA-F_]+$|^[-+]?\.(inf|nan)$",
    re.IGNORECASE,
)
# A timestamp or a base-60 number (YAML 1.1): 12:30, 2026-11-30.
_TIMEISH = re.compile(r"^\d+(:\d+)+$|^\d{4}-\d\d-\d\d")
_PLAIN_START = re.compile(r"^[A-Za-z_$./(]")
_SAFE = re.compile(r"^[A-Za-z0-9_$./(){}\[\]'\"!=&|,*<>+@ :#;%?~^\\-]*$")
# Items a flow sequence ([a, b]) may hold as they are.
_FLOW_ITEM = re.compile(r"^[A-Za-z0-9_.*/-]+$")


@dataclass(frozen=True)
class Commented:
    """A scalar with a trailing ``# comment``."""

    value: str
    comment: str


def plain_is_safe(text: str) -> bool:
    """True when ``text`` can be written unquoted and still read back as this string."""
    if text.lower() in _SPECIAL or _NUMBER.match(text) or _TIMEISH.match(text):
        return False
    if text != text.strip() or not _PLAIN_START.match(text) or not _SAFE.match(text):
        return False
    if ": " in text or " #" in text or text.endswith(":"):
        return False
    # Flow indicators only inside a ${{ }} expression, where GitHub reads them first.
    outside = re.sub(r"\$\{\{.*?\}\}", "", text)
    return not any(char in outside for char in "[]{},")


def scalar(value: object) -> str:
    """One scalar as YAML text (not a multi-line string)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise TypeError(f"cannot write {type(value).__name__} as a YAML scalar")
    return value if plain_is_safe(value) else json.dumps(value)


def _key(key: str) -> str:
    return scalar(key)


def emit(document: Mapping[str, object]) -> str:
    """The YAML text of ``document`` (mappings keep their order)."""
    lines: list[str] = []
    _mapping(document, 0, lines)
    return "\n".join(lines) + "\n"


def _value_inline(value: object) -> str | None:
    """The value on the key's own line, or None when it needs lines of its own."""
    if isinstance(value, Commented):
        return f"{scalar(value.value)}  # {value.comment}"
    if isinstance(value, str) and "\n" in value:
        return None
    if isinstance(value, Mapping):
        return "{}" if not value else None
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        if (
            all(isinstance(item, str) and _FLOW_ITEM.match(item) for item in value)
            and len(value) <= 6
        ):
            items = ", ".join(scalar(item) for item in value)
            if len(items) < 60:
                return f"[{items}]"
        return None
    return scalar(value)


def _block(text: str, indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for line in text.rstrip("\n").split("\n"):
        lines.append(f"{pad}{line}" if line else "")


def _mapping(document: Mapping[str, object], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for key, value in document.items():
        inline = _value_inline(value)
        if inline is not None:
            lines.append(f"{pad}{_key(key)}: {inline}")
        elif isinstance(value, str):
            lines.append(f"{pad}{_key(key)}: |")
            _block(value, indent + 2, lines)
        elif isinstance(value, Mapping):
            lines.append(f"{pad}{_key(key)}:")
            _mapping(value, indent + 2, lines)
        else:
            lines.append(f"{pad}{_key(key)}:")
            _sequence(value, indent + 2, lines)  # type: ignore[arg-type]


def _sequence(items: Sequence[object], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for item in items:
        if isinstance(item, Mapping) and item:
            first = len(lines)
            _mapping(item, indent + 2, lines)
            lines[first] = f"{pad}- {lines[first][indent + 2 :]}"
        elif isinstance(item, str) and "\n" in item:
            lines.append(f"{pad}- |")
            _block(item, indent + 4, lines)
        else:
            inline = _value_inline(item)
            lines.append(f"{pad}- {inline}")


def plain(document: object) -> object:
    """The model as a YAML parser would read it back: comments dropped."""
    if isinstance(document, Commented):
        return document.value
    if isinstance(document, Mapping):
        return {key: plain(value) for key, value in document.items()}
    if isinstance(document, list | tuple):
        return [plain(item) for item in document]
    return document
