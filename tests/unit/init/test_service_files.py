"""The files init writes for a requirement-file service, and `init` itself on a repository."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pytest

from noxgrid.init.application import Application, image_name
from noxgrid.init.service_files import render_service_table, service_files, workflow_path
from noxgrid.init.services import ServicePlan
from noxgrid.model.app_source import FoundApp, FoundRoute
from noxgrid.model.declaration import load_config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def plan(folder: Path, *, app: bool = True) -> ServicePlan:
    return ServicePlan(
        folder=folder,
        directory="services/Back End",
        name="Back End",
        pythons=["3.11"],
        lean=["requirements-ci.txt", "requirements-dev.txt"],
        full=["requirements.txt", "requirements-dev.txt"],
        application=Application(
            app=FoundApp("app.main", "app", "asgi", "app/main.py:3") if app else None,
            health=FoundRoute("/healthz", "healthz", "app/main.py:6", True),
            command="uvicorn app.main:app --host 0.0.0.0 --port 8000",
        ),
    )


def test_the_table_declares_profiles_without_the_project_and_the_workflow(tmp_path):
    text = render_service_table(plan(tmp_path), workflow=".github/workflows/noxgrid-x.yml")
    document = tomllib.loads(text)
    assert "project" not in document
    table = document["tool"]["noxgrid"]
    assert table["profiles"] == ["lean", "full"]
    assert table["profile"]["lean"] == {
        "requirements": ["requirements-ci.txt", "requirements-dev.txt"],
        "install-project": False,
    }
    assert table["profile"]["full"]["install-project"] is False
    assert table["docker"]["image"] == "back-end"
    assert table["docker"]["health"]["path"] == "/healthz"
    assert table["docker"]["command"].startswith("uvicorn app.main:app")
    assert table["workflow"] == {
        "path": ".github/workflows/noxgrid-x.yml",
        "directory": "services/Back End",
    }


def test_without_an_app_the_image_stays_a_comment(tmp_path):
    text = render_service_table(plan(tmp_path, app=False), workflow="w.yml")
    assert "image" not in tomllib.loads(text)["tool"]["noxgrid"]["docker"]
    assert '# health = { path = "/healthz"' in text


DOCKERIGNORE_ADDED = (
    ".noxgrid/, .pytest_cache/ added (what noxgrid's runs leave stays out of the image)"
)


def test_service_files_keep_what_exists_and_load_as_a_config(tmp_path):
    folder = tmp_path / "services" / "Back End"
    folder.mkdir(parents=True)
    for name in ("requirements-ci.txt", "requirements-dev.txt", "requirements.txt"):
        (folder / name).write_text("six\n")
    (folder / ".dockerignore").write_text("x\n")
    (folder / ".gitignore").write_text("*.pyc")
    fates, files = service_files(plan(folder), force=False, workflow="w.yml")
    assert [(f.path, f.action) for f in fates] == [
        ("services/Back End/pyproject.toml", "written"),
        ("services/Back End/noxfile.py", "written"),
        ("services/Back End/docker/Dockerfile", "written"),
        ("services/Back End/.dockerignore", DOCKERIGNORE_ADDED),
        ("services/Back End/.gitignore", ".noxgrid/ added"),
    ]
    assert files[folder / ".dockerignore"].startswith("x\n# what noxgrid's runs leave")
    assert files[folder / ".dockerignore"].endswith("\n.noxgrid/\n.pytest_cache/\n")
    assert files[folder / ".gitignore"] == "*.pyc\n.noxgrid/\n"
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert (
        service_files(plan(folder), force=False, workflow="w.yml")[1]
        .keys()
        .isdisjoint({folder / ".gitignore"})
    ), "ignored once"
    config = load_config(folder)
    assert config.project_name is None
    assert not any(p.install_project for p in config.profiles.values())
    assert config.repo_root == tmp_path
    assert config.workflow_file == tmp_path / "w.yml"
    assert image_name("Back End") == "back-end"


def test_init_adopts_every_service_of_a_repository_without_pyproject(tmp_path, capsys, monkeypatch):
    from noxgrid.commands import init

    for name in ("backend", "workers"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "requirements.txt").write_text("six\n")
        (tmp_path / name / "Dockerfile").write_text("FROM python:3.10-slim\n")
    monkeypatch.setattr(init, "has_interpreter", lambda version: version == "3.10")
    args = argparse.Namespace(project=str(tmp_path), force=False, no_lock=True)
    assert init.cmd_init(args) == 0
    out = capsys.readouterr().out
    assert "init: 2 requirement-file service(s): backend, workers" in out
    for name in ("backend", "workers"):
        for workflow in (f"noxgrid-{name}.yml", f"noxgrid-{name}-release.yml"):
            listed = rf"\.github/workflows/{workflow} +not written \(--no-lock; noxgrid workflow"
            assert re.search(listed, out), "--no-lock writes no workflow, and says so"
        assert not (tmp_path / ".github").exists()
        config = load_config(tmp_path / name)
        assert [
            (w.path, w.action) for w in init._workflow_fates(config, write=True, no_lock=False)
        ] == [
            (f".github/workflows/noxgrid-{name}.yml", "written after the locks"),
            (f".github/workflows/noxgrid-{name}-release.yml", "written after the locks"),
        ], "with locks, both workflows are listed, relative to the repository's root"
        assert config.pythons == ("3.10",)
        assert config.workflow.directory == name
        assert (tmp_path / name / "noxfile.py").is_file()


def test_init_in_a_folder_with_nothing_python_says_so(tmp_path):
    from noxgrid.commands import init
    from noxgrid.errors import ConfigError

    args = argparse.Namespace(project=str(tmp_path), force=False, no_lock=True)
    with pytest.raises(ConfigError, match="no service folder with a requirements.txt"):
        init.cmd_init(args)


def test_each_service_has_a_workflow_of_its_own_name(tmp_path):
    assert workflow_path(plan(tmp_path), single_root=None) == (
        ".github/workflows/noxgrid-services-Back-End.yml"
    )
    root = plan(tmp_path)
    root.directory = "."
    assert workflow_path(root, single_root=None) == ".github/workflows/ci.yml"
    assert workflow_path(root, single_root="x.yml") == "x.yml"
