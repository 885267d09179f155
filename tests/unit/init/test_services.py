"""Requirement-file services: found, planned (profiles, python axis, app, health)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from noxgrid.init.services import (
    dev_requirement_files,
    find_services,
    is_service,
    plan_service,
    relevant_jobs,
)
from noxgrid.model.ci_jobs import parse_jobs

WORKFLOW = """\
jobs:
  api:
    defaults:
      run:
        working-directory: backend
    steps:
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pip install -r requirements-extra-tests.txt
  lint:
    steps:
      - uses: actions/setup-python@v5
        with:
          python-version: "3.9"
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def repository(root: Path) -> Path:
    return write(
        root,
        {
            "backend/requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\n",
            "backend/requirements-ci.txt": "-r requirements.txt\n",
            "backend/requirements-dev.txt": "pytest\n",
            "backend/requirements-extra-tests.txt": "httpx\n",
            "backend/Dockerfile": "FROM python:3.11-slim-bookworm\n",
            "backend/Dockerfile.ci": "FROM python:3.12-slim\n",
            "backend/app/main.py": (
                "from fastapi import FastAPI\napp = FastAPI()\n"
                "@app.get('/health')\ndef health():\n    return {}\n"
            ),
            "backend/app/sub/requirements.txt": "nothing\n",
            "workers/requirements.txt": "celery\n",
            "workers/requirements-test.txt": "pytest\n",
            "services/jobs/requirements.txt": "six\n",
            "lib/pyproject.toml": "[project]\nname = 'lib'\n",
            "lib/inner/requirements.txt": "six\n",
            ".venv/requirements.txt": "x\n",
            "docs/requirements.txt": "sphinx\n",
            ".github/workflows/ci.yml": WORKFLOW,
        },
    )


def test_services_are_the_folders_with_requirement_files_and_no_project(tmp_path):
    root = repository(tmp_path)
    found = find_services(root)
    assert [p.relative_to(root).as_posix() for p in found] == [
        "backend",
        "services/jobs",
        "workers",
    ], "not inside a service, a project, a venv or the docs"
    assert not is_service(root) and not is_service(root / "lib")
    (root / "requirements.txt").write_text("six\n")
    assert find_services(root)[0] == root, "the root is a service too"


def test_dev_requirement_files_by_name(tmp_path):
    write(
        tmp_path,
        {
            "requirements.txt": "",
            "requirements-dev.txt": "",
            "requirements_test_gpu.txt": "",
            "requirements-testing.in": "",
            "requirements-testing.txt": "",
            "test-requirements.txt": "",
            "requirements-latest.txt": "",
            "requirements/tests.in": "",
            "requirements/prod.txt": "",
            "devtools.txt": "",
        },
    )
    assert dev_requirement_files(tmp_path) == [
        "requirements-dev.txt",
        "requirements-testing.txt",
        "requirements_test_gpu.txt",
        "test-requirements.txt",
        "requirements/tests.in",
    ]


def test_jobs_of_a_service_are_those_that_name_its_folder():
    api, lint = parse_jobs(WORKFLOW, Path("/r/.github/workflows/ci.yml"))
    assert relevant_jobs([api, lint], "backend", ["workers"]) == [api]
    assert relevant_jobs([api, lint], "workers", ["backend"]) == [lint], "none names it"
    assert relevant_jobs([api, lint], ".", ["backend"]) == [lint]


def test_a_service_with_a_ci_requirement_file_and_dockerfile(tmp_path):
    root = repository(tmp_path)
    jobs = parse_jobs(WORKFLOW, root / ".github/workflows/ci.yml")
    plan = plan_service(
        root / "backend",
        root,
        jobs=jobs,
        others=["backend", "workers", "services/jobs"],
        available=lambda v: v in ("3.10", "3.11"),
    )
    assert (plan.directory, plan.name) == ("backend", "backend")
    assert plan.lean == [
        "requirements-ci.txt",
        "requirements-dev.txt",
        "requirements-extra-tests.txt",
    ], "the CI requirements, the test ones and what the CI job installs"
    assert plan.full == ["requirements.txt", "requirements-dev.txt", "requirements-extra-tests.txt"]
    assert plan.pythons == ["3.11"], "3.12 has no interpreter here; the lint job's 3.9 is not its"
    notes = "\n".join(plan.notes)
    assert "python 3.11: backend/Dockerfile:1 (kept)" in notes
    assert (
        "python 3.12: backend/Dockerfile.ci:1, .github/workflows/ci.yml:9 "
        "(left out: no interpreter on this machine)"
    ) in notes
    assert "installed by the CI job 'api' (.github/workflows/ci.yml:10)" in notes
    found = plan.application
    assert found.app is not None and found.app.spec() == "app.main:app"
    assert found.health is not None and found.health.path == "/health"
    assert found.command == "uvicorn app.main:app --host 0.0.0.0 --port 8000"
    assert found.declared


