"""`noxgrid init` at the root of a repository of requirement-file services, then their cells.

Two services without a pyproject.toml (a FastAPI one and a Flask one, each with
requirements.txt, requirements-dev.txt, a Dockerfile, an app with a health route
and tests), a compose file and a hand-written workflow at the root: one `init`
adopts both, each service's lean cells go green, the generated workflows pass
actionlint and zizmor, and a change under one service selects only its cells.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.integration.conftest import nox, noxgrid
from tests.integration.test_adopt_reads import write
from tests.integration.test_workflow import audit, lint

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

NO_DOCKER = {"NOXGRID_NO_DOCKER": "1", "NOXGRID_GPU": "0"}

SERVICES = {
    "backend/requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\n",
    "backend/requirements-dev.txt": "pytest\nhttpx\n",
    "backend/Dockerfile": """
        FROM python:3.11-slim-bookworm
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY . .
        CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "80"]
    """,
    "backend/api/__init__.py": "",
    "backend/api/main.py": """
        from fastapi import FastAPI

        app = FastAPI(title="backend")


        @app.get("/healthz")
        def healthz() -> dict:
            return {"status": "ok"}


        @app.get("/items/{item}")
        def item(item: int) -> dict:
            return {"item": item * 2}
    """,
    "backend/tests/test_api.py": """
        from fastapi.testclient import TestClient

        from api.main import app


        def test_health():
            assert TestClient(app).get("/healthz").json() == {"status": "ok"}


        def test_item():
            assert TestClient(app).get("/items/21").json() == {"item": 42}
    """,
    "workers/requirements.txt": "flask==3.1.0\n",
    "workers/requirements-dev.txt": "pytest\nhttpx\n",
    "workers/Dockerfile": """
        FROM python:3.11-slim-bookworm
        COPY . /srv
        RUN pip install --no-cache-dir -r /srv/requirements.txt
        CMD ["flask", "--app", "worker:web", "run", "--host", "0.0.0.0"]
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
    "docker-compose.yml": """
        services:
          backend:
            build: ./backend
            ports: ["8080:80"]
          workers:
            build: ./workers
    """,
    ".github/workflows/ci.yml": """
        name: ci
        on: [push, pull_request]
        jobs:
          backend:
            runs-on: ubuntu-latest
            defaults:
              run:
                working-directory: backend
            steps:
              - uses: actions/checkout@v4
              - uses: actions/setup-python@v5
                with:
                  python-version: "3.11"
              - run: pip install -r requirements.txt -r requirements-dev.txt
              - run: pytest
          workers:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - uses: actions/setup-python@v5
                with:
                  python-version: "3.11"
              - run: pip install -r workers/requirements.txt -r workers/requirements-dev.txt
              - run: cd workers && pytest
    """,
}


def two_services(root: Path) -> Path:
    """The repository of two requirement-file services, in ``root``."""
    for name, text in SERVICES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def stages(service: Path, cell_id: str) -> dict[str, dict]:
    data = json.loads((service / ".noxgrid" / "reports" / f"{cell_id}.json").read_text())
    return {stage["name"]: stage for stage in data["stages"]}


