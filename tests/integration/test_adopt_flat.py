"""`noxgrid init` on a setuptools project in a flat layout that relies on automatic
discovery: what init writes leaves its build alone, and a docker/ folder (a project
adopted before) is named with the fix by the install stage and `noxgrid check`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.integration.conftest import noxgrid
from tests.integration.test_adopt import NO_DOCKER, cell, write

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PYPROJECT = """
    [build-system]
    requires = ["setuptools>=68"]
    build-backend = "setuptools.build_meta"

    [project]
    name = "lib3"
    version = "0.1"
    requires-python = ">=3.9"
    dependencies = ["six"]
    classifiers = ["Programming Language :: Python :: 3.11"]

    [project.optional-dependencies]
    dev = ["pytest"]
"""


def git(root: Path, *args: str) -> None:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", *args]
    subprocess.run(command, cwd=root, check=True, capture_output=True)


def test_init_on_a_flat_layout_keeps_the_build_and_the_cell_passes(tmp_path):
    root = write(
        tmp_path / "lib3",
        {
            "pyproject.toml": PYPROJECT,
            "lib3/__init__.py": "import six\n\nVALUE = six.PY3\n",
            "tests/test_lib3.py": "import lib3\n\n\ndef test_value():\n    assert lib3.VALUE\n",
        },
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the project")
    result = noxgrid("init", cwd=root)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "init: noxgrid's Dockerfile: Dockerfile, not docker/Dockerfile" in output
    assert "a docker/ folder would stop the project's build; setuptools builds" in output
    assert not (root / "docker").exists(), "no folder setuptools would take for a package"
    assert (root / "Dockerfile").read_text().startswith("# One Dockerfile")
    declared = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["noxgrid"]
    assert declared["docker"]["dockerfile"] == "Dockerfile"
    run = noxgrid("run", "--no-docker", "3.11-cpu-lean", cwd=root, env=NO_DOCKER)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    assert cell(root, "3.11-cpu-lean")["suite"]["detail"].startswith("1 passed")

    # Adopted before this: noxgrid's Dockerfile in docker/. The cause and the fix are named.
    (root / "docker").mkdir()
    (root / "Dockerfile").rename(root / "docker" / "Dockerfile")
    text = (root / "pyproject.toml").read_text()
    moved = text.replace('dockerfile = "Dockerfile"', 'dockerfile = "docker/Dockerfile"')
    (root / "pyproject.toml").write_text(moved)
    check = noxgrid("check", cwd=root)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "pyproject.toml: [build] [tool.noxgrid.docker] dockerfile" in check.stdout
    assert "fix: git mv docker/Dockerfile Dockerfile" in check.stdout
    failed = noxgrid("run", "--no-docker", "3.11-cpu-lean", cwd=root, env=NO_DOCKER)
    assert failed.returncode == 1
    detail = cell(root, "3.11-cpu-lean")["install"]["detail"]
    assert detail.startswith("the project could not be built: setuptools' automatic discovery")
    assert "docker/ is the folder of noxgrid's Dockerfile" in detail, detail
