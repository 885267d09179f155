"""noxgrid works with the lowest nox and uv its pyproject.toml declares, not only the newest.

The rest of the suite runs against the newest nox and uv (what `pip install -e .[test]`
brings); this test installs noxgrid beside the declared floors, in a venv of its own, and
runs a project's lock and its nox cell session through them.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from tests.integration.conftest import locked, run
from tests.integration.test_trust import NO_DOCKER, simple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]


def floors() -> dict[str, str]:
    """``{"nox": "2025.2.9", "uv": "0.6.15"}``: the ``>=`` bounds of noxgrid's dependencies."""
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    found = {}
    for line in dependencies:
        match = re.fullmatch(r"(nox|uv)>=([0-9.]+)", line.strip())
        if match:
            found[match.group(1)] = match.group(2)
    assert set(found) == {"nox", "uv"}, dependencies
    return found


def test_the_declared_nox_and_uv_floors_lock_and_run_a_cell(tmp_path):
    floor = floors()
    venv = tmp_path / "floor-venv"
    made = run(["uv", "venv", "--quiet", "--python", sys.executable, str(venv)], cwd=tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    python = str(venv / "bin" / "python")
    installed = run(
        [
            "uv",
            "pip",
            "install",
            "--python",
            python,
            "-e",
            str(REPO),
            f"nox=={floor['nox']}",
            f"uv=={floor['uv']}",
        ],
        cwd=tmp_path,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    versions = run([python, "-m", "uv", "--version"], cwd=tmp_path).stdout
    assert versions.startswith(f"uv {floor['uv']}"), versions
    root = simple(tmp_path)
    locking = run([python, "-m", "noxgrid", "lock"], cwd=root)
    assert locking.returncode == 0, locking.stdout + locking.stderr
    assert locked(root, "3.11-cpu-lean").header["uv"].startswith(f"uv {floor['uv']}")
    listed = run([python, "-m", "nox", "--version"], cwd=root)
    assert floor["nox"] in listed.stdout + listed.stderr
    # The group, then one cell through its own session, as a CI matrix job runs it.
    for name in ("ci-lean", "ci-lean-3.11(cpu)"):
        session = run(
            [python, "-m", "nox", "-s", name, "--", "--no-docker", "-k", "value"],
            cwd=root,
            env=NO_DOCKER,
        )
        output = session.stdout + session.stderr
        assert session.returncode == 0, output[-4000:]
        assert f"Session {name} was successful" in output
        assert "[3.11-cpu-lean] OK in" in output
