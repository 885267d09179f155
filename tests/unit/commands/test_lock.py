"""``noxgrid lock``'s line per cell: a lock with findings allowed on purpose is written and
shows them; one finding not allowed refuses it."""

from __future__ import annotations

from pathlib import Path

from noxgrid.commands.lock import describe
from noxgrid.lock.steps import LockOutcome
from noxgrid.model.allowances import Allowance
from noxgrid.model.matrix import Cell
from noxgrid.model.policy import Finding

ALLOWANCE = Allowance(rule="budget", reason="the model is big", where="pyproject.toml: allow[0]")
BUDGET = Finding(kind="budget", packages=(), chains=(), message="over", fix="raise it")


def outcome(*findings: Finding) -> LockOutcome:
    cell = Cell(python="3.11", accelerator="cpu", profile="lean")
    return LockOutcome(cell=cell, path=Path("pylock.py311-cpu-lean.toml"), findings=list(findings))


def test_allowed_findings_are_shown_under_the_written_lock():
    allowed = Finding(**{**BUDGET.__dict__, "allowance": ALLOWANCE})
    text = describe(outcome(allowed))
    assert text.startswith("3.11-cpu-lean: wrote pylock.py311-cpu-lean.toml")
    assert "allowed on purpose: the model is big (pyproject.toml: allow[0])" in text
    assert "fix:" not in text


def test_one_finding_not_allowed_refuses_the_lock():
    allowed = Finding(**{**BUDGET.__dict__, "allowance": ALLOWANCE})
    text = describe(outcome(allowed, BUDGET))
    assert "REFUSED" in text and "fix: raise it" in text and "allowed on purpose" in text
