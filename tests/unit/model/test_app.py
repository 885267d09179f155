"""The application an image starts is found in its command, and its failures explained."""

from __future__ import annotations

import pytest

from noxgrid.model.app import (
    AppTarget,
    app_target,
    container_failure,
    dockerfile_command,
    load_failure,
)


@pytest.mark.parametrize(
    ("command", "spec"),
    [
        ("uvicorn app.main:app --host 0.0.0.0 --port 8000", "app.main:app"),
        ("uvicorn --factory refservice.app:app --port 8000", "refservice.app:app()"),
        ("gunicorn -k uvicorn.workers.UvicornWorker svc.api:create_app()", "svc.api:create_app()"),
        ("python -m uvicorn api:app", "api:app"),
        ("hypercorn asgi:application --bind 0.0.0.0:8000", "asgi:application"),
        ("flask --app web:app run --port 8000", "web:app"),
        ("python -m worker", "worker"),
        ("/opt/venv/bin/python -m worker.main --queue x", "worker.main"),
    ],
)
def test_the_application_is_found_in_the_command(command, spec):
    target = app_target(command, None, "lean", "Dockerfile")
    assert target is not None and target.spec() == spec


def test_a_command_naming_no_application_gives_none():
    assert app_target("bash -c 'sleep 1'", None, "lean", "Dockerfile") is None
    assert app_target(None, None, "lean", "Dockerfile") is None


def test_the_dockerfile_cmd_of_the_cells_target_counts():
    text = (
        "FROM python:3.11-slim AS base\n"
        'CMD ["python", "-m", "base_only"]\n'
        "FROM base AS lean\n"
        'CMD ["uvicorn", "svc.main:app", \\\n  "--port", "8000"]\n'
        "FROM lean AS full\n"
        'ENTRYPOINT ["gunicorn"]\n'
        "CMD ml.serve:app\n"
    )
    assert dockerfile_command(text, "lean") == ["uvicorn", "svc.main:app", "--port", "8000"]
    lean = app_target(None, text, "lean", "docker/Dockerfile")
    assert lean is not None and lean.spec() == "svc.main:app"
    assert lean.source == "docker/Dockerfile (CMD of target 'lean')"
    full = app_target(None, text, "full", "docker/Dockerfile")
    assert full is not None and full.spec() == "ml.serve:app"


def test_a_missing_module_names_the_distribution_the_profile_lacks():
    target = AppTarget(module="svc.main", attribute="app", source="command")
    text = load_failure(
        target,
        {"ok": False, "error": "ModuleNotFoundError: No module named 'yaml'", "missing": "yaml"},
        profile="lean",
        requirements="requirements/lean.in",
        cell="3.11-cpu-lean",
    )
    assert "the application svc.main:app (from command) does not load" in text
    assert "profile 'lean' does not install yaml" in text
    assert "fix: add PyYAML to requirements/lean.in, then noxgrid lock 3.11-cpu-lean" in text


@pytest.mark.parametrize(
    ("log", "quote", "fix"),
    [
        (
            "Traceback (most recent call last):\n  File x\nModuleNotFoundError: No module named "
            "'cv2'\n",
            "ModuleNotFoundError: No module named 'cv2'",
            "add opencv-python-headless",
        ),
        (
            "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings\n"
            "database_url\n  Field required\n",
            "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings",
            "[tool.noxgrid.docker] env",
        ),
        (
            "INFO: started\nERROR: [Errno 98] error while attempting to bind: Address already "
            "in use\n",
            "ERROR: [Errno 98] error while attempting to bind: Address already in use",
            "--port must be the health port",
        ),
        (
            "PermissionError: [Errno 13] Permission denied: '/app/cache'\n",
            "PermissionError",
            "/tmp",
        ),
    ],
)
def test_a_containers_last_error_is_quoted_with_the_likely_fix(log, quote, fix):
    found, how = container_failure(log)
    assert found.startswith(quote) and fix in how


def test_a_base_image_no_registry_gives_names_the_literal_map():
    from noxgrid.model.app import pull_failure_hint

    output = (
        "ERROR: failed to solve: python:3.11-slim-bookworm: failed to resolve source metadata "
        "for docker.io/library/python:3.11-slim-bookworm: failed to do request: dial tcp: "
        "lookup registry-1.docker.io: no such host"
    )
    hint = pull_failure_hint(output, "python:3.11-slim-bookworm")
    assert (
        hint is not None and "the base image python:3.11-slim-bookworm could not be pulled" in hint
    )
    assert (
        'NOXGRID_BASE_IMAGE_MAP="python:{python}-slim-bookworm='
        'noxgrid-local/python:{python}-slim-bookworm"' in hint
    )
    assert pull_failure_hint("ERROR: RUN pip install failed", "python:3.11") is None
