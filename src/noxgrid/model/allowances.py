"""Rules relaxed on purpose: ``[[tool.noxgrid.allow]]`` as values. Pure.

An :class:`Allowance` names one rule, what it lets through (packages, sonames or
modules, globs allowed), the cells it applies to (a pattern as ``noxgrid run``
takes) and why. A finding it covers stays a finding, marked with the reason, and
no longer refuses a lock or fails a cell; :func:`allowed_text` is how every front
end shows it.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from packaging.utils import canonicalize_name

from noxgrid.model.matrix import Cell, cell_matches
from noxgrid.model.table import Table, type_name

# The rules of the lock's policy, judged on packages.
PACKAGE_RULES = ("exclusive", "forbidden", "gui-opencv", "source-build", "index")
# Every rule an allowance may name, and the key that holds its subjects (None: none).
RULES: dict[str, str | None] = {
    **dict.fromkeys(PACKAGE_RULES, "packages"),
    "budget": None,
    # A gpu cell that ran on a machine without a GPU (its gpu tests deselected).
    "no-gpu": None,
    "missing-library": "libraries",
    "import": "modules",
}


@dataclass(frozen=True, kw_only=True)
class Allowance:
    """One rule relaxed on purpose, narrowly, with a reason."""

    rule: str
    # Package names (for the package rules), sonames or module names: globs allowed.
    subjects: tuple[str, ...] = ()
    # exclusive only: the distribution whose files must win (installed last).
    keep: str | None = None
    # Cell patterns as the command line takes them; empty: every cell.
    cells: tuple[str, ...] = ()
    reason: str
    # Where it is declared: ``pyproject.toml: tool.noxgrid.allow[0]``.
    where: str = ""

    def applies(self, cell: Cell) -> bool:
        """True when this allowance holds in ``cell``."""
        return not self.cells or any(cell_matches(cell, pattern) for pattern in self.cells)

    def covers(self, subject: str) -> bool:
        """True when ``subject`` (a package, soname or module) is one this allowance names."""
        if self.rule in PACKAGE_RULES:
            key = canonicalize_name(subject)
            return any(
                fnmatch.fnmatchcase(key, canonicalize_name(p)) or fnmatch.fnmatchcase(key, p)
                for p in self.subjects
            )
        if self.rule == "import":
            # A module allowed covers its submodules too.
            return any(
                fnmatch.fnmatchcase(subject, p) or subject.startswith(f"{p}.")
                for p in self.subjects
            )
        return any(fnmatch.fnmatchcase(subject, p) for p in self.subjects)

    def covers_all(self, subjects: Iterable[str]) -> bool:
        """True when every one of ``subjects`` is covered (a rule without subjects: always)."""
        return all(self.covers(s) for s in subjects) if RULES[self.rule] else True

    def describe(self) -> str:
        """``exclusive allowance for opencv-python, opencv-contrib-python in cells *-cpu-*``."""
        parts = [f"{self.rule} allowance"]
        if self.subjects:
            parts.append(f"for {', '.join(self.subjects)}")
        if self.keep:
            parts.append(f"(keep {self.keep})")
        if self.cells:
            parts.append(f"in cells {' '.join(self.cells)}")
        return " ".join(parts)


def allowed_text(reason: str) -> str:
    """How every front end shows an allowed finding: ``allowed on purpose: <reason>``."""
    return f"allowed on purpose: {reason}"


def allowance_form(rule: str, subjects: Sequence[str] = (), keep: str | None = None) -> str:
    """The second way out of a finding, after its real fix: the ``[[tool.noxgrid.allow]]``
    entry that relaxes ``rule`` for ``subjects`` on purpose, on one line (every front end
    shows a fix on one line), each key as it is written in pyproject.toml."""
    keys = [f'rule = "{rule}"']
    own = RULES[rule]
    if own is not None and subjects:
        keys.append(f"{own} = {json.dumps(list(subjects))}")
    if keep is not None:
        keys.append(f'keep = "{keep}" (the one whose files must win)')
    keys.append('reason = "why it is wanted"')
    return (
        "or, where this is on purpose, allow it in pyproject.toml: [[tool.noxgrid.allow]] "
        + ", ".join(keys)
    )


def for_cell(allowances: Sequence[Allowance], cell: Cell) -> tuple[Allowance, ...]:
    """The allowances that hold in ``cell``."""
    return tuple(a for a in allowances if a.applies(cell))


def allowing(
    allowances: Sequence[Allowance], rule: str, subjects: Iterable[str]
) -> Allowance | None:
    """The first allowance of ``rule`` covering every one of ``subjects``, or None."""
    wanted = list(subjects)
    for allowance in allowances:
        if allowance.rule == rule and allowance.covers_all(wanted):
            return allowance
    return None


def kept_groups(allowances: Sequence[Allowance]) -> list[Allowance]:
    """The exclusive allowances (each has a ``keep``): groups installed with keep last."""
    return [a for a in allowances if a.rule == "exclusive" and a.keep]


def read_allowances(reader: Table, cells: Sequence[Cell]) -> tuple[Allowance, ...]:
    """``[[tool.noxgrid.allow]]``: each entry checked (rule, subjects, keep, cells, reason),
    every problem recorded with its key path and fix. ``cells``: the matrix's cells, which
    a ``cells`` pattern must select at least one of."""
    raw = reader.raw("allow", [])
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list):
        reader.fail(
            "allow",
            f"expected an array of tables, got {type_name(raw)}",
            "write each allowance as a [[tool.noxgrid.allow]] section",
        )
        return ()
    result = []
    for index, entry in enumerate(raw):
        table = Table(entry, f"{reader.path}.allow[{index}]", reader.file, reader.problems)
        allowance = _read_one(table, cells)
        table.done()
        if allowance is not None:
            result.append(allowance)
    return tuple(result)


_EXAMPLE = (
    '[[tool.noxgrid.allow]]\n    rule = "exclusive"\n'
    '    packages = ["opencv-python", "opencv-contrib-python"]\n'
    '    keep = "opencv-contrib-python"\n    reason = "why this is on purpose"'
)


def _read_one(table: Table, cells: Sequence[Cell]) -> Allowance | None:
    """One allowance, or None where it is wrong (each problem recorded)."""
    problems = len(table.problems)
    rule = table.string("rule", "")
    if rule not in RULES:
        close = difflib.get_close_matches(rule, list(RULES), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        for key in (*(k for k in RULES.values() if k), "keep", "cells", "reason"):
            table.raw(key, None)  # known keys: only the rule is reported
        table.fail(
            "rule",
            f"'{rule}' is not a rule" if rule else "no rule is named",
            f"{hint}use one of: {', '.join(RULES)}, as in\n    {_EXAMPLE}",
        )
        return None
    subjects = _subjects(table, rule)
    keep = _keep(table, rule, subjects)
    patterns = table.str_or_list("cells", ())
    for pattern in patterns:
        if not any(cell_matches(cell, pattern) for cell in cells):
            table.fail(
                "cells",
                f"the pattern '{pattern}' selects no cell of the matrix",
                "write a pattern as noxgrid run takes (a glob over cell ids such as "
                f'"*-cpu-*", or an axis value); the cells: {", ".join(c.id for c in cells)}',
            )
    reason = table.string("reason", "").strip()
    if not reason:
        table.fail(
            "reason",
            "an allowance needs a reason",
            'say why the rule is relaxed on purpose: reason = "..." (it is shown with every '
            "finding it allows)",
        )
    if len(table.problems) > problems:
        return None
    where = f"{table.file.name}: {table.path}"
    return Allowance(
        rule=rule, subjects=subjects, keep=keep, cells=patterns, reason=reason, where=where
    )


def _subjects(table: Table, rule: str) -> tuple[str, ...]:
    """The rule's subjects from its own key; a key of another rule is a problem."""
    own = RULES[rule]
    for key in {k for k in RULES.values() if k} - {own}:
        if key in table.data:
            table.raw(key, None)
            fix = f"write {own} = [...] for rule '{rule}'" if own else f"'{rule}' takes none"
            table.fail(key, f"rule '{rule}' does not take {key}", fix)
    if own is None:
        return ()
    subjects = table.str_list(own, ())
    if not subjects:
        table.fail(
            own,
            f"rule '{rule}' needs the {own} it allows",
            f'write {own} = ["..."] (names or globs): an allowance is narrow on purpose',
        )
    return subjects


