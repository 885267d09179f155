"""Recreated CI breakages of ML-heavy services, each on a small scratch project of its own:
noxgrid must catch the whole class before a CI run is spent, and name the fix."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

from tests.integration.conftest import noxgrid

PYPROJECT = """
[project]
name = "svc"
version = "0.1.0"
requires-python = ">=3.9"
classifiers = [
  "Programming Language :: Python :: 3.9",
  "Programming Language :: Python :: 3.10",
  "Programming Language :: Python :: 3.11",
]

[tool.noxgrid]
python = ["3.9", "3.10", "3.11"]
accelerators = ["cpu"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
"""


def scratch(root: Path, files: dict[str, str]) -> Path:
    files = {"pyproject.toml": PYPROJECT, "requirements/lean.in": "pytest\n", **files}
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    return root


# 1. Python versions written anywhere, not only at the root and in docker/.
def test_python_versions_anywhere_in_the_repository_are_drift(tmp_path):
    root = scratch(
        tmp_path / "svc",
        {
            ".gitignore": "scratch/\n",
            "services/api/Dockerfile": "FROM python:3.8-slim\n",
            "workers/worker.Dockerfile": "ARG PYTHON_VERSION=3.12\n",
            "Dockerfile.ci": "FROM python:3.10-slim\n",
            "docker-compose.yml": """
                services:
                  api:
                    build:
                      args:
                        PYTHON_VERSION: "3.8"
            """,
            "runtime.txt": "python-3.12.4\n",
            ".python-version": "3.13\n",
            "tox.ini": "[tox]\nenvlist = py37,py39\n",
            "setup.cfg": "[options]\npython_requires = >=3.10\n",
            ".github/workflows/ci.yml": """
                name: ci
                jobs:
                  test:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/setup-python@v5
                        with:
                          python-version: "3.8"
            """,
            "scratch/Dockerfile": "FROM python:3.5\n",  # ignored by git: not the project's
        },
    )
    result = noxgrid("check", cwd=root)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    for expected in [
        # One finding per fact, naming every place it is written.
        "docker-compose.yml:6: [python] Python 3.8 in 3 places (compose file, Dockerfile, "
        "workflow): docker-compose.yml:6, services/api/Dockerfile:1, .github/workflows/ci.yml:9;",
        "runtime.txt:1: [python] Python 3.12 in 2 places (runtime.txt, Dockerfile): "
        "runtime.txt:1, workers/worker.Dockerfile:1;",
        ".python-version:1: [python] the .python-version says Python 3.13",
        "tox.ini:2: [python] the tox.ini says Python 3.7",
        "setup.cfg:2: [python] setup.cfg's python_requires '>=3.10' excludes Python 3.9",
        ".github/workflows/ci.yml: [workflow] a hand-written workflow is where noxgrid writes its own",
    ]:
        assert expected in output, (expected, output)
    assert "Dockerfile.ci:1: [python] the Dockerfile says" not in output, "3.10 is on the axis"
    # but the image it builds is not what the hand-written workflow tests
    assert "Dockerfile.ci:1: [python] the Dockerfile builds Python 3.10, but the workflow" in output
    assert "scratch/" not in output and "3.5" not in output, "git ignores it"
    assert 'set path = ".github/workflows/noxgrid.yml"' in output


APP_PYPROJECT = (
    PYPROJECT.replace('python = ["3.9", "3.10", "3.11"]', 'python = ["3.11"]')
    + """
[tool.noxgrid.docker]
image = "svc"
command = "uvicorn --factory svc.main:create_app --host 0.0.0.0 --port 8000"

[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[tool.setuptools]
packages = ["svc"]
"""
)

APP = """
import os

import yaml  # the lean profile does not install PyYAML


def create_app():
    settings = yaml.safe_load(os.environ.get("SVC_SETTINGS", "{}"))

    async def app(scope, receive, send):
        return settings

    return app
"""


# 2. The app the image starts is imported and loaded in the doctor stage, before any image.
def test_an_app_that_cannot_start_fails_the_doctor_naming_the_missing_distribution(tmp_path):
    root = scratch(
        tmp_path / "svc",
        {
            "pyproject.toml": APP_PYPROJECT,
            "svc/__init__.py": "",
            "svc/main.py": APP,
            "tests/test_nothing.py": "def test_ok():\n    assert True\n",
        },
    )
    assert noxgrid("lock", cwd=root).returncode == 0
    run = noxgrid("run", "--no-docker", "-q", cwd=root)
    assert run.returncode == 1, run.stdout + run.stderr
    stages = json.loads((root / ".noxgrid/reports/3.11-cpu-lean.json").read_text())["stages"]
    found = {s["name"]: s for s in stages}
    detail = found["doctor"]["detail"]
    assert found["doctor"]["status"] == "failed", detail
    assert "the application svc.main:create_app() (from [tool.noxgrid.docker] command)" in detail
    assert "profile 'lean' does not install yaml" in detail
    assert "fix: add PyYAML to requirements/lean.in, then noxgrid lock 3.11-cpu-lean" in detail
    assert found["suite"]["status"] == "skipped", "found before the suite spends its time"
    # With PyYAML in the profile the app loads, and the doctor says so.
    (root / "requirements" / "lean.in").write_text("pytest\npyyaml\n")
    assert noxgrid("lock", cwd=root).returncode == 0
    run = noxgrid("run", "--no-docker", "-q", cwd=root)
    assert run.returncode == 0, run.stdout + run.stderr
    stages = json.loads((root / ".noxgrid/reports/3.11-cpu-lean.json").read_text())["stages"]
    doctor = {s["name"]: s for s in stages}["doctor"]["detail"]
    assert "loaded svc.main:create_app() (ASGI, from [tool.noxgrid.docker] command)" in doctor


# 4. A budget overrun says which packages grew since the committed lock.
def test_a_budget_overrun_names_the_packages_that_grew_since_the_committed_lock(tmp_path):
    one_python = PYPROJECT.replace('python = ["3.9", "3.10", "3.11"]', 'python = ["3.11"]')
    budgeted = one_python.replace(
        'requirements = ["requirements/lean.in"]',
        'requirements = ["requirements/lean.in"]\nsize-budget = "20MB"',
    )
    root = scratch(tmp_path / "svc", {"pyproject.toml": budgeted})
    assert noxgrid("lock", cwd=root).returncode == 0
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "lock"],
        cwd=root,
        check=True,
    )
    (root / "requirements" / "lean.in").write_text("pytest\nnumpy\n")
    result = noxgrid("lock", cwd=root)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "[budget] the installed size is estimated at" in output
    numpy = next(line for line in output.splitlines() if "numpy==" in line and "MB" in line)
    assert "<- grew: new since the committed lock" in numpy, output
    pytest_line = next(line for line in output.splitlines() if " pytest==" in line)
    assert "grew" not in pytest_line, "what did not grow is not blamed"


# 5. The first hour: a report in reading order with the image column, and an interpreter
# choice that says the active virtual environment was not used.
def test_the_report_reads_in_version_order_and_the_venv_is_said(tmp_path):
    root = scratch(
        tmp_path / "svc",
        {
            "svc.py": "VALUE = 1\n",
            "tests/test_svc.py": "def test_ok():\n    assert True\n",
        },
    )
    assert noxgrid("lock", cwd=root).returncode == 0
    venv = tmp_path / "active-venv"
    subprocess.run(["uv", "venv", "-q", "--python", "3.11", str(venv)], check=True)
    env = {
        "NOXGRID_NO_DOCKER": "1",
        "VIRTUAL_ENV": str(venv),
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
    }
    run = noxgrid("run", "-q", cwd=root, env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    report = noxgrid("report", cwd=root)
    lines = report.stdout.splitlines()
    assert lines[0].split()[-4:] == ["venv", "size", "image", "size"], lines[0]
    order = [line.split()[0] for line in lines[2:5]]
    assert order == ["3.9-cpu-lean", "3.10-cpu-lean", "3.11-cpu-lean"], report.stdout
    data = json.loads((root / ".noxgrid/reports/3.11-cpu-lean.json").read_text())
    detail = {s["name"]: s for s in data["stages"]}["interpreter"]["detail"]
    assert f"the active virtual environment {venv} was not searched" in detail
    assert str(venv) not in detail.split(";")[0], "never the venv's own interpreter"
