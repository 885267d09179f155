"""Text from processes made safe for every report format. Pure.

A suite's output can hold anything: ANSI colour codes (``--color=yes`` in a
project's pytest configuration), other control characters, bytes that were
not UTF-8 (decoded to U+FFFD by the runner), lone surrogates. None of that may
break a report: JUnit XML must stay well-formed, JSON valid UTF-8, Markdown a
table, HTML a page.
"""

from __future__ import annotations

import json
import re
from typing import Any

# CSI (colours, cursor moves), OSC (titles, hyperlinks) and two-byte escapes.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
    r"|\x1b[@-Z\\-_]"  # two-byte escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
# C0 and C1 controls except tab and newline; lone surrogates; the two non-characters
# XML 1.0 forbids. A carriage return becomes a line break.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str) -> str:
    """``text`` without escape sequences or control characters (tabs and newlines kept)."""
    text = _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub(_replacement, text)


def _replacement(match: re.Match[str]) -> str:
    char = match.group(0)
    # A lone surrogate or an XML non-character stands for text that was there.
    return "\ufffd" if ord(char) >= 0xD800 else ""


def json_objects(output: str) -> list[dict[str, Any]]:
    """The JSON objects a process printed one per line among its other output, in order
    (lines that are not a JSON object are left out)."""
    found = []
    for line in output.splitlines():
        stripped = line.strip()
        if not stripped.startswith("{"):
            continue
        try:
            value = json.loads(stripped)
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found