def _keep(table: Table, rule: str, subjects: tuple[str, ...]) -> str | None:
    """exclusive: the one of ``packages`` whose files must win; other rules take none."""
    keep = table.optional_string("keep", None)
    if rule != "exclusive":
        if keep is not None:
            table.fail("keep", f"keep is for rule 'exclusive' only, not '{rule}'", "remove keep")
        return None
    if len(subjects) == 1:
        table.fail(
            "packages",
            "an exclusive group has at least two packages",
            "list every distribution of the group that is locked on purpose, keep included",
        )
    if keep is None:
        table.fail(
            "keep",
            "an exclusive allowance needs keep: the distribution whose files must win",
            f'write keep = "{subjects[0] if subjects else "..."}" (one of packages); it is '
            "installed last, so its copy of the shared files is the one on disk",
        )
        return None
    if canonicalize_name(keep) not in {canonicalize_name(s) for s in subjects}:
        table.fail(
            "keep",
            f"keep '{keep}' is not one of packages ({', '.join(subjects)})",
            f"name one of packages, or add {keep} to packages",
        )
    return keep


def kept_in(
    allowances: Sequence[Allowance], packages: Iterable[str]
) -> list[tuple[str, list[str]]]:
    """(keep, the other members present) of each exclusive allowance whose ``keep`` and at
    least one other member are among ``packages`` (canonical names): the groups whose keep
    is installed last and whose shared files the doctor proves are keep's."""
    names = list(packages)
    found: list[tuple[str, list[str]]] = []
    for allowance in kept_groups(allowances):
        keep = canonicalize_name(allowance.keep or "")
        others = [name for name in names if name != keep and allowance.covers(name)]
        if keep in names and others:
            found.append((keep, others))
    return found
