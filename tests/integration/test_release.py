"""Release runs, merged reports and `noxgrid init` on a real third-party project, for real."""

from __future__ import annotations

import json
import sys

from tests.integration.conftest import locked, nox, noxgrid, unpacked_sdist

NO_DOCKER = {"NOXGRID_NO_DOCKER": "1", "NOXGRID_GPU": "0"}

# click's own sdist: its tests, its [dependency-groups] tests = ["pytest"], no system package.
CLICK = "click"
CLICK_VERSION = "8.5.1"
CLICK_SHA256 = "9bbfada76703fd1d784b83eea012e3e8c6a001a876543ef104fa56aaaeb072b4"


def test_a_release_with_one_broken_cell_finishes_the_others_and_names_it(tiny):
    (tiny / "tests" / "test_broken.py").write_text(
        "import sys\n\n"
        "def test_not_on_310():\n"
        "    assert sys.version_info[:2] != (3, 10), 'broken on purpose on 3.10'\n"
    )
    assert noxgrid("workflow", cwd=tiny).returncode == 0
    result = nox("-s", "release", "--", "--no-docker", cwd=tiny, env=NO_DOCKER)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "noxgrid check: no drift" in output, output
    assert (
        # NOXGRID_GPU=0: the gpu cells ran without a GPU (their gpu test deselected).
        "release not verified: 3.10-cpu-lean failed; 3.10-gpu-lean failed; "
        "3.11-gpu-lean not verified; 3.10-cpu-full failed; 3.10-gpu-full failed; "
        "3.11-gpu-full not verified" in output
    ), output
    assert "FAILED: 3.10-cpu-lean: suite: 1 failed, " in output, output
    folder = tiny / ".noxgrid" / "reports" / "release"
    document = json.loads((folder / "release.json").read_text())
    statuses = {
        cell["cell"]["python"] + "-" + cell["cell"]["accelerator"]: cell["status"]
        for cell in document["cells"]
        if cell["cell"]["profile"] == "lean"
    }
    assert statuses == {
        "3.9-cpu": "passed",
        "3.10-cpu": "failed",
        "3.10-gpu": "failed",
        "3.11-cpu": "passed",
        "3.11-gpu": "passed",
    }, statuses
    assert document["status"] == "failed" and len(document["cells"]) == 10
    page = (folder / "release.html").read_text()
    assert page.count('class="cell failed"') == 4, "lean and full on 3.10, cpu and gpu"
    markdown = (folder / "release.md").read_text()
    assert "**FAILED: 4 of 10 cells failed, 2 of 10 cells not verified**" in markdown, markdown
    assert (
        "- `3.10-cpu-lean`: **FAILED**: suite: 1 failed, " in markdown
        and "; first: tests/test_broken.py::test_not_on_310" in markdown
    ), markdown


def test_a_release_carries_the_bill_of_materials_of_each_cell_it_ran(tiny):
    from cyclonedx.validation.json import JsonStrictValidator
    from packaging.utils import canonicalize_name

    from noxgrid.model.sbom import SCHEMA

    result = noxgrid("release", "-q", "--no-docker", "3.11-cpu-lean", cwd=tiny, env=NO_DOCKER)
    output = result.stdout + result.stderr
    assert result.returncode == 1 and "9 of 10 cells missing" in output, output[-3000:]
    folder = tiny / ".noxgrid" / "reports" / "release"
    text = (folder / "sbom" / "3.11-cpu-lean.cdx.json").read_text()
    assert JsonStrictValidator(SCHEMA).validate_str(text) is None
    components = {canonicalize_name(c["name"]): c for c in json.loads(text)["components"]}
    lock = locked(tiny, "3.11-cpu-lean")
    assert set(components) == set(lock.packages) and "pytest" in components
    for key, package in lock.packages.items():
        component = components[key]
        assert component["version"] == package.version
        assert component["purl"].startswith(f"pkg:pypi/{key}@{package.version}")
        (digest,) = component["hashes"]
        assert f"sha256:{digest['content']}" in package.hashes, key
        urls = [r["url"] for r in component["externalReferences"]]
        assert "https://pypi.org/simple" in urls and len(urls) == len(package.hashes) + 1
    # The venv is there: pytest's metadata states its licence.
    assert components["pytest"]["licenses"], components["pytest"]
    document = json.loads((folder / "release.json").read_text())
    (listed,) = document["sbom"]
    assert listed["cell"] == "3.11-cpu-lean" and listed["file"] == "sbom/3.11-cpu-lean.cdx.json"
    assert listed["packages"] == listed["hashed"] == len(lock.packages)
    assert document["image_sbom"] == [], "--no-docker: no image was built"
    page = (folder / "release.html").read_text()
    assert 'href="sbom/3.11-cpu-lean.cdx.json"' in page


