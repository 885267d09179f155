"""`noxgrid check` names a Dockerfile folder that setuptools takes for a second package."""

from __future__ import annotations

from noxgrid.check import findings
from noxgrid.model.declaration import load_config
from noxgrid.model.matrix import Matrix

FLAT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "lib3"
version = "0.1"

[tool.noxgrid]
python = ["3.11"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
"""


def _found(root, monkeypatch):
    monkeypatch.setattr(findings, "project_files", lambda root: None)
    monkeypatch.setattr(findings, "check_ignore", lambda root, paths: None)
    monkeypatch.setattr(findings, "lock_findings", lambda config, matrix: [])
    monkeypatch.setattr(findings, "workflow_findings", lambda config: [])
    found = findings.check_findings(load_config(root), Matrix(()))
    return [f for f in found if f["kind"] == "build"]


def test_a_project_adopted_with_docker_folder_in_a_flat_layout_is_told_the_fix(
    make_project, monkeypatch
):
    files = {"requirements/lean.in": "pytest\n", "lib3/__init__.py": "", "docker/Dockerfile": ""}
    root = make_project(FLAT, files=files)
    (finding,) = _found(root, monkeypatch)
    assert finding["where"] == "pyproject.toml"
    assert "its folder docker/ is a second top-level package to setuptools" in finding["message"]
    assert finding["fix"].startswith("git mv docker/Dockerfile Dockerfile")


def test_a_root_dockerfile_or_named_packages_are_no_finding(make_project, monkeypatch):
    files = {"requirements/lean.in": "pytest\n", "lib3/__init__.py": "", "Dockerfile": ""}
    moved = FLAT + '\n[tool.noxgrid.docker]\ndockerfile = "Dockerfile"\n'
    assert _found(make_project(moved, files=files), monkeypatch) == []
    named = FLAT.replace(
        "[tool.noxgrid]", '[tool.setuptools]\npackages = ["lib3"]\n\n[tool.noxgrid]'
    )
    files["docker/Dockerfile"] = ""
    assert _found(make_project(named, files=files), monkeypatch) == []
