"""The bundled reference service, run as a user would: lean cells and the full 3.11 cpu cell."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.integration.conftest import REPO, locked, nox, noxgrid, run

SERVICE = REPO / "examples" / "service"
# These tests are about the cells; tests/docker covers the image and smoke stages.
NO_DOCKER = {"NOXGRID_NO_DOCKER": "1"}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the service, so runs never write into the repository."""
    target = tmp_path_factory.mktemp("service") / "service"
    shutil.copytree(
        SERVICE,
        target,
        ignore=shutil.ignore_patterns(".noxgrid", ".nox", "*.egg-info", "__pycache__", "*.sqlite3"),
    )
    return target


def pytest_cases(service: Path, cell: str) -> dict[str, str]:
    """test name -> 'passed' / 'skipped' / 'failed' from the cell's pytest JUnit file."""
    root = ET.parse(service / ".noxgrid" / "reports" / f"{cell}.pytest.xml").getroot()
    outcome = {}
    for case in root.iter("testcase"):
        if case.find("skipped") is not None:
            state = "skipped"
        elif case.find("failure") is not None or case.find("error") is not None:
            state = "failed"
        else:
            state = "passed"
        outcome[case.get("name")] = state
    return outcome


def test_full_cpu_cell_exercises_the_ml_endpoints(service):
    result = nox("-s", "ci-full-3.11(cpu)", cwd=service, env=NO_DOCKER)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    cases = pytest_cases(service, "3.11-cpu-full")
    for name in (
        "test_onnx_inference_matches_the_weights",
        "test_classify_endpoint",
        "test_classify_page_endpoint",
        "test_thumbnail_endpoint_resizes_and_finds_edges",
        "test_lightgbm_scores_as_when_the_model_was_written",
        "test_quality_endpoint_ranks_a_long_article_above_a_link_farm",
    ):
        assert cases[name] == "passed", cases
    assert "test_cuda_provider_is_available" not in cases, "GPU test deselected in a cpu cell"
    data = json.loads((service / ".noxgrid" / "reports" / "3.11-cpu-full.json").read_text())
    assert data["status"] == "passed" and data["venv_size"] > 100_000_000
    stages = {stage["name"]: stage for stage in data["stages"]}
    assert list(stages)[4:] == ["doctor", "image", "smoke", "suite"], list(stages)
    assert stages["doctor"]["status"] == "passed", stages["doctor"]
    assert "every library found" in stages["doctor"]["detail"], stages["doctor"]
    # The estimate made from the index before anything was downloaded (the lock's
    # header) is within 25% of the venv as measured after the install.
    error = abs(data["size_estimate"] - data["venv_size"]) / data["venv_size"]
    assert error < 0.25, (data["size_estimate"], data["venv_size"])


def test_oldest_lean_cell_skips_the_ml_tests_with_a_reason(service):
    result = nox("-s", "ci-lean-3.9(cpu)", cwd=service, env=NO_DOCKER)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    cases = pytest_cases(service, "3.9-cpu-lean")
    assert cases["test_notes_round_trip"] == "passed"
    assert cases["test_ml_endpoints_say_what_is_missing_in_lean"] == "passed"
    assert "numpy is installed in the full profile only" in result.stdout


def test_committed_locks_are_fresh_and_an_edit_stales_only_its_cells(service):
    checked = noxgrid("lock", "--check", cwd=service)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "all 12 locks are fresh" in checked.stdout
    full_in = service / "requirements" / "full.in"
    original = full_in.read_text()
    try:
        full_in.write_text(original + "scipy\n")
        checked = noxgrid("lock", "--check", cwd=service)
        assert checked.returncode == 1
        stale = [line.split()[0] for line in checked.stdout.splitlines() if " stale " in line]
        assert stale == [
            "3.9-cpu-full",
            "3.9-gpu-full",
            "3.10-cpu-full",
            "3.10-gpu-full",
            "3.11-cpu-full",
            "3.11-gpu-full",
        ]
        assert (
            "fix: noxgrid lock 3.9-cpu-full 3.9-gpu-full 3.10-cpu-full 3.10-gpu-full "
            "3.11-cpu-full 3.11-gpu-full"
        ) in checked.stderr
    finally:
        full_in.write_text(original)


def test_the_main_job_shows_stages_and_results_and_keeps_probes_in_the_logs(tmp_path):
    from noxgrid.tools.uv import find_uv

    service = tmp_path / "service"
    shutil.copytree(
        SERVICE,
        service,
        ignore=shutil.ignore_patterns(".noxgrid", ".nox", "*.egg-info", "__pycache__", "*.sqlite3"),
    )
    result = nox("-s", "ci-lean-3.10(cpu)", "--", "--no-docker", cwd=service)
    screen = result.stdout + result.stderr
    assert result.returncode == 0, screen[-4000:]
    assert "[3.10-cpu-lean] install passed" in screen and "[3.10-cpu-lean] OK in" in screen
    lock = locked(service, "3.10-cpu-lean")
    assert f"installing {len(lock.packages)} packages into the new venv" in screen
    for internal in (
        '{"refservice": ',  # where the project imports from
        "NOXGRID-IMPORTS",  # the import smoke
        "NOXGRID-LOADED",
        '{"ok": true',  # the application loaded
        "`--pylock` option is experimental",  # uv's preview warning
        "the venv differs from the lock",  # a new venv being filled differs from nothing
    ):
        assert internal not in screen, (internal, screen[-4000:])
    logs = service / ".noxgrid" / "reports" / "logs"
    assert '{"refservice": ' in (logs / "3.10-cpu-lean.install.log").read_text()
    app = (logs / "3.10-cpu-lean.doctor-app.log").read_text()
    assert "NOXGRID-IMPORTS" in app and '{"ok": true, "kind": "ASGI"' in app
    # The venv drifts (a package removed by hand): that difference is named. And
    # `noxgrid run` on one cell prints its table once.
    venv_python = service / ".noxgrid" / "venvs" / "3.10-cpu-lean" / "bin" / "python"
    removed = run(
        [find_uv(), "pip", "uninstall", "--python", str(venv_python), "iniconfig"], service
    )
    assert removed.returncode == 0, removed.stdout + removed.stderr
    again = noxgrid("run", "3.10-cpu-lean", "--no-docker", cwd=service)
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-2000:]
    assert "the venv differs from the lock: missing iniconfig" in again.stdout
    header = [line for line in again.stdout.splitlines() if line.startswith("cell ")]
    assert len(header) == 1, again.stdout
