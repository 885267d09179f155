"""A local sub-package installed --no-deps and a suite setup step, run for real: uv locks,
installs and proves the venv, pytest runs after the step, the reports hold both."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from tests.integration.conftest import lock, locked, noxgrid, pylock_document

PROJECT = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "tinyapp"
version = "0.1.0"

[tool.setuptools]
py-modules = ["tinyapp"]

[tool.noxgrid]
python = ["3.11"]
accelerators = ["cpu"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
local-packages = ["./sub_package"]

[tool.noxgrid.suite]
setup = [["cp", ".env.example", ".env"]]
"""

SUB = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "subpkg"
version = "0.3.0"
dependencies = ["six"]
"""

TESTS = """
from pathlib import Path

import subpkg
import tinyapp


def test_the_local_package_is_importable():
    assert tinyapp.answer() == subpkg.VALUE + 1 == 42


def test_the_setup_step_copied_the_env_file():
    assert Path(".env").read_text() == "TOKEN=abc\\n"
"""


def make(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    for folder in ("requirements", "tests", "sub_package/subpkg"):
        (root / folder).mkdir(parents=True)
    (root / "pyproject.toml").write_text(PROJECT)
    (root / "requirements" / "lean.in").write_text("pytest\n")
    (root / "tinyapp.py").write_text(
        "import subpkg\n\n\ndef answer():\n    return subpkg.VALUE + 1\n"
    )
    (root / "tests" / "test_app.py").write_text(textwrap.dedent(TESTS))
    (root / ".env.example").write_text("TOKEN=abc\n")
    (root / "sub_package" / "pyproject.toml").write_text(SUB)
    (root / "sub_package" / "subpkg" / "__init__.py").write_text("VALUE = 41\n")
    return root


def report(root: Path) -> dict:
    return json.loads((root / ".noxgrid" / "reports" / "3.11-cpu-lean.json").read_text())


def test_a_local_package_and_a_setup_step_run_for_real_and_reach_the_reports(tmp_path):
    root = make(tmp_path)
    lock(root)
    assert "subpkg" not in locked(root, "3.11-cpu-lean").packages
    assert pylock_document(root, "3.11-cpu-lean")["tool"]["noxgrid"]["local-packages"] == (
        "sub_package"
    )
    first = noxgrid("run", "--no-docker", cwd=root)
    assert first.returncode == 0, first.stdout + first.stderr
    data = report(root)
    (package,) = data["local_packages"]
    assert (package["path"], package["name"], package["version"], package["action"]) == (
        "sub_package",
        "subpkg",
        "0.3.0",
        "installed",
    )
    assert data["setup_steps"][0]["argv"] == ["cp", ".env.example", ".env"]
    assert data["setup_steps"][0]["returncode"] == 0
    suite = {s["name"]: s for s in data["stages"]}["suite"]
    assert suite["status"] == "passed" and "2 passed" in suite["detail"]
    assert (root / ".noxgrid" / "reports" / "3.11-cpu-lean.pytest.xml").is_file(), "JUnit kept"
    assert any("declares six, which the lock" in note for note in data["notes"])
    site = next((root / ".noxgrid" / "venvs" / "3.11-cpu-lean").glob("lib/python*/site-packages"))
    assert not list(site.glob("six-*.dist-info")), "installed without its dependencies"

    again = noxgrid("run", "--no-docker", cwd=root)
    assert again.returncode == 0, again.stdout + again.stderr
    assert report(root)["local_packages"][0]["action"] == "kept"
    assert report(root)["local_packages"][0]["digest"] == package["digest"]

    (root / "sub_package" / "subpkg" / "__init__.py").write_text("VALUE = 41  # edited\n")
    edited = noxgrid("run", "--no-docker", cwd=root)
    assert edited.returncode == 0, edited.stdout + edited.stderr
    now = report(root)
    assert now["local_packages"][0]["action"] == "installed", "the edit installs it again"
    assert now["local_packages"][0]["digest"] != package["digest"]
    assert "# edited" in (site / "subpkg" / "__init__.py").read_text()
    lock_stage = {s["name"]: s for s in now["stages"]}["lock"]
    assert "fresh" in lock_stage["detail"], "an edit does not stale the lock"

    shown = noxgrid("report", cwd=root)
    assert "3.11-cpu-lean: local package sub_package (subpkg 0.3.0, sha256 " in shown.stdout
    assert "3.11-cpu-lean: setup: cp .env.example .env: exit 0" in shown.stdout
