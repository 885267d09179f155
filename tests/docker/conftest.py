"""Docker tests need an engine. Where NOXGRID_REQUIRE_DOCKER=1 (CI), a missing engine fails
them; elsewhere they are skipped, saying why."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

BASE_MAP = "python:{python}-slim-bookworm=noxgrid-local/python:{python}-slim-bookworm"


def _engine() -> str | None:
    client = os.environ.get("NOXGRID_DOCKER") or shutil.which("docker")
    if not client:
        return "no docker client"
    done = subprocess.run([client, "info"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return f"no engine: {done.stderr.strip()[-200:]}"
    image = subprocess.run(
        [client, "image", "inspect", "noxgrid-local/python:3.11-slim-bookworm"],
        capture_output=True,
        check=False,
    )
    if image.returncode != 0:
        return "no local base images: run python scripts/base_images.py"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mine = [item for item in items if "tests/docker/" in str(item.fspath).replace(os.sep, "/")]
    if not mine:
        return
    problem = _engine()
    for item in mine:
        item.add_marker(pytest.mark.docker)
        # With NOXGRID_REQUIRE_DOCKER=1 (CI) nothing is skipped: the fixture below fails.
        if problem is not None and os.environ.get("NOXGRID_REQUIRE_DOCKER") != "1":
            item.add_marker(pytest.mark.skip(reason=f"Docker tests need an engine: {problem}"))


@pytest.fixture(autouse=True)
def _require_engine(request: pytest.FixtureRequest) -> None:
    if os.environ.get("NOXGRID_REQUIRE_DOCKER") == "1":
        problem = _engine()
        if problem is not None:
            pytest.fail(f"NOXGRID_REQUIRE_DOCKER=1 but {problem}")


@pytest.fixture
def docker_env() -> dict[str, str]:
    return {"NOXGRID_BASE_IMAGE_MAP": os.environ.get("NOXGRID_BASE_IMAGE_MAP", BASE_MAP)}


@pytest.fixture
def service(tmp_path):
    """A copy of the reference service, without build leftovers."""
    import shutil

    from tests.integration.conftest import REPO

    target = tmp_path / "service"
    shutil.copytree(
        REPO / "examples" / "service",
        target,
        ignore=shutil.ignore_patterns(
            ".noxgrid",
            ".nox",
            "*.egg-info",
            "__pycache__",
            "*.sqlite3",
            ".ruff_cache",
            ".pytest_cache",
        ),
    )
    return target