def test_a_service_without_statements_app_or_health_keeps_the_defaults(tmp_path):
    root = write(tmp_path, {"svc/requirements.txt": "six\n", "svc/run.py": "print(1)\n"})
    plan = plan_service(
        root / "svc", root, jobs=[], others=["svc"], available=lambda v: v == "3.10"
    )
    assert plan.pythons == ["3.10"]
    assert plan.lean == ["requirements.txt"] and plan.full == []
    found = plan.application
    assert found.app is None and found.health is None and found.command is None
    notes = "\n".join(plan.notes)
    assert "no Dockerfile or workflow states a version" in notes
    assert "no test requirement file found: add pytest to one" in notes
    assert "no application object found" in notes
    assert "the health path stays /ready" in notes


def test_the_server_follows_the_requirements(tmp_path):
    root = write(
        tmp_path,
        {
            "a/requirements.txt": "flask\ngunicorn\n",
            "a/web.py": "from flask import Flask\nweb = Flask(__name__)\n",
            "b/requirements.txt": "starlette\n",
            "b/main.py": "from starlette.applications import Starlette\napp = Starlette()\n",
        },
    )

    def plan(name: str):
        return plan_service(root / name, root, jobs=[], others=["a", "b"], available=bool)

    assert plan("a").application.command == "gunicorn --bind 0.0.0.0:8000 web:web"
    b = plan("b")
    assert b.application.command == "uvicorn main:app --host 0.0.0.0 --port 8000"
    assert any("uvicorn is not in the requirements" in n for n in b.notes)


def test_a_repository_of_services_may_keep_a_pyproject_of_tool_settings(tmp_path):
    from noxgrid.init.services import services_repository

    assert services_repository(tmp_path), "nothing at all: the services path says what is missing"
    write(tmp_path, {"api/requirements.txt": "six\n", "pyproject.toml": "[tool.ruff]\n"})
    assert services_repository(tmp_path)
    for text in ("[project]\nname = 'x'\n", "[build-system]\n", "[tool.poetry]\n", "x = [\n"):
        (tmp_path / "pyproject.toml").write_text(text)
        assert not services_repository(tmp_path), text
    (tmp_path / "pyproject.toml").unlink()
    (tmp_path / "setup.py").write_text("")
    assert not services_repository(tmp_path)


def test_a_project_with_a_src_layout_app_gets_its_image_declared(tmp_path):
    from noxgrid.init.application import project_application
    from noxgrid.init.plan import Plan, render_table

    write(
        tmp_path,
        {
            "src/svc/__init__.py": "",
            "src/svc/app.py": (
                "from starlette.applications import Starlette\n"
                "from starlette.routing import Route\napp = Starlette()\n"
                "@app.route('/livez')\ndef live(request):\n    return None\n"
                "@app.route('/readiness')\ndef ready(request):\n    return None\n"
            ),
            "requirements/lean.in": "hypercorn\n",
        },
    )
    project = {"dependencies": ["starlette>=0.30"], "optional-dependencies": {"x": ["numpy"]}}
    found = project_application(tmp_path, project, ["requirements/lean.in"])
    assert found.app is not None and found.app.spec() == "svc.app:app", "src/ is no package"
    assert found.health is not None and found.health.path == "/readiness"
    assert found.command == "hypercorn svc.app:app --bind 0.0.0.0:8000"
    plan = Plan(name="My Svc", pythons=["3.11"], lean_requirements="x.in", lean_text=None)
    assert '# image = "my-svc"' in render_table(plan), "unread: today's commented defaults"
    plan.application = found
    text = render_table(plan)
    assert 'image = "my-svc"\nhealth = { path = "/readiness", port = 8000' in text
    assert 'command = "hypercorn svc.app:app --bind 0.0.0.0:8000"' in text
