"""``noxgrid check``'s lock findings: one per fact, and locks whose cell left the matrix
(check.findings.lock_findings)."""

from __future__ import annotations

from noxgrid.check.findings import lock_findings
from noxgrid.model.declaration import load_config
from noxgrid.model.matrix import Cell, expand
from tests.unit.model.test_freshness import STATIC, _edit, _write_lock


def test_stale_locks_for_one_reason_are_one_finding_and_orphans_are_named(make_project):
    root = make_project(
        STATIC.replace('["3.10", "3.11"]', '["3.10", "3.11", "3.12", "3.13"]'),
        {"requirements/lean.in": "pytest\n"},
    )
    config = load_config(root)
    for cell in expand(config):
        _write_lock(config, cell)
    _write_lock(config, Cell(python="3.9", accelerator="cpu", profile="lean"))
    _edit(root / "requirements/lean.in", "pytest", "pytest<9")
    findings = lock_findings(config, expand(config))
    assert [f["message"] for f in findings] == [
        "4 locks are stale (3.10-cpu-lean, 3.11-cpu-lean, 3.12-cpu-lean (+1 more)): its inputs "
        "changed since it was written: requirements/lean.in",
        "the lock of 3.9-cpu-lean belongs to no cell of the matrix (python 3.9 is no longer on "
        "the python axis)",
    ]
    assert findings[0]["places"].count("pylock.py") == 4
    assert findings[1]["fix"] == (
        "rm requirements/locks/pylock.py39-cpu-lean.toml (or noxgrid lock --prune)"
    )
