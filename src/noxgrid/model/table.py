"""One TOML table of the declaration being read: typed getters, key paths, unknown keys.

A problem is recorded (key path, problem, fix) in a list every table of one file
shares, and the getter answers its default, so that reading goes on and the file's
every problem is reported at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from noxgrid.model.config import _VERSION
from noxgrid.model.pythonversions import nox_clash, version_problem

T = TypeVar("T")


def type_name(value: object) -> str:
    return {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "a boolean",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


class Table:
    """One TOML table being read: typed getters, key paths and unknown-key checks.

    A problem is recorded (key path, problem, fix) in the list every table of
    one file shares, and the getter answers its default, so that reading goes
    on and the file's every problem is reported at once.
    """

    def __init__(
        self, data: object, path: str, file: Path, problems: list[tuple[str, str, str]]
    ) -> None:
        self.problems = problems
        self.path = path
        self.file = file
        self.seen: set[str] = set()
        if not isinstance(data, Mapping):
            problems.append(
                (
                    path,
                    f"must be a table, got {type_name(data)}",
                    f"write it as a [{path}] section",
                )
            )
            data = {}
        self.data: Mapping[str, Any] = data

    def fail(self, key: str, problem: str, fix: str) -> None:
        """Record a problem with ``key`` of this table."""
        self.problems.append((f"{self.path}.{key}", problem, fix))

    def names(self) -> list[str]:
        self.seen.update(self.data)
        return list(self.data)

    def raw(self, key: str, default: object) -> Any:
        self.seen.add(key)
        return self.data.get(key, default)

    def _typed(
        self, key: str, default: T, check: Callable[[object], bool], expected: str, example: str
    ) -> T:
        value = self.raw(key, default)
        if value is not default and not check(value):
            self.fail(
                key, f"expected {expected}, got {type_name(value)}", f"write {key} = {example}"
            )
            return default
        return value  # type: ignore[no-any-return]

    def string(self, key: str, default: str) -> str:
        return self._typed(key, default, lambda v: isinstance(v, str), "a string", '"..."')

    def optional_string(self, key: str, default: str | None) -> str | None:
        return self._typed(key, default, lambda v: isinstance(v, str), "a string", '"..."')

    def boolean(self, key: str, default: bool) -> bool:
        return self._typed(key, default, lambda v: isinstance(v, bool), "a boolean", "true")

    def integer(self, key: str, default: int) -> int:
        return self._typed(
            key,
            default,
            lambda v: isinstance(v, int) and not isinstance(v, bool),
            "an integer",
            "8000",
        )

    def str_list(self, key: str, default: tuple[str, ...] | None) -> tuple[str, ...]:
        value = self._typed(
            key,
            default,
            lambda v: isinstance(v, list) and all(isinstance(item, str) for item in v),
            "a list of strings",
            '["..."]',
        )
        return tuple(value or ())

    def str_or_list(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.raw(key, default)
        if isinstance(value, str):
            return (value,)
        return self.str_list(key, default)

    def str_map(self, key: str) -> dict[str, str]:
        value: Mapping[str, str] = self._typed(
            key,
            {},
            lambda v: isinstance(v, Mapping) and all(isinstance(x, str) for x in v.values()),
            "a table of strings",
            '{ NAME = "value" }',
        )
        return dict(value)

    def versions(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.raw(key, list(default))
        if not isinstance(value, list):
            self.fail(
                key,
                f"expected a list of versions, got {type_name(value)}",
                f'write {key} = ["3.10", "3.11"]',
            )
            return default
        if not value:
            self.fail(key, "the axis is empty", f'list at least one version: {key} = ["3.11"]')
            return default
        good: list[str] = []
        for item in value:
            if isinstance(item, float):
                self.fail(
                    key,
                    f"the version {item} is a number",
                    f'quote every version: {key} = ["3.9", "3.10", "3.11"] '
                    "(TOML reads 3.10 as the number 3.1)",
                )
            elif not isinstance(item, str) or not _VERSION.match(item):
                self.fail(
                    key,
                    f"{item!r} is not a Python version",
                    f'use "3.X" strings: {key} = ["3.10", "3.11"]',
                )
            elif problem := version_problem(item):
                self.fail(key, problem, python_fix(key))
            elif clash := nox_clash(item, good):
                self.fail(
                    key,
                    f"nox cannot tell '{item}' from '{clash}' (it reads session names as "
                    "Python, where 3.10 is the number 3.1)",
                    python_fix(key),
                )
            elif item in good:
                self.fail(key, f"the version {item} is listed twice", "list each version once")
            else:
                good.append(item)
        return tuple(good)

    def table(self, key: str) -> Table:
        value = self.raw(key, {})
        if not isinstance(value, Mapping):
            self.fail(
                key,
                f"expected a table, got {type_name(value)}",
                f"write it as a [{self.path}.{key}] section",
            )
            value = {}
        return Table(value, f"{self.path}.{key}", self.file, self.problems)

    def done(self) -> None:
        """Record every key that no getter asked for (a typo, most often)."""
        for key in self.data:
            if key not in self.seen:
                known = sorted(self.seen)
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                self.fail(
                    key, "unknown key", f"{hint}known keys here: {', '.join(known) or '(none)'}"
                )


def python_fix(key: str) -> str:
    """The fix for a python value that cannot name a cell."""
    return (
        f'list the CPython minors the cells run, as "3.X" strings: {key} = ["3.10", "3.11"] '
        "(3.1 is not one: it is 3.10 with the 0 lost, or a Python of 2009)"
    )
