"""A small reader of the YAML that CI and compose files are written in. Pure.

noxgrid has no YAML library at run time, and its messages need each value's
line. This reads the block structure those files use: mappings, sequences
(``- item``, ``- key: value`` items), flow lists and mappings on one line or
several (``[a, "b"]``, ``{a: b}``), quoted and plain scalars, block scalars
(``|``, ``>``) and comments. Anchors, aliases, tags and multi-document streams
are not read: their values stay plain text. Every value is a :class:`Node`
with its 1-based line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

_KEY = re.compile(r"""^("[^"]*"|'[^']*'|[^\s#'"{\[][^#]*?)\s*:(?:\s+(.*))?$""")
_BLOCK = re.compile(r"^[|>][-+]?\d*$")


@dataclass
class Node:
    """A value of the file (text, a list of nodes or a mapping of them) and its line."""

    value: str | list[Node] | dict[str, Node]
    line: int
    # A block scalar's lines each keep their own line number: (line, text).
    lines: list[tuple[int, str]] = field(default_factory=list)

    def get(self, *keys: str) -> Node | None:
        """The node at ``keys`` below this mapping, or None."""
        node: Node | None = self
        for key in keys:
            if node is None or not isinstance(node.value, dict):
                return None
            node = node.value.get(key)
        return node

    @property
    def text(self) -> str | None:
        """The scalar's text (None for a list or a mapping)."""
        return self.value if isinstance(self.value, str) else None

    def items(self) -> list[Node]:
        """A list's items; a scalar as a list of one; a mapping as nothing."""
        if isinstance(self.value, list):
            return self.value
        return [self] if isinstance(self.value, str) else []

    def mapping(self) -> dict[str, Node]:
        """A mapping's entries (empty for anything else)."""
        return self.value if isinstance(self.value, dict) else {}

    def text_lines(self) -> list[tuple[int, str]]:
        """(line, text) of each line of a scalar: a block scalar's own lines, else one."""
        if self.lines:
            return self.lines
        return [(self.line, self.value)] if isinstance(self.value, str) else []


@dataclass
class _Line:
    number: int
    indent: int
    text: str


def _strip_comment(text: str) -> str:
    quote = None
    for index, char in enumerate(text):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"" and (index == 0 or text[index - 1] in " \t[{,:-"):
            quote = char
        elif char == "#" and (index == 0 or text[index - 1] in " \t"):
            return text[:index].rstrip()
    return text.rstrip()


def unquote(text: str) -> str:
    """A scalar's text without its quotes."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _scan(text: str) -> Iterator[tuple[str, int, bool]]:
    """Each character with the bracket depth after it and whether it is outside quotes."""
    depth, quote = 0, None
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        yield char, depth, quote is None and char not in "'\""


def _split_flow(text: str) -> list[str]:
    parts, current = [], ""
    for char, depth, plain in _scan(text):
        if char == "," and depth == 0 and plain:
            parts.append(current)
            current = ""
            continue
        current += char
    if current.strip():
        parts.append(current)
    return [part.strip() for part in parts]


def _scalar(text: str, line: int) -> Node:
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        return Node([_scalar(part, line) for part in _split_flow(text[1:-1])], line)
    if text.startswith("{") and text.endswith("}"):
        found: dict[str, Node] = {}
        for part in _split_flow(text[1:-1]):
            key, _, value = part.partition(":")
            found[unquote(key)] = _scalar(value, line)
        return Node(found, line)
    return Node(unquote(text), line)


class _Parser:
    def __init__(self, text: str) -> None:
        self.raw = text.splitlines()
        self.lines: list[_Line] = []
        for number, raw in enumerate(self.raw, start=1):
            stripped = _strip_comment(raw)
            if stripped.strip() and stripped.strip() not in ("---", "..."):
                self.lines.append(_Line(number, len(stripped) - len(stripped.lstrip()), stripped))
        self.at = 0

    def block(self, indent: int) -> Node | None:
        """The node whose first line is indented at least ``indent``."""
        if self.at >= len(self.lines) or self.lines[self.at].indent < indent:
            return None
        first = self.lines[self.at]
        if first.text.lstrip().startswith("- ") or first.text.strip() == "-":
            return self.sequence(first.indent)
        if _KEY.match(first.text.strip()):
            return self.mapping(first.indent)
        self.at += 1
        return _scalar(self.flow(first.text.strip(), first.indent - 1), first.number)

    def flow(self, text: str, indent: int) -> str:
        """A flow collection (or a plain scalar) continued on the following lines that
        are indented more than ``indent``, joined."""
        while self.at < len(self.lines) and self.lines[self.at].indent > indent:
            following = self.lines[self.at].text.strip()
            if text[:1] in "[{" and _balance(text) <= 0:
                break
            if text[:1] not in "[{'\"" and following.startswith("- "):
                break
            text += " " + following
            self.at += 1
        return text

    def sequence(self, indent: int) -> Node:
        items: list[Node] = []
        line = self.lines[self.at].number
        while self.at < len(self.lines):
            current = self.lines[self.at]
            content = current.text.strip()
            if current.indent > indent:  # a stray line: not this list's structure
                self.at += 1
                continue
            if current.indent != indent or not (content.startswith("- ") or content == "-"):
                break
            rest = content[1:].lstrip()
            if not rest:
                self.at += 1
                items.append(self.block(indent + 1) or Node("", current.number))
                continue
            column = indent + (len(content) - len(rest))
            self.lines[self.at] = _Line(current.number, column, " " * column + rest)
            items.append(self.block(column) or Node("", current.number))
        return Node(items, line)

    def mapping(self, indent: int) -> Node:
        found: dict[str, Node] = {}
        line = self.lines[self.at].number
        while self.at < len(self.lines):
            current = self.lines[self.at]
            match = _KEY.match(current.text.strip())
            if current.indent > indent:  # a stray line: not this mapping's structure
                self.at += 1
                continue
            if current.indent != indent or match is None:
                break
            key, value = unquote(match.group(1)), (match.group(2) or "").strip()
            self.at += 1
            if _BLOCK.match(value):
                found[key] = self.block_scalar(indent, current.number, value[0] == ">")
            elif value:
                found[key] = _scalar(self.flow(value, indent), current.number)
            else:
                child = self.block(indent + 1)
                if child is None and self._sequence_at(indent):
                    child = self.sequence(indent)  # "key:\n- item": a list at the key's column
                found[key] = child or Node("", current.number)
                found[key].line = current.number
        return Node(found, line)

    def _sequence_at(self, indent: int) -> bool:
        if self.at >= len(self.lines):
            return False
        current = self.lines[self.at]
        return current.indent == indent and current.text.strip().startswith("-")

    def block_scalar(self, indent: int, number: int, folded: bool) -> Node:
        """``|`` and ``>`` blocks: the raw lines indented more than the key."""
        taken: list[tuple[int, str]] = []
        start = number  # the raw index of the line after the key
        while start < len(self.raw):
            raw = self.raw[start]
            if raw.strip() and len(raw) - len(raw.lstrip()) <= indent:
                break
            taken.append((start + 1, raw))
            start += 1
        while self.at < len(self.lines) and self.lines[self.at].number <= start:
            self.at += 1
        while taken and not taken[-1][1].strip():
            taken.pop()
        width = min((len(t) - len(t.lstrip()) for _, t in taken if t.strip()), default=0)
        lines = [(n, t[width:]) for n, t in taken]
        joiner = " " if folded else "\n"
        return Node(joiner.join(t for _, t in lines), number, lines=lines)


def _balance(text: str) -> int:
    depth = 0
    for step in _scan(text):
        depth = step[1]
    return depth


def parse(text: str) -> Node:
    """The document's top node (an empty mapping for an empty document)."""
    parser = _Parser(text)
    return parser.block(0) or Node({}, 1)


def read(path: Path) -> Node | None:
    """The document of ``path``, or None when it cannot be read."""
    try:
        return parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
