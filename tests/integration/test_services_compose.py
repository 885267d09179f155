"""`noxgrid init` takes what a repository of services already declares, and its cells pass.

Two requirement-file services, a compose file and a hand-written workflow whose test
job has a python matrix, install lines (files and packages named bare) and pytest
arguments (a path, an --ignore). One `init` at the root carries them all: the matrix
as the python axis, the bare packages as test requirements, the arguments as the
suite command, the compose healthcheck as the health route and port, the Dockerfile's
apt packages as the profile's; the lean cell passes running exactly the tests CI runs.
A change to the compose file selects every cell of both services.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

from tests.integration.conftest import noxgrid
from tests.integration.test_services import NO_DOCKER, git, stages

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FILES = {
    "backend/requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\n",
    "backend/requirements-dev.txt": "pytest\n",
    "backend/Dockerfile": """
        FROM python:3.11-slim-bookworm
        RUN apt-get update && apt-get install -y --no-install-recommends \\
                curl \\
            && rm -rf /var/lib/apt/lists/*
        WORKDIR /app
        COPY . .
        RUN pip install --no-cache-dir -r requirements.txt
        CMD ["uvicorn", "service.main:app", "--host", "0.0.0.0", "--port", "8080"]
    """,
    "backend/service/__init__.py": "",
    "backend/service/main.py": """
        from fastapi import FastAPI

        app = FastAPI()


        @app.get("/status")
        def status() -> dict:
            return {"up": True}
    """,
    "backend/tests/unit/test_api.py": """
        import pytest
        from fastapi.testclient import TestClient

        from service.main import app


        def test_status():
            assert TestClient(app).get("/status").json() == {"up": True}


        @pytest.mark.asyncio
        async def test_async_runs():
            assert True
    """,
    "backend/tests/unit/slow/test_slow.py": """
        def test_left_out_by_the_ci_ignore():
            raise AssertionError("the CI job ignores tests/unit/slow")
    """,
    "backend/tests/e2e/test_e2e.py": """
        def test_not_under_the_ci_path():
            raise AssertionError("the CI job runs tests/unit only")
    """,
    "workers/requirements.txt": "flask==3.1.0\n",
    "workers/requirements-dev.txt": "pytest\n",
    "workers/Dockerfile": """
        FROM python:3.11-slim-bookworm
        COPY . /srv
        RUN pip install --no-cache-dir -r /srv/requirements.txt
    """,
    "workers/worker.py": """
        from flask import Flask

        web = Flask(__name__)


        @web.route("/ready")
        def ready():
            return "ok"
    """,
    "workers/tests/test_worker.py": """
        from worker import web


        def test_ready():
            assert web.test_client().get("/ready").status_code == 200
    """,
    "frontend/Dockerfile": "FROM nginx:1.27\n",
    "docker-compose.yml": """
        services:
          backend:
            build:
              context: ./backend
              dockerfile: Dockerfile
            ports:
              - "9000:8080"
            healthcheck:
              test: ["CMD", "curl", "-f", "http://localhost:8080/status"]
          workers:
            build: ./workers
          frontend:
            build: ./frontend
          redis:
            image: redis:7
    """,
    ".github/workflows/tests.yml": """
        name: tests
        on: [push, pull_request]
        jobs:
          test-backend:
            runs-on: ubuntu-latest
            strategy:
              matrix:
                python-version: ["3.10", "3.11"]
            defaults:
              run:
                working-directory: backend
            steps:
              - uses: actions/checkout@v4
              - uses: actions/setup-python@v5
                with:
                  python-version: ${{ matrix.python-version }}
              - name: install
                run: |
                  python -m pip install --upgrade pip
                  pip install -r requirements.txt -r requirements-dev.txt
                  pip install pytest-asyncio httpx
              - run: pytest -x tests/unit --ignore=tests/unit/slow
          test-workers:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - uses: actions/setup-python@v5
                with:
                  python-version: "3.11"
              - run: pip install -r workers/requirements.txt -r workers/requirements-dev.txt
              - run: cd workers && pytest -q
    """,
}


def repository(root: Path) -> Path:
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def test_init_carries_the_ci_test_job_compose_and_apt_and_the_lean_cell_passes(tmp_path):
    root = repository(tmp_path / "repo")
    result = noxgrid("init", cwd=root)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "python 3.10: .github/workflows/tests.yml:8 (kept)" in output
    assert "requirements-ci-test.txt: pytest-asyncio, httpx, installed by name" in output
    assert (
        "suite command: pytest tests/unit --ignore=tests/unit/slow, as the CI job "
        "'test-backend' runs it (.github/workflows/tests.yml:22); left out: -x"
    ) in output
    assert "health route: GET /status (the compose service 'backend's healthcheck" in output
    assert "port: 8080 (the compose service 'backend', docker-compose.yml:9)" in output
    assert "lean profile apt: curl (what backend/Dockerfile:2 installs)" in output
    assert "backend/requirements-ci-test.txt" in output, "the file written is listed"
    assert "the compose service 'frontend' builds frontend/, which is no requirement-file" in output
    assert "'redis'" not in output, "an image from a registry is no folder of the repository"

    table = tomllib.loads((root / "backend" / "pyproject.toml").read_text())["tool"]["noxgrid"]
    assert table["python"] == ["3.10", "3.11"]
    assert table["profile"]["lean"]["requirements"] == [
        "requirements.txt",
        "requirements-dev.txt",
        "requirements-ci-test.txt",
    ]
    assert table["profile"]["lean"]["apt"] == ["curl"]
    assert table["suite"]["command"] == ["pytest", "tests/unit", "--ignore=tests/unit/slow"]
    assert table["docker"]["health"]["path"] == "/status"
    assert table["docker"]["health"]["port"] == 8080
    assert table["docker"]["command"] == "uvicorn service.main:app --host 0.0.0.0 --port 8080"
    workers = tomllib.loads((root / "workers" / "pyproject.toml").read_text())["tool"]["noxgrid"]
    assert workers["python"] == ["3.11"]
    assert workers["suite"]["command"] == ["pytest"]

    ran = noxgrid("run", "-C", "backend", "3.11-cpu-lean", "--no-docker", cwd=root, env=NO_DOCKER)
    assert ran.returncode == 0, (ran.stdout + ran.stderr)[-3000:]
    suite = stages(root / "backend", "3.11-cpu-lean")["suite"]["detail"]
    assert suite.startswith("2 passed"), suite  # not the slow or e2e tests

    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "adopted")
    compose = root / "docker-compose.yml"
    compose.write_text(compose.read_text() + "    environment: {MODE: test}\n")
    for service, count in (("backend", 2), ("workers", 1)):
        planned = noxgrid("matrix", "--github", "--changed-since", "HEAD", "-C", service, cwd=root)
        assert planned.returncode == 0, planned.stdout + planned.stderr
        include = json.loads(planned.stdout.strip().splitlines()[-1])["include"]
        assert len(include) == count, (service, planned.stdout)
