"""A service's plan takes what its repository declares: the CI test job, compose, apt."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from noxgrid.init.service_ci import CI_TEST_FILE, plan_declared
from noxgrid.init.service_files import render_service_table, service_files
from noxgrid.model.ci_jobs import read_jobs
from noxgrid.model.ci_testjob import read_suite_jobs
from noxgrid.model.compose import read_compose

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FILES = {
    "api/requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\n",
    "api/requirements-dev.txt": "pytest\n",
    "api/Dockerfile": """\
        FROM python:3.11-slim-bookworm
        RUN apt-get update && apt-get install -y --no-install-recommends \\
            libgl1 libglib2.0-0 && rm -rf /var/lib/apt/lists/*
        COPY . /app
    """,
    "api/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
    "api/tests/unit/test_a.py": "def test_a():\n    pass\n",
    "worker/requirements.txt": "flask==3.1.0\n",
    "worker/web.py": "from flask import Flask\n\nweb = Flask(__name__)\n",
    "docker-compose.yml": """\
        services:
          api:
            build:
              context: ./api
            ports: ["9000:8080"]
            healthcheck:
              test: ["CMD", "curl", "-f", "http://localhost:8080/status"]
          worker:
            build: worker
          site:
            build: ./site
    """,
    ".github/workflows/ci.yml": """\
        on: [push]
        jobs:
          lint:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/setup-python@v5
                with:
                  python-version: "3.12"
              - run: pip install ruff && ruff check api worker
          api-tests:
            runs-on: ubuntu-latest
            strategy:
              matrix:
                python-version: ["3.10", "3.11"]
            steps:
              - uses: actions/setup-python@v5
                with:
                  python-version: ${{ matrix.python-version }}
              - run: pip install -r api/requirements.txt -r api/requirements-dev.txt
              - run: pip install pytest pytest-asyncio httpx -e .
              - run: cd api && pytest -x tests/unit --ignore=tests/unit/slow -p no:cacheprovider
    """,
}


def repository(root: Path) -> Path:
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def plan(root: Path, name: str):
    return plan_declared(
        root / name,
        root,
        jobs=read_jobs(root),
        test_jobs=read_suite_jobs(root),
        compose=read_compose(root),
        others=["api", "worker"],
        available=lambda v: v in ("3.10", "3.11", "3.12"),
    )


def test_the_test_job_gives_the_axis_the_packages_and_the_suite(tmp_path):
    found = plan(repository(tmp_path), "api")
    assert found.pythons == ["3.10", "3.11"], "the test job's matrix, not the lint job's 3.12"
    assert found.lean == ["requirements.txt", "requirements-dev.txt", CI_TEST_FILE]
    assert found.extra_files[CI_TEST_FILE].splitlines()[1:] == ["pytest-asyncio", "httpx"]
    assert found.suite_args == ["tests/unit", "--ignore=tests/unit/slow", "-p", "no:cacheprovider"]
    notes = "\n".join(found.notes)
    assert "installed by name by the CI job 'api-tests' (.github/workflows/ci.yml:20)" in notes
    assert "not carried: `.` installed by the CI job 'api-tests'" in notes
    assert "(.github/workflows/ci.yml:21); left out: -x" in notes


def test_compose_gives_the_health_route_and_port_and_the_dockerfile_its_apt(tmp_path):
    found = plan(repository(tmp_path), "api")
    assert found.application.health.path == "/status"
    assert found.application.port == 8080
    assert found.application.command == "uvicorn main:app --host 0.0.0.0 --port 8080"
    assert found.apt == {"lean": ["libgl1", "libglib2.0-0"]}
    notes = "\n".join(found.notes)
    assert "the compose service 'api's healthcheck, docker-compose.yml:7" in notes
    assert "port: 8080 (the compose service 'api', docker-compose.yml:7)" in notes
    assert "no health route found" not in notes
    assert "started as `uvicorn main:app --host 0.0.0.0 --port 8080`" in notes
    assert "lean profile apt: libgl1, libglib2.0-0 (what api/Dockerfile:2 installs)" in notes
    table = tomllib.loads(render_service_table(found, workflow="ci.yml"))["tool"]["noxgrid"]
    assert table["profile"]["lean"]["apt"] == ["libgl1", "libglib2.0-0"]
    assert table["suite"]["command"][:2] == ["pytest", "tests/unit"]
    assert table["docker"]["health"] == {"path": "/status", "port": 8080, "timeout": "60s"}
    fates, files = service_files(found, force=False, workflow="ci.yml")
    assert files[tmp_path / "api" / CI_TEST_FILE].endswith("pytest-asyncio\nhttpx\n")
    assert "api/requirements-ci-test.txt" in [fate.path for fate in fates]


def test_a_service_without_a_test_job_or_healthcheck_keeps_its_own(tmp_path):
    found = plan(repository(tmp_path), "worker")
    assert found.suite_args == [] and found.extra_files == {} and found.apt == {}
    assert found.application.health is None
    assert found.application.port == 8000


def test_local_packages_the_job_installs_are_carried_into_local_packages(tmp_path):
    root = repository(tmp_path)
    workflow = root / ".github" / "workflows" / "ci.yml"
    workflow.write_text(
        workflow.read_text().replace(
            "pip install pytest pytest-asyncio httpx -e .",
            "pip install --no-deps ./api/pkgs/ocr && cd api && pip install -e ./libs/shared[x] "
            "-e ./notes -e ../libs/outside",
        )
    )
    write = {
        "api/pkgs/ocr/pyproject.toml": '[project]\nname = "ocr"\nversion = "1"\n',
        "api/libs/shared/pyproject.toml": (
            '[project]\nname = "shared"\nversion = "1"\n'
            'dependencies = ["fastapi>=0.100", "pillow"]\n'
        ),
        "api/notes/README.md": "not a project\n",
        "libs/outside/setup.py": "",
    }
    for name, text in write.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    found = plan(root, "api")
    assert found.lean == ["requirements.txt", "requirements-dev.txt"]
    assert found.local_packages == ["./pkgs/ocr", "./libs/shared"]
    notes = "\n".join(found.notes)
    assert (
        "local-packages: ./pkgs/ocr, installed by the CI job 'api-tests' "
        "(.github/workflows/ci.yml:20): installed --no-deps after the lock in every profile\n"
    ) in notes + "\n"
    assert "its dependencies pillow are in no requirement file: add them to one" in notes
    assert "not carried: `./notes` installed by the CI job 'api-tests'" in notes
    assert "has neither pyproject.toml nor setup.py" in notes
    assert "not carried: `../libs/outside` installed by the CI job 'api-tests'" in notes
    assert "a folder outside the service's folder" in notes
    table = tomllib.loads(render_service_table(found, workflow="ci.yml"))["tool"]["noxgrid"]
    assert table["profile"]["lean"]["local-packages"] == ["./pkgs/ocr", "./libs/shared"]
    files = service_files(found, force=False, workflow="ci.yml")[1]
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    from noxgrid.model.declaration import load_config

    config = load_config(root / "api")
    assert config.profiles["lean"].local_packages == (
        (root / "api" / "pkgs" / "ocr").resolve(),
        (root / "api" / "libs" / "shared").resolve(),
    )


def test_a_privileged_compose_port_is_not_taken(tmp_path):
    root = repository(tmp_path)
    compose = root / "docker-compose.yml"
    compose.write_text(compose.read_text().replace("8080", "80"))
    found = plan(root, "api")
    assert found.application.health.path == "/status", "the route is still the compose one"
    assert found.application.port == 8000
    assert found.application.command == "uvicorn main:app --host 0.0.0.0 --port 8000"
    notes = "\n".join(found.notes)
    assert "port: 8000, not the compose service 'api''s 80 (docker-compose.yml:7)" in notes
