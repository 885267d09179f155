"""A gpu cell released on a machine without a GPU (this one, or NOXGRID_GPU=0): its gpu
tests deselected, it is NOT VERIFIED with their count, unless an allowance
``rule = "no-gpu"`` accepts it; the cell's line, the report and the release page say so."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from tests.integration.conftest import lock, noxgrid

PROJECT = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "gpuproj"
version = "0.1.0"
requires-python = ">=3.9"

[tool.setuptools]
py-modules = ["gpuproj"]

[tool.pytest.ini_options]
markers = ["gpu: needs a GPU"]

[tool.noxgrid]
python = ["3.11"]
accelerators = ["cpu", "gpu"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
{allow}
"""

TEST = """
import pytest


def test_cpu():
    assert True


@pytest.mark.gpu
def test_on_the_gpu():
    raise AssertionError("deselected without a GPU")


@pytest.mark.gpu
def test_on_the_gpu_too():
    raise AssertionError("deselected without a GPU")
"""

ALLOW = """
[[tool.noxgrid.allow]]
rule = "no-gpu"
cells = "*-gpu-*"
reason = "no GPU runner until January"
"""
NO_GPU = {"NOXGRID_GPU": "0", "NOXGRID_NO_DOCKER": "1"}
LINE = "ran without a GPU: 2 gpu tests deselected"


def project(root: Path, allow: str = "") -> Path:
    (root / "requirements").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(PROJECT.format(allow=allow))
    (root / "requirements" / "lean.in").write_text("pytest\n")
    (root / "gpuproj.py").write_text("")
    (root / "tests" / "test_gpu.py").write_text(textwrap.dedent(TEST))
    lock(root)
    assert noxgrid("workflow", cwd=root).returncode == 0
    return root


def test_a_gpu_cell_released_without_a_gpu_is_not_verified(tmp_path):
    root = project(tmp_path / "p")
    result = noxgrid("release", "-j", "1", cwd=root, env=NO_GPU)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"NOT VERIFIED: 3.11-gpu-lean: {LINE}" in output, output
    assert "OK in " in output and f"; {LINE}" in output, "the cell's line says it"
    assert "\nFAILED: 1 of 2 cells not verified in " in output, output
    folder = root / ".noxgrid" / "reports" / "release"
    assert LINE in (folder / "release.html").read_text()
    assert LINE in (folder / "release.md").read_text()
    cells = json.loads((folder / "release.json").read_text())["cells"]
    assert {c["cell"]["accelerator"]: c["without_gpu"] for c in cells} == {"cpu": None, "gpu": 2}
    report = noxgrid("report", cwd=root)
    assert f"3.11-gpu-lean: {LINE}" in report.stdout, report.stdout


def test_an_allowance_accepts_it_and_says_so(tmp_path):
    root = project(tmp_path / "p", ALLOW)
    result = noxgrid("release", "-j", "1", cwd=root, env=NO_GPU)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "PASSED: 2 of 2 cells verified" in output, output
    allowed = f"[no-gpu] {LINE}: allowed on purpose: no GPU runner until January"
    assert allowed in output, output
    page = (root / ".noxgrid" / "reports" / "release" / "release.html").read_text()
    assert allowed in page
