"""``noxgrid check``: an allowance that allows nothing is named, with where it is declared."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from noxgrid.check import findings as check
from noxgrid.model import freshness
from noxgrid.model.allowances import Allowance
from noxgrid.model.declaration import load_config
from noxgrid.model.freshness import LockState
from noxgrid.model.lockfile import parse_lock
from noxgrid.model.matrix import expand
from tests.unit.model.test_policy import lock_of

OPENCV = lock_of(
    ("opencv-python-headless", "-r requirements/lean.in"),
    ("opencv-contrib-python-headless", "-r requirements/lean.in"),
)


@pytest.fixture
def project(make_project, monkeypatch):
    """A project whose every lock is fresh and holds two OpenCV builds."""
    root = make_project(
        '[tool.noxgrid]\npython = ["3.11"]\naccelerators = ["cpu"]\n'
        '[tool.noxgrid.profile.lean]\nrequirements = ["requirements/lean.in"]\n',
        {"requirements/lean.in": "numpy\n"},
    )
    monkeypatch.setattr(
        check,
        "check_locks",
        lambda config, cells: [
            LockState(cell=c, path=Path("x.toml"), state="fresh") for c in cells
        ],
    )
    monkeypatch.setattr(freshness, "read_lock", lambda path: parse_lock(OPENCV))
    return load_config(root)


def allow(**fields) -> Allowance:
    values = dict(
        rule="exclusive",
        subjects=("opencv-python-headless", "opencv-contrib-python-headless"),
        keep="opencv-contrib-python-headless",
        reason="contrib on purpose",
        where="pyproject.toml: tool.noxgrid.allow[0]",
    )
    return Allowance(**(values | fields))


def test_an_allowance_that_allows_a_finding_is_no_finding_itself(project):
    config = dataclasses.replace(project, allowances=(allow(),))
    assert check.lock_findings(config, expand(config)) == []


def test_without_the_allowance_the_policy_finding_is_back(project):
    (finding,) = check.lock_findings(project, expand(project))
    assert finding["kind"] == "policy" and "both in the lock" in finding["message"]


def test_an_allowance_matching_nothing_is_named_with_its_fix(project):
    unused = allow(
        rule="forbidden",
        subjects=("nvidia-*",),
        keep=None,
        where="pyproject.toml: tool.noxgrid.allow[1]",
    )
    config = dataclasses.replace(project, allowances=(allow(), unused))
    (finding,) = check.lock_findings(config, expand(config))
    assert finding["kind"] == "allowance"
    assert finding["where"] == "pyproject.toml: tool.noxgrid.allow[1]"
    assert "forbidden allowance for nvidia-*" in finding["message"]
    assert finding["fix"] == "remove it or correct its packages/cells"


def test_an_allowance_for_cells_whose_locks_are_not_fresh_is_not_judged(project, monkeypatch):
    monkeypatch.setattr(
        check,
        "check_locks",
        lambda config, cells: [
            LockState(cell=c, path=Path("x.toml"), state="stale") for c in cells
        ],
    )
    config = dataclasses.replace(project, allowances=(allow(subjects=("a", "b"), keep="a"),))
    assert [f["kind"] for f in check.lock_findings(config, expand(config))] == ["lock"]


def test_a_doctor_allowance_is_judged_by_the_cells_last_doctor_report(project):
    import json

    libraries = allow(
        rule="missing-library", subjects=("libibverbs.so.*",), keep=None, where="w: allow[2]"
    )
    config = dataclasses.replace(project, allowances=(libraries,))
    matrix = expand(config)
    assert check.doctor_allowance_findings(config, matrix) == [], "no report: not judged"
    report = config.reports_dir / "doctor" / "3.11-cpu-lean.json"
    report.parent.mkdir(parents=True)
    report.write_text(json.dumps({"cell": "3.11-cpu-lean", "venv": {"allowed_by": []}}))
    (finding,) = check.doctor_allowance_findings(config, matrix)
    assert finding["where"] == "w: allow[2]" and "missing-library allowance" in finding["message"]
    report.write_text(json.dumps({"venv": {"allowed_by": ["w: allow[2]"]}}))
    assert check.doctor_allowance_findings(config, matrix) == []
