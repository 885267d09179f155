"""Integration tests start real processes: nox, uv, interpreters, pytest; they may reach PyPI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.integration)


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 900):
    """Run a command, returning the CompletedProcess (output merged)."""
    merged = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    merged.pop("NOX_CURRENT_SESSION", None)
    return subprocess.run(
        argv, cwd=cwd, env=merged, capture_output=True, text=True, timeout=timeout, check=False
    )


def nox(*args: str, cwd: Path, env: dict[str, str] | None = None):
    return run([sys.executable, "-m", "nox", *args], cwd=cwd, env=env)


def noxgrid(*args: str, cwd: Path, env: dict[str, str] | None = None):
    return run([sys.executable, "-m", "noxgrid", *args], cwd=cwd, env=env)
