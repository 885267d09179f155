"""A noxgrid killed outright (SIGKILL of its group) during the smoke stage leaves its
container running; the next run finds it by its owner label and removes it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from noxgrid.render.dockerfile import TEMPLATE
from tests.integration.conftest import lock, noxgrid

PYPROJECT = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "orphaned"
version = "0.1.0"

[tool.setuptools]
py-modules = ["orphaned"]

[tool.noxgrid]
python = ["3.11"]
accelerators = ["cpu"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]

[tool.noxgrid.docker]
image = "noxgrid-test/orphaned"
command = "python -m http.server 8000"
health = {{ path = "{path}", port = 8000, timeout = "120s" }}
"""


def docker(*args: str) -> str:
    client = os.environ.get("NOXGRID_DOCKER") or "docker"
    done = subprocess.run([client, *args], capture_output=True, text=True, check=False)
    return done.stdout


def scratch(root: Path, path: str) -> Path:
    (root / "requirements").mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT.format(path=path)))
    (root / "requirements" / "lean.in").write_text("pytest\n")
    (root / "orphaned.py").write_text("VALUE = 1\n")
    (root / "tests").mkdir(exist_ok=True)
    (root / "tests" / "test_orphaned.py").write_text("def test_ok():\n    assert True\n")
    (root / ".dockerignore").write_text(".git\n.noxgrid\n**/__pycache__\n*.egg-info\n")
    (root / "docker").mkdir(exist_ok=True)
    (root / "docker" / "Dockerfile").write_text(TEMPLATE.read_text())
    return root


def test_the_smoke_container_of_a_killed_run_is_removed_by_the_next(tmp_path, docker_env):
    root = scratch(tmp_path / "orphaned", "/never")  # the smoke waits: 404 until 120s
    lock(root)
    process = subprocess.Popen(
        [sys.executable, "-m", "noxgrid", "image", "3.11-cpu-lean"],
        cwd=root,
        env={**os.environ, **docker_env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    name = f"noxgrid-3.11-cpu-lean-{process.pid}"
    try:
        deadline = time.monotonic() + 400
        while name not in docker("ps", "--format", "{{.Names}}").split():
            assert process.poll() is None, "the run ended before its smoke container started"
            assert time.monotonic() < deadline, "no smoke container started"
            time.sleep(0.5)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        owner = docker("inspect", "-f", '{{index .Config.Labels "io.noxgrid.owner"}}', name)
        assert owner.strip() == f"{socket.gethostname()}:{process.pid}"
        assert name in docker("ps", "--format", "{{.Names}}").split(), "SIGKILL runs no cleanup"
        scratch(root, "/")  # the next run passes its smoke at once
        result = noxgrid("image", "3.11-cpu-lean", cwd=root, env=docker_env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert name not in docker("ps", "-a", "--format", "{{.Names}}").split()
        notes = json.loads((root / ".noxgrid/reports/3.11-cpu-lean.json").read_text())["notes"]
        assert f"removed 1 container(s) a killed noxgrid run left: {name}" in notes
    finally:
        docker("rm", "-f", name)
