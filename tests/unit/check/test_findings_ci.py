"""`noxgrid check`'s findings include a CI-only file that drifts from production."""

from __future__ import annotations

from noxgrid.check import findings
from noxgrid.model.declaration import load_config
from noxgrid.model.matrix import Matrix


def test_ci_only_requirements_pinned_apart_from_production_are_a_finding(make_project, monkeypatch):
    root = make_project(
        files={
            "requirements/lean.in": "pytest\n",
            "requirements/full.in": "numpy\n",
            "requirements.txt": "numpy==1.26.4\n",
            "requirements-ci.txt": "numpy==2.1.0\n",
        }
    )
    monkeypatch.setattr(findings, "project_files", lambda root: None)
    monkeypatch.setattr(findings, "check_ignore", lambda root, paths: None)
    monkeypatch.setattr(findings, "lock_findings", lambda config, matrix: [])
    monkeypatch.setattr(findings, "workflow_findings", lambda config: [])
    found = findings.check_findings(load_config(root), Matrix(()))
    (drift,) = [f for f in found if f["kind"] == "ci-drift"]
    assert drift["where"] == "requirements-ci.txt:1"
    assert "2.1.0 in CI, 1.26.4 in production" in drift["message"]
