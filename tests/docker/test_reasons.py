"""An image that runs as root: the reason and its fix on the stage's line and in the report."""

from __future__ import annotations

from pathlib import Path

from tests.docker.test_breakages import scratch
from tests.integration.conftest import noxgrid


def test_an_image_that_runs_as_root_says_the_fix_everywhere(tmp_path: Path, docker_env):
    root = scratch(tmp_path / "rooted")
    dockerfile = root / "docker" / "Dockerfile"
    text = dockerfile.read_text()
    assert "USER app\nCMD" in text
    dockerfile.write_text(text.replace("USER app\nCMD", "CMD", 1))
    result = noxgrid("image", "3.11-cpu-lean", cwd=root, env=docker_env)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out[-3000:]
    (line,) = [line for line in out.splitlines() if " image failed in " in line]
    assert "the image runs as root; fix: add a user and `USER` it" in line, line
    report = noxgrid("report", cwd=root)
    (line,) = [line for line in report.stdout.splitlines() if "failed at image" in line]
    assert "runs as root; fix: add a user" in line and not line.endswith(":"), report.stdout