def test_report_merges_the_artifacts_of_several_jobs(tiny, tmp_path):
    for cell in ("3.9-cpu-lean", "3.11-cpu-lean"):
        result = noxgrid("run", "-q", cell, cwd=tiny, env=NO_DOCKER)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr
        job = tmp_path / "artifacts" / f"reports-{cell}"
        job.mkdir(parents=True)
        source = tiny / ".noxgrid" / "reports" / f"{cell}.json"
        (job / source.name).write_bytes(source.read_bytes())
    out = tmp_path / "merged"
    # Two cells of ten: a release over the matrix is missing eight, and says so.
    whole = noxgrid("report", "--from", str(tmp_path / "artifacts"), "--out", str(out), cwd=tiny)
    assert whole.returncode == 1, whole.stdout + whole.stderr
    assert "FAILED: 8 of 10 cells missing" in whole.stdout
    assert json.loads((out / "release.json").read_text())["status"] == "failed"
    # The cells the plan asked for (the workflow passes its matrix): both there, verified.
    result = noxgrid(
        "report",
        "--from",
        str(tmp_path / "artifacts"),
        "--out",
        str(out),
        "--expect",
        "3.9-cpu-lean,3.11-cpu-lean",
        cwd=tiny,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3.9-cpu-lean" in result.stdout and "3.11-cpu-lean" in result.stdout
    document = json.loads((out / "release.json").read_text())
    assert [c["cell"]["python"] for c in document["cells"]] == ["3.9", "3.11"]
    assert document["verdict"] == "PASSED: 2 of 2 cells verified"
    missing = noxgrid("report", "--from", str(tmp_path / "nope"), cwd=tiny)
    assert missing.returncode == 2 and "no such folder" in missing.stderr


def test_init_on_clicks_sdist_then_ci_lean_is_green_without_edits(tmp_path):
    project = unpacked_sdist(CLICK, CLICK_VERSION, tmp_path, sha256=CLICK_SHA256)
    before = (project / "pyproject.toml").read_text()
    result = noxgrid("init", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lean profile: [dependency-groups] tests" in result.stdout
    assert "noxgrid check: locks, policy and workflows clean" in result.stdout
    assert (project / "pyproject.toml").read_text().startswith(before), "only appended"
    for path in ("noxfile.py", "requirements/lean.in", "docker/Dockerfile", ".dockerignore"):
        assert (project / path).is_file(), path
    assert (project / ".github" / "workflows" / "ci.yml").is_file()
    check = noxgrid("check", cwd=project)
    assert check.returncode == 0, check.stdout + check.stderr
    # A second init refuses to touch the declaration.
    again = noxgrid("init", cwd=project)
    assert again.returncode == 2 and "[tool.noxgrid] is already there" in again.stderr
    run = nox("-s", "ci-lean", cwd=project, env=NO_DOCKER)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    reports = list((project / ".noxgrid" / "reports").glob("*-cpu-lean.json"))
    assert reports, output[-2000:]
    for path in reports:
        data = json.loads(path.read_text())
        assert data["status"] == "passed", data
        suite = {s["name"]: s for s in data["stages"]}["suite"]
        assert " passed" in suite["detail"], suite


def test_a_terminal_gets_the_live_view_and_a_pipe_gets_lines(tiny):
    import os
    import pty
    import subprocess

    env = {**os.environ, **NO_DOCKER, "TERM": "xterm", "PYTHONUNBUFFERED": "1"}
    for name in ("CI", "GITHUB_ACTIONS", "NOXGRID_PROGRESS"):
        env.pop(name, None)
    argv = [sys.executable, "-m", "noxgrid", "run", "-j", "2", "3.9-cpu-lean", "3.11-cpu-lean"]
    master, slave = pty.openpty()
    process = subprocess.Popen(argv, cwd=tiny, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert process.wait(timeout=300) == 0
    output = b"".join(chunks).decode("utf-8", "replace")
    assert "\x1b[3F\x1b[J" in output, "redrawn in place"
    assert "✓ 3.9-cpu-lean" in output and "✓ 3.11-cpu-lean" in output
    assert "2 passed, 0 failed, 0 running, 0 waiting" in output
    piped = noxgrid("run", "-j", "2", "3.9-cpu-lean", "3.11-cpu-lean", cwd=tiny, env=NO_DOCKER)
    assert piped.returncode == 0 and "\x1b[" not in piped.stdout
    assert "[3.9-cpu-lean] suite passed" in piped.stdout
