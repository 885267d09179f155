"""Every row of the exit status table (``noxgrid --help``, docs/reference.md) through a
real case on a small project (issue 23 §6): each command below must exit with its row's
code, and the table must have no row this test does not walk."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from noxgrid.cli import EPILOG
from tests.integration.conftest import REPO, noxgrid

PROJECT = """
[project]
name = "tinyproj"
version = "0.1.0"
requires-python = ">=3.9"

[tool.noxgrid]
python = ["3.11"]
accelerators = ["cpu"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
install-project = false

[tool.noxgrid.suite]
command = ["python", "-c", "import pathlib, time; pathlib.Path('started').touch(); time.sleep(120)"]

[tool.noxgrid.docker]
image = "tinyproj"
"""

CELL = "3.11-cpu-lean"


def locked(tmp_path: Path) -> Path:
    root = tmp_path / "small"
    (root / "requirements").mkdir(parents=True)
    (root / "requirements" / "lean.in").write_text("iniconfig\n")
    (root / "pyproject.toml").write_text(PROJECT)
    (root / "docker").mkdir()
    (root / "docker" / "Dockerfile").write_text("FROM python:3.11-slim-bookworm\n")
    result = noxgrid("lock", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def no_uv(root: Path) -> tuple[list[str], dict[str, str]]:
    """uv neither as a Python package nor on PATH: noxgrid cannot run it."""
    fake = root.parent / "fake"
    (fake / "uv").mkdir(parents=True)
    (fake / "uv" / "__init__.py").write_text("def find_uv_bin():\n    raise FileNotFoundError\n")
    path = f"{fake}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    (root / "requirements" / "lean.in").write_text("iniconfig\npackaging\n")
    return ["lock"], {"PYTHONPATH": path, "PATH": "/usr/bin:/bin"}


def edited(root: Path) -> tuple[list[str], dict[str, str]]:
    lock = root / "requirements" / "locks" / "pylock.py311-cpu-lean.toml"
    lock.write_text(lock.read_text().replace('name = "iniconfig"', 'name = "iniconfig2"'))
    return ["lock", "--check"], {}


# Each row: what makes it happen, as (arguments, environment) after changing the project.
Case = Callable[[Path], tuple[list[str], dict[str, str]]]
CASES: dict[str, list[Case]] = {
    "0": [lambda root: (["lock", "--check"], {})],
    "1": [edited],
    "2": [
        lambda root: (["matrix", "no-such-cell"], {}),
        lambda root: (["lock", "3.1-cpu-lean"], {}),
    ],
    "3": [
        lambda root: (["interpreters"], {"NOXGRID_PYTHON_3_11": str(root / "no-python")}),
        lambda root: (["run", "--no-docker", CELL], {"NOXGRID_PYTHON_3_11": str(root / "no")}),
    ],
    "4": [no_uv],
    "5": [
        lambda root: (
            ["lock", "--refresh"],
            {"UV_OFFLINE": "1", "UV_CACHE_DIR": str(root.parent / "empty-cache")},
        ),
        lambda root: (
            ["run", "--no-docker", CELL],
            {"UV_OFFLINE": "1", "UV_CACHE_DIR": str(root.parent / "empty-cache")},
        ),
    ],
    "6": [lambda root: (["image", CELL], {"NOXGRID_DOCKER": str(root / "no-docker")})],
}


def table_codes(text: str) -> set[str]:
    return set(re.findall(r"^  (\d+) {2,}\S", text, re.MULTILINE))


def test_the_table_in_help_and_in_the_reference_has_the_rows_walked_here():
    reference = (REPO / "docs" / "reference.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| (\d+) \|", reference, re.MULTILINE))
    walked = {*CASES, "130"}
    assert table_codes(EPILOG) == walked
    assert documented == walked


@pytest.mark.parametrize(
    ("code", "index"),
    [(code, index) for code, cases in CASES.items() for index in range(len(cases))],
)
def test_each_row_of_the_exit_table_holds(tmp_path, code, index):
    root = locked(tmp_path)
    args, env = CASES[code][index](root)
    result = noxgrid(*args, cwd=root, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == int(code), f"noxgrid {' '.join(args)}: {output}"
    assert "Traceback" not in output, output


def test_an_interrupt_exits_130(tmp_path):
    root = locked(tmp_path)
    merged = {**os.environ, "PYTHONUNBUFFERED": "1"}
    merged.pop("NOX_CURRENT_SESSION", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "noxgrid", "run", "--no-docker", CELL],
        cwd=root,
        env=merged,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (root / "started").exists() and process.poll() is None:
        assert time.monotonic() < deadline, "the suite never started"
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    assert "interrupted" in output