def adopt(root: Path, env: dict[str, str] | None = None) -> str:
    """One `noxgrid init` at the root; its output (the test fails unless it exits 0)."""
    result = noxgrid("init", cwd=root, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def test_one_init_adopts_two_requirement_file_services_and_their_cells_go_green(tmp_path):
    root = two_services(tmp_path / "repo")
    output = adopt(root)
    assert "init: 2 requirement-file service(s): backend, workers" in output
    assert "python 3.11: backend/Dockerfile:1, .github/workflows/ci.yml:13 (kept)" in output
    assert "application: api.main:app (api/main.py:3)" in output
    assert "health route: GET /healthz (healthz, api/main.py:6)" in output
    assert "application: worker:web (worker.py:3)" in output
    for service in ("backend", "workers"):  # every file written is listed, the release one too
        for name in (f"noxgrid-{service}.yml", f"noxgrid-{service}-release.yml"):
            assert re.search(rf"\.github/workflows/{name} +written after the locks", output)
    for service, health in (("backend", "/healthz"), ("workers", "/ready")):
        table = tomllib.loads((root / service / "pyproject.toml").read_text())
        assert "project" not in table and "build-system" not in table
        noxgrid_table = table["tool"]["noxgrid"]
        assert noxgrid_table["python"] == ["3.11"]
        assert noxgrid_table["profile"]["lean"] == {
            "requirements": ["requirements.txt", "requirements-dev.txt"],
            "install-project": False,
        }
        assert noxgrid_table["docker"]["health"]["path"] == health
        assert noxgrid_table["workflow"]["directory"] == service
        assert (root / "requirements" / "locks").exists() is False, "nothing at the root"
        assert (root / service / "requirements" / "locks" / "pylock.py311-cpu-lean.toml").is_file()
        assert (root / service / ".gitignore").read_text() == ".noxgrid/\n"
    assert "gunicorn" not in (root / "workers" / "pyproject.toml").read_text()

    # Each service's lean cell: through noxgrid run, and through the nox session.
    ran = noxgrid("run", "-C", "backend", "--no-docker", cwd=root, env=NO_DOCKER)
    assert ran.returncode == 0, (ran.stdout + ran.stderr)[-3000:]
    session = nox("-s", "ci-lean", "--", "--no-docker", cwd=root / "workers", env=NO_DOCKER)
    assert session.returncode == 0, (session.stdout + session.stderr)[-3000:]
    backend = stages(root / "backend", "3.11-cpu-lean")
    assert backend["suite"]["detail"].startswith("2 passed")
    assert "loaded api.main:app (ASGI" in backend["doctor"]["detail"]
    assert "the project" not in backend["install"]["detail"], "nothing installed from the tree"
    workers = stages(root / "workers", "3.11-cpu-lean")
    assert workers["suite"]["detail"].startswith("1 passed")
    assert "loaded worker:web (WSGI" in workers["doctor"]["detail"]

    # The generated workflows: one per service, linted like every generated workflow.
    generated = sorted((root / ".github" / "workflows").glob("noxgrid-*.yml"))
    assert [p.name for p in generated] == [
        "noxgrid-backend-release.yml",
        "noxgrid-backend.yml",
        "noxgrid-workers-release.yml",
        "noxgrid-workers.yml",
    ]
    assert "working-directory: backend" in (generated[1]).read_text()
    linted = lint(*generated)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    audited = audit(*generated)
    assert audited.returncode == 0, audited.stdout + audited.stderr
    for service in ("backend", "workers"):
        checked = noxgrid("check", "-C", service, cwd=root)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_a_change_under_one_service_selects_only_its_cells(tmp_path):
    root = two_services(tmp_path / "repo")
    result = noxgrid("init", "--no-lock", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "adopted")
    main = root / "backend" / "api" / "main.py"
    main.write_text(main.read_text() + "\nVERSION = 2\n")
    for service, count in (("backend", 1), ("workers", 0)):
        planned = noxgrid("matrix", "--github", "--changed-since", "HEAD", "-C", service, cwd=root)
        assert planned.returncode == 0, planned.stdout + planned.stderr
        include = json.loads(planned.stdout.strip().splitlines()[-1])["include"]
        assert len(include) == count, (service, planned.stdout)


def test_a_python_value_of_a_service_that_cannot_lock_is_left_out_with_its_reason(tmp_path):
    """The CI matrix says 3.11 and 3.13; numpy 1.26.4 has no wheel for 3.13: init leaves
    3.13 out of the service's declaration with the reason, and exits 0 on 3.11."""
    root = tmp_path / "repo"
    files = {
        "svc/requirements.txt": "numpy==1.26.4\n",
        "svc/requirements-dev.txt": "pytest\n",
        "svc/Dockerfile": "FROM python:3.11-slim-bookworm\n",
        "svc/test_x.py": "def test_x():\n    import numpy\n",
        ".github/workflows/ci.yml": """
            on: [push]
            jobs:
              t:
                runs-on: ubuntu-latest
                strategy:
                  matrix:
                    python-version: ["3.11", "3.13"]
                steps:
                  - uses: actions/setup-python@v5
                    with:
                      python-version: ${{ matrix.python-version }}
                  - run: cd svc && pip install -r requirements.txt -r requirements-dev.txt
                  - run: cd svc && pytest
        """,
    }
    output = adopt(write(root, files))
    assert "python 3.13: .github/workflows/ci.yml:8 (kept)" in output
    assert "init: left out python 3.13: no wheel for Python 3.13: numpy" in output
    text = (root / "svc" / "pyproject.toml").read_text()
    assert tomllib.loads(text)["tool"]["noxgrid"]["python"] == ["3.11"]
    assert "# left out python 3.13: no wheel for Python 3.13: numpy" in text
    locks = sorted(p.name for p in (root / "svc" / "requirements" / "locks").iterdir())
    assert locks == ["pylock.py311-cpu-lean.toml"]
    assert "noxgrid check: locks, policy and workflows clean" in output
    assert "ci.yml:8: the workflow says Python 3.13" in output, "their 3.13 shown, not fatal"
    assert (root / ".github" / "workflows" / "noxgrid-svc.yml").is_file()


def test_a_local_package_the_ci_job_installs_is_carried_into_the_cells(tmp_path):
    """`pip install --no-deps ./pkg` in the service's test job: init declares it in
    local-packages, and the cell installs it and records its digest."""
    files = {
        "svc/requirements.txt": "six\n",
        "svc/requirements-dev.txt": "pytest\n",
        "svc/Dockerfile": "FROM python:3.11-slim-bookworm\n",
        "svc/pkg/pyproject.toml": """
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"
            [project]
            name = "mypkg"
            version = "0.1"
        """,
        "svc/pkg/mypkg/__init__.py": "X = 1\n",
        "svc/test_x.py": "def test_x():\n    import mypkg\n    assert mypkg.X == 1\n",
        ".github/workflows/ci.yml": """
            on: [push]
            jobs:
              t:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/setup-python@v5
                    with:
                      python-version: "3.11"
                  - run: cd svc && pip install -r requirements-dev.txt && pip install --no-deps ./pkg
                  - run: cd svc && pytest
        """,
    }
    root = write(tmp_path / "repo", files)
    output = adopt(root)
    assert "local-packages: ./pkg, installed by the CI job 't' (.github/workflows/ci.yml:10)" in (
        output
    )
    table = tomllib.loads((root / "svc" / "pyproject.toml").read_text())["tool"]["noxgrid"]
    assert table["profile"]["lean"]["local-packages"] == ["./pkg"]
    ran = noxgrid("run", "-C", "svc", "--no-docker", cwd=root, env=NO_DOCKER)
    assert ran.returncode == 0, (ran.stdout + ran.stderr)[-3000:]
    assert "3.11-cpu-lean: local package pkg (mypkg 0.1, sha256" in ran.stdout
    assert stages(root / "svc", "3.11-cpu-lean")["suite"]["detail"].startswith("1 passed")
