"""A lock goes stale only on what it depends on: a real setup.cfg project locked by real uv
(its dependencies read through its build backend), then edited."""

from __future__ import annotations

from pathlib import Path

from tests.integration.conftest import noxgrid

PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[tool.noxgrid]
python = ["3.11", "3.12"]
accelerators = ["cpu"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]

[tool.noxgrid.docker]
dockerfile = "Dockerfile"
"""

SETUP_CFG = """\
[metadata]
name = stalesvc
version = 0.1.0

[options]
py_modules = stalesvc
install_requires =
    six

[flake8]
max-line-length = 100
"""


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (old, text)
    path.write_text(text.replace(old, new))


def test_a_backend_project_stales_on_its_dependencies_only(tmp_path):
    root = tmp_path / "stalesvc"
    (root / "requirements").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "setup.cfg").write_text(SETUP_CFG)
    (root / "stalesvc.py").write_text("VALUE = 1\n")
    (root / "requirements" / "lean.in").write_text("iniconfig\n")
    result = noxgrid("lock", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    lock = (root / "requirements" / "locks" / "pylock.py311-cpu-lean.toml").read_text()
    assert 'name = "six"' in lock and 'name = "stalesvc"' not in lock, lock
    assert 'input-digests = "' in lock and "setup.cfg (build metadata)=" in lock

    # The image's table, a comment and a linter's section are not what the lock is made from.
    _edit(root / "pyproject.toml", '"Dockerfile"', '"docker/Dockerfile"')
    _edit(root / "pyproject.toml", "[tool.noxgrid.docker]", "# the image\n[tool.noxgrid.docker]")
    _edit(root / "setup.cfg", "= 100", "= 120")
    check = noxgrid("lock", "--check", cwd=root)
    assert check.returncode == 0, check.stdout + check.stderr

    # A dependency is: the stale lock names the file it changed in.
    _edit(root / "setup.cfg", "    six", "    six>=1.16")
    check = noxgrid("lock", "--check", cwd=root)
    assert check.returncode == 1
    assert (
        "requirements/locks/pylock.py311-cpu-lean.toml: stale: its inputs changed since it "
        "was written: setup.cfg (build metadata)" in check.stdout
    ), check.stdout

    # A python value dropped from the axis leaves a lock that the check names, with its removal.
    assert noxgrid("lock", cwd=root).returncode == 0
    _edit(root / "pyproject.toml", '["3.11", "3.12"]', '["3.11"]')
    check = noxgrid("lock", "--check", cwd=root)
    assert check.returncode == 1
    assert "fix: rm requirements/locks/pylock.py312-cpu-lean.toml" in check.stdout, check.stdout
    assert noxgrid("lock", "--prune", cwd=root).returncode == 0
    assert noxgrid("lock", "--check", cwd=root).returncode == 0
