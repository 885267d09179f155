"""Integration tests start real processes: nox, uv, interpreters, pytest; they may reach PyPI."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import textwrap
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


def unpacked_sdist(name: str, version: str, folder: Path, sha256: str | None = None) -> Path:
    """A project's sdist from the package index, unpacked into ``folder``; its root."""
    fetched = run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"{name}=={version}",
            "-d",
            str(folder),
        ],
        cwd=folder,
    )
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    names = {f"{name}-{version}.tar.gz", f"{name.replace('-', '_')}-{version}.tar.gz"}
    (archive,) = [path for path in folder.iterdir() if path.name in names]
    if sha256 is not None:
        assert hashlib.sha256(archive.read_bytes()).hexdigest() == sha256, archive
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder / archive.name.removesuffix(".tar.gz")


def pylock_document(project: Path, cell_id: str) -> dict:
    """The lock of ``cell_id`` as TOML data."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    python, rest = cell_id.split("-", 1)
    path = project / "requirements" / "locks" / f"pylock.py{python.replace('.', '')}-{rest}.toml"
    return tomllib.loads(path.read_text())


def locked(project: Path, cell_id: str):
    """The lock of ``cell_id`` as noxgrid reads it (checked to be a PEP 751 file first)."""
    from packaging.pylock import Pylock

    from noxgrid.model.lockfile import parse_lock

    python, rest = cell_id.split("-", 1)
    path = project / "requirements" / "locks" / f"pylock.py{python.replace('.', '')}-{rest}.toml"
    text = path.read_text()
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    Pylock.from_dict(tomllib.loads(text))  # a valid PEP 751 lock
    return parse_lock(text)


def lock(project: Path, *patterns: str) -> None:
    """Write the project's locks (fails the test when noxgrid refuses)."""
    result = noxgrid("lock", *patterns, cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr


def nox(*args: str, cwd: Path, env: dict[str, str] | None = None):
    return run([sys.executable, "-m", "nox", *args], cwd=cwd, env=env)


def noxgrid(*args: str, cwd: Path, env: dict[str, str] | None = None):
    return run([sys.executable, "-m", "noxgrid", *args], cwd=cwd, env=env)


PROJECT = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "tinyproj"
version = "0.1.0"
requires-python = ">=3.9"

[tool.setuptools]
py-modules = ["tinyproj"]

[tool.pytest.ini_options]
markers = ["gpu: needs a GPU"]

[tool.noxgrid]
python = ["3.9", "3.10", "3.11"]
exclude = [{ python = "3.9", accelerator = "gpu" }]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]

[tool.noxgrid.profile.full]
requirements = ["requirements/lean.in"]
"""

TEST = """
import sys

import pytest

import tinyproj


def test_add():
    assert tinyproj.add(2, 3) == 5


def test_runs_on_the_cell_python():
    import os
    assert os.environ["NOXGRID_PYTHON"] == "%d.%d" % sys.version_info[:2]


@pytest.mark.gpu
def test_needs_a_gpu():
    raise AssertionError("GPU tests must be deselected on this machine")
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    root = tmp_path / "tiny"
    (root / "requirements").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(PROJECT)
    (root / "requirements" / "lean.in").write_text("pytest\n")
    (root / "tinyproj.py").write_text("def add(a, b):\n    return a + b\n")
    (root / "tests" / "test_tiny.py").write_text(textwrap.dedent(TEST))
    (root / "noxfile.py").write_text("import noxgrid\n\nnoxgrid.sessions()\n")
    lock(root)
    return root
