"""The build matrix: cells, their expansion from a Config, and selection by pattern.

Pure: no process, no file system.
"""

from __future__ import annotations

import fnmatch
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from noxgrid.errors import ConfigError, SelectionError
from noxgrid.model.config import Config


@dataclass(frozen=True, kw_only=True, order=True)
class Cell:
    """One combination of the axes, e.g. ``3.10-cpu-lean``."""

    python: str
    accelerator: str
    profile: str

    @property
    def id(self) -> str:
        """The canonical id users select by: ``<python>-<accelerator>-<profile>``."""
        return f"{self.python}-{self.accelerator}-{self.profile}"

    @property
    def session(self) -> str:
        """The nox session that runs this cell: ``ci-<profile>-<python>(<accelerator>)``."""
        return f"ci-{self.profile}-{self.python}({self.accelerator})"

    def as_dict(self) -> dict[str, str]:
        """The axis values plus id and session name (for JSON output)."""
        return {
            "id": self.id,
            "python": self.python,
            "accelerator": self.accelerator,
            "profile": self.profile,
            "session": self.session,
        }

    def matches(self, values: Mapping[str, str]) -> bool:
        """True when every axis named in ``values`` has that value in this cell."""
        return all(getattr(self, axis) == value for axis, value in values.items())


def version_key(version: str) -> tuple[int, ...]:
    """``"3.10"`` -> ``(3, 10)``: Python versions in numeric order."""
    return tuple(int(part) for part in version.split("."))


def cell_key(cell: Cell) -> tuple[tuple[int, ...], str, str]:
    """Cells in reading order: Python numerically (3.9 before 3.10), then the other axes."""
    return version_key(cell.python), cell.accelerator, cell.profile


@dataclass(frozen=True)
class Matrix:
    """An ordered, duplicate-free tuple of cells."""

    cells: tuple[Cell, ...]

    def __iter__(self) -> Iterator[Cell]:
        return iter(self.cells)

    def __len__(self) -> int:
        return len(self.cells)

    def ids(self) -> list[str]:
        """The cell ids, in matrix order."""
        return [cell.id for cell in self.cells]

    def select(self, patterns: Sequence[str] | None) -> Matrix:
        """Cells whose id matches any glob in ``patterns`` (all cells when none given).

        A pattern without glob characters also matches as a prefix of the
        axis values, so ``3.10`` selects every 3.10 cell and ``lean`` every
        lean one.
        """
        if not patterns:
            return self
        chosen = [cell for cell in self.cells if any(cell_matches(cell, p) for p in patterns)]
        if not chosen:
            raise SelectionError(
                f"no cell matches {' '.join(repr(p) for p in patterns)}",
                fix=f"use a glob over the cell ids: {', '.join(self.ids()) or '(none)'}",
            )
        return Matrix(tuple(chosen))

    def by_profile(self, profile: str) -> Matrix:
        """Only the cells of one profile."""
        return Matrix(tuple(cell for cell in self.cells if cell.profile == profile))

    def pythons(self) -> list[str]:
        """The distinct Python versions used, oldest first."""
        return sorted({cell.python for cell in self.cells}, key=version_key)


def cell_matches(cell: Cell, pattern: str) -> bool:
    """True when ``pattern`` (a glob over the id, or an id, session or axis value)
    selects ``cell``: the matcher of the command line and of allowances' ``cells``."""
    if any(char in pattern for char in "*?["):
        return fnmatch.fnmatchcase(cell.id, pattern)
    return pattern in (cell.id, cell.session, cell.python, cell.accelerator, cell.profile)


def expand(config: Config) -> Matrix:
    """The product of the axes, minus ``exclude``, plus ``include``.

    ========================  =======================================
    entry                     effect
    ========================  =======================================
    exclude = [{python=X}]    drops every cell whose python is X
    exclude = [{a=X, b=Y}]    drops cells matching all given axes
    include = [{...all 3}]    adds that cell (even off the axes)
    ========================  =======================================
    """
    product = (
        Cell(python=python, accelerator=accelerator, profile=profile)
        for profile, python, accelerator in itertools.product(
            config.profile_names, config.pythons, config.accelerator_names
        )
    )
    kept = [cell for cell in product if not _excluded(cell, config.exclude)]
    extra = [Cell(**dict(values)) for values in config.include]
    matrix = Matrix(tuple(_unique(kept + extra)))
    if not matrix.cells:
        raise ConfigError(
            f"{config.pyproject}: tool.noxgrid.exclude: every cell of the matrix is excluded, "
            f"so nothing would run and nothing would be checked: {emptied_by(config)}",
            fix="remove or narrow those exclude entries (or add cells with include = [...])",
        )
    return matrix


def emptied_by(config: Config, profile: str | None = None) -> str:
    """Which exclude entries remove which cells (of one profile, or of all): for messages."""
    parts = []
    for index, values in enumerate(config.exclude):
        removed = [
            f"{python}-{accelerator}-{name}"
            for name in config.profile_names
            for python in config.pythons
            for accelerator in config.accelerator_names
            if (profile is None or name == profile)
            and Cell(python=python, accelerator=accelerator, profile=name).matches(values)
        ]
        if removed:
            table = ", ".join(f'{axis} = "{value}"' for axis, value in values.items())
            parts.append(f"exclude[{index}] {{ {table} }} removes {', '.join(removed)}")
    return "; ".join(parts) or "no exclude entry matches (the axes are empty)"


def _excluded(cell: Cell, excludes: Iterable[Mapping[str, str]]) -> bool:
    return any(cell.matches(values) for values in excludes)


def _unique(cells: Iterable[Cell]) -> list[Cell]:
    seen: set[Cell] = set()
    result = []
    for cell in cells:
        if cell not in seen:
            seen.add(cell)
            result.append(cell)
    return result
