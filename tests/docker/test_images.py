"""Reference service images, built, checked, started and health-checked for real."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

from tests.integration.conftest import REPO, noxgrid

SERVICE = REPO / "examples" / "service"


def client() -> str:
    import os

    return os.environ.get("NOXGRID_DOCKER") or shutil.which("docker") or "docker"


def report(service: Path, cell: str) -> dict:
    return json.loads((service / ".noxgrid" / "reports" / f"{cell}.json").read_text())


def leftovers(cell: str) -> list[str]:
    done = subprocess.run(
        [client(), "ps", "-aq", "--filter", f"label=io.noxgrid.smoke={cell}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.split()


def test_lean_image_is_built_checked_and_healthy(service, docker_env):
    result = noxgrid("image", "3.11-cpu-lean", cwd=service, env=docker_env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    data = report(service, "3.11-cpu-lean")
    stages = {s["name"]: s for s in data["stages"]}
    assert (
        stages["image"]["status"] == "passed"
        and "non-root, labelled" in stages["image"]["detail"]
        and " = base " in stages["image"]["detail"]
    )
    assert stages["smoke"]["status"] == "passed" and "answered 200" in stages["smoke"]["detail"]
    assert 0 < data["image_size"] < 600_000_000
    inspect = subprocess.run(
        [
            client(),
            "image",
            "inspect",
            "--format",
            "{{json .Config}}",
            "noxgrid/refservice:3.11-cpu-lean",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    config = json.loads(inspect.stdout)
    assert config["User"] == "app"
    assert config["Labels"]["io.noxgrid.cell"] == "3.11-cpu-lean"
    assert len(config["Labels"]["io.noxgrid.lock-sha256"]) == 64
    assert config["Healthcheck"]["Test"][0] == "CMD-SHELL"
    assert leftovers("3.11-cpu-lean") == []
    # Whether the image got BuildKit's SBOM attestation, and why not, as the client can tell.
    buildx = subprocess.run([client(), "buildx", "version"], capture_output=True, check=False)
    (noted,) = [n for n in data["notes"] if n.startswith("image SBOM attestation: ")]
    if buildx.returncode != 0:
        assert noted.startswith("image SBOM attestation: none: the docker client has no buildx")
    merged = noxgrid(
        "report", "--out", str(service / "out"), "--expect", "3.11-cpu-lean", cwd=service
    )
    # `noxgrid image` ran the image stages only: not verified, but reported all the same.
    assert merged.returncode == 1 and "wrote " in merged.stdout, merged.stdout + merged.stderr
    document = json.loads((service / "out" / "release.json").read_text())
    (image,) = document["image_sbom"]
    assert image["cell"] == "3.11-cpu-lean" and noted.endswith(image["why"])
    assert document["sbom"][0]["file"] == "sbom/3.11-cpu-lean.cdx.json"
    assert (service / "out" / "sbom" / "3.11-cpu-lean.cdx.json").is_file()


def test_a_broken_app_fails_the_smoke_stage_fast_with_its_log(service, docker_env):
    app = service / "src" / "refservice" / "app.py"
    app.write_text("raise ImportError('broken on purpose')\n" + app.read_text())
    start = time.monotonic()
    result = noxgrid("image", "3.11-cpu-lean", cwd=service, env=docker_env)
    assert result.returncode == 1
    smoke = {s["name"]: s for s in report(service, "3.11-cpu-lean")["stages"]}["smoke"]
    assert smoke["status"] == "failed" and "the container exited with" in smoke["detail"]
    log = Path(smoke["log"]).read_text()
    assert "broken on purpose" in log
    assert time.monotonic() - start < 120
    assert leftovers("3.11-cpu-lean") == [], "no container is left behind"


def test_a_health_endpoint_that_never_answers_fails_at_the_timeout(service, docker_env):
    pyproject = service / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'health = { path = "/ready", port = 8000, timeout = "60s" }',
            'health = { path = "/never", port = 8000, timeout = "5s" }',
        )
    )
    result = noxgrid("image", "3.11-cpu-lean", cwd=service, env=docker_env)
    assert result.returncode == 1
    smoke = {s["name"]: s for s in report(service, "3.11-cpu-lean")["stages"]}["smoke"]
    assert "did not answer 200 within 5s (last: HTTP 404)" in smoke["detail"]
    assert 5 <= smoke["duration"] < 30
    assert leftovers("3.11-cpu-lean") == []


def test_no_engine_is_one_paragraph_and_no_docker_skips_with_a_reason(service, docker_env):
    env = {**docker_env, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    result = noxgrid("image", "3.11-cpu-lean", cwd=service, env=env)
    # Exit 6 before any cell runs: one paragraph, the cause and the fix, no Go template noise.
    assert result.returncode == 6 and "Traceback" not in result.stdout + result.stderr
    assert result.stderr.startswith(
        "noxgrid: no Docker engine is running at unix:///nonexistent/docker.sock"
    )
    assert "template" not in result.stderr and "--no-docker" in result.stderr
    assert not (service / ".noxgrid" / "reports" / "3.11-cpu-lean.json").exists()
    skipped = noxgrid("image", "3.11-cpu-lean", "--no-docker", cwd=service, env=env)
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    stages = {s["name"]: s for s in report(service, "3.11-cpu-lean")["stages"]}
    assert stages["image"]["status"] == "skipped" and stages["image"]["detail"] == (
        "skipped: --no-docker"
    )


def test_the_suite_runs_inside_the_image_on_request(service, docker_env):
    result = noxgrid("image", "3.11-cpu-lean", "--in-image", cwd=service, env=docker_env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    smoke = {s["name"]: s for s in report(service, "3.11-cpu-lean")["stages"]}["smoke"]
    assert "suite in the image: 12 passed" in smoke["detail"]
    assert leftovers("3.11-cpu-lean") == []


def test_the_setup_steps_run_in_the_image_before_its_suite(service, docker_env):
    pyproject = service / "pyproject.toml"
    step = "[\"python\", \"-c\", \"open('setup-ran.txt', 'w').write('yes')\"]"
    text = pyproject.read_text().replace(
        'command = ["pytest"]\n', f'setup = [{step}]\ncommand = ["pytest"]\n', 1
    )
    assert "setup = [" in text
    pyproject.write_text(text)
    (service / "tests" / "test_setup_ran.py").write_text(
        "from pathlib import Path\n\n\ndef test_the_setup_step_ran_first():\n"
        "    assert Path('setup-ran.txt').read_text() == 'yes'\n"
    )
    result = noxgrid("image", "3.11-cpu-lean", "--in-image", cwd=service, env=docker_env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    data = report(service, "3.11-cpu-lean")
    smoke = {s["name"]: s for s in data["stages"]}["smoke"]
    assert "suite in the image: 13 passed" in smoke["detail"]
    assert "(after 1 setup step(s), in /tmp/noxgrid-suite)" in smoke["detail"]
    assert [(s["argv"][0], s["returncode"], s["in_image"]) for s in data["setup_steps"]] == [
        ("python", 0, True)
    ]
    assert not (service / "setup-ran.txt").exists(), "written in the image, not on the host"
    assert leftovers("3.11-cpu-lean") == []
