"""What ``noxgrid init`` leaves out of the matrix it proposed, after locking it: the
python values (or single cells) that cannot be locked for that Python, each with its
reason, so that init exits 0 on what it kept and says what it dropped.

Only failures a Python version causes are left out: uv finding no solution for the
cell's python (a pin that has no release for it), or a package with no wheel for it
(numpy < 2 on 3.13). Anything else (a forbidden package, an unreachable index) is a
failure of the adoption that the user must see.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from noxgrid.model.tested_pythons import PythonTested, version_key

if TYPE_CHECKING:
    from noxgrid.lock.steps import LockOutcome
    from noxgrid.model.matrix import Cell

# uv's box-drawing and the arrow it starts its explanation with.
_DECORATION = re.compile("[\u00d7\u2570\u2500\u25b6\u2502\u251c\u2514\u252c\u2534\u253c]+")


@dataclass(frozen=True)
class LeftOut:
    """A python value or one cell left out of the matrix, and why."""

    python: str
    reason: str
    # The cell's other axes when only that cell is left out; None: the whole value.
    accelerator: str | None = None
    profile: str | None = None

    @property
    def what(self) -> str:
        """``python 3.8``, or the cell's id."""
        if self.accelerator is None:
            return f"python {self.python}"
        return f"{self.python}-{self.accelerator}-{self.profile}"


@dataclass
class Cut:
    """What init leaves out after locking, and the cells whose failures remain."""

    left_out: list[LeftOut] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    # torch arrives through another package: the accelerators need uv's torch backend.
    torch: bool = False

    @property
    def pythons(self) -> list[str]:
        """The python values dropped from the axis."""
        return [item.python for item in self.left_out if item.accelerator is None]

    def leaves_out(self, cell: Cell) -> bool:
        """True when ``cell`` is one of those left out (or of a python value dropped)."""
        return any(
            item.python == cell.python
            and (
                item.accelerator is None
                or (item.accelerator, item.profile) == (cell.accelerator, cell.profile)
            )
            for item in self.left_out
        )

    @property
    def cells(self) -> list[LeftOut]:
        """The single cells excluded."""
        return [item for item in self.left_out if item.accelerator is not None]


def uv_reason(text: str) -> str:
    """uv's explanation of a failed resolution, on one line ("Because ... unsatisfiable"),
    without its hints (noxgrid says what to do)."""
    lines = [_DECORATION.sub(" ", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    start = next((i for i, line in enumerate(lines) if "Because" in line), None)
    if start is None:
        start = next((i + 1 for i, line in enumerate(lines) if "No solution found" in line), 0)
    else:
        lines[start] = lines[start][lines[start].index("Because") :]
    end = next((i for i, line in enumerate(lines) if line.startswith("hint:")), len(lines))
    reason = " ".join(" ".join(lines[start:end]).split())
    return reason[:400] + (" ..." if len(reason) > 400 else "") if reason else text.strip()


def torch_refused(outcomes: Sequence[LockOutcome]) -> list[Cell]:
    """The cpu cells refused for CUDA packages that torch pulled in (PyPI's torch is the
    CUDA build): uv's torch backend takes its CPU build instead."""
    cells = []
    for outcome in outcomes:
        if outcome.cell.accelerator != "cpu":
            continue
        for finding in outcome.findings:
            pullers = [chain.split(" <- ")[1:] for chain in finding.chains]
            if finding.kind == "forbidden" and any("torch" in names for names in pullers):
                cells.append(outcome.cell)
                break
    return cells


def python_reason(outcome: LockOutcome) -> str | None:
    """Why the cell cannot be locked for its python, or None when its failure (if any)
    is not the python's doing."""
    if outcome.written:
        return None
    prefix = f"uv could not resolve {outcome.cell.id}:"
    if outcome.error and outcome.error.startswith(prefix):
        return "uv found no solution: " + uv_reason(outcome.error.removeprefix(prefix))
    if outcome.findings and all(f.kind == "source-build" for f in outcome.findings):
        pins = ", ".join(name for f in outcome.findings for name in f.packages)
        return f"no wheel for Python {outcome.cell.python}: {pins} would be built from source"
    return None


def cut_matrix(pythons: Sequence[str], outcomes: Sequence[LockOutcome]) -> Cut:
    """The python values whose every cell fails for that python, dropped; the single
    cells that do, excluded; every other failure kept as one. A failure is the
    python's doing when :func:`python_reason` says so and the same accelerator and
    profile lock on another python (a profile that locks nowhere is broken, not old)."""
    locked = {(o.cell.accelerator, o.cell.profile) for o in outcomes if o.written}
    result = Cut()
    reasons: dict[str, str] = {}
    for outcome in outcomes:
        reason = python_reason(outcome)
        if reason is not None and (outcome.cell.accelerator, outcome.cell.profile) in locked:
            reasons[outcome.cell.id] = reason
        elif not outcome.written:
            result.failed.append(outcome.cell.id)
    for python in pythons:
        cells = [o.cell for o in outcomes if o.cell.python == python]
        failing = [cell for cell in cells if cell.id in reasons]
        if failing and len(failing) == len(cells):
            result.left_out.append(LeftOut(python, reasons[failing[0].id]))
            continue
        result.left_out += [
            LeftOut(python, reasons[cell.id], cell.accelerator, cell.profile) for cell in failing
        ]
    return result


def cap_at_tested(
    pythons: Sequence[str], tested: PythonTested | None, notes: list[str], left_out: list[LeftOut]
) -> list[str]:
    """The python values no newer than the newest Python the project's own tox envlist or
    CI matrix runs (for a project with no version classifiers: requires-python allows
    every later Python, its tests have not run there); each value above it left out,
    saying where that newest one is written. Unchanged when nothing names one, or
    when the cap would leave no value."""
    if tested is None:
        return list(pythons)
    kept = [v for v in pythons if version_key(v) <= tested.key]
    if not kept:
        return list(pythons)
    for version in (v for v in pythons if v not in kept):
        reason = (
            f"newer than any Python the project's own tests run ({tested.version} at most, "
            f"{tested.where}); no classifier says it supports {version}"
        )
        left_out.append(LeftOut(version, reason))
        notes.append(f"left out python {version}: {reason} (add it to python = [...] once it does)")
    return kept
