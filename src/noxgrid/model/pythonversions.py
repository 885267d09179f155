"""Which python axis values can name a cell: a real CPython 3 minor that uv can target,
written as "3.X", and that nox can tell from every other one.

nox matches a session name by parsing it as a Python expression (``ast.parse``), so in
``ci-lean-3.10(cpu)`` the version is the number 3.1: "3.1" and "3.10" (or "3.2" and
"3.20") select each other's sessions. Pure.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

# uv targets nothing older than 3.6; 3.16 is the newest minor in development (2026-12):
# raise NEWEST_MINOR with each October release.
OLDEST_MINOR, NEWEST_MINOR = 6, 16


def version_problem(version: str) -> str | None:
    """Why ``version`` ("3.X") is not a CPython minor a cell can run (None: it is one)."""
    major, _, minor = version.partition(".")
    if major != "3" or not minor.isdigit():
        return f"'{version}' is not a Python version"
    if minor != str(int(minor)):
        return f"'{version}' has a leading zero (nox reads it as 3.{int(minor)})"
    if not OLDEST_MINOR <= int(minor) <= NEWEST_MINOR:
        return (
            f"'{version}' is not a CPython minor a cell can run "
            f"(3.{OLDEST_MINOR} to 3.{NEWEST_MINOR})"
        )
    return None


def nox_key(version: str) -> str:
    """How nox compares ``version`` inside a session name: as the Python literal it parses."""
    try:
        return ast.dump(ast.parse(version))
    except SyntaxError:
        return version


def nox_clash(version: str, others: Sequence[str]) -> str | None:
    """The value of ``others`` that nox cannot tell from ``version``, or None."""
    for other in others:
        if other != version and nox_key(other) == nox_key(version):
            return other
    return None
