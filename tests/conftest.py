"""Shared fixtures: a tiny project on disk that noxgrid can read; no runner's files."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

MINIMAL = """
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.9"

[tool.pytest.ini_options]
markers = ["gpu: needs a GPU"]

[tool.noxgrid]
python = ["3.9", "3.10", "3.11"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]

[tool.noxgrid.profile.full]
requirements = ["requirements/lean.in", "requirements/full.in"]
"""

# The files a GitHub Actions runner hands a step: what is appended to them shows in the
# job's summary, outputs, environment and PATH. A test must never reach the real ones.
RUNNER_FILES = ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH")


@pytest.fixture(autouse=True)
def no_runner_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove the runner's file variables from every test's environment (and so from the
    processes it starts): a test that wants one sets it to a file of its own."""
    for name in RUNNER_FILES:
        if name in os.environ:
            monkeypatch.delenv(name)


@pytest.fixture
def make_project(tmp_path: Path):
    """Write a pyproject.toml (and the requirement files it names) into a fresh folder."""

    def make(pyproject: str = MINIMAL, files: dict[str, str] | None = None) -> Path:
        root = tmp_path / "project"
        root.mkdir(exist_ok=True)
        (root / "pyproject.toml").write_text(textwrap.dedent(pyproject))
        defaults = {"requirements/lean.in": "pytest\n", "requirements/full.in": "numpy\n"}
        for name, text in (defaults if files is None else files).items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return root

    return make
