"""init's declaration from what the repository says, and the files it lists."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from noxgrid.commands import init as init_command
from noxgrid.init.axis import LeftOut
from noxgrid.init.plan import (
    gitignore_text,
    plan_init,
    render_table,
    scaffold_files,
    workflow_choice,
)
from noxgrid.model.declaration import load_config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def has(*versions):
    return lambda version: version in versions


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def declare(root: Path, plan) -> None:
    _fates, files = scaffold_files(
        root, plan, force=False, pyproject_text='[project]\nname = "demo"\n', workflow_path=None
    )
    for target, text in files.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def test_left_out_values_and_cells_are_declared_with_their_reasons(tmp_path):
    plan = plan_init(
        {"name": "demo", "optional-dependencies": {"ml": ["numpy"]}},
        tmp_path,
        available=has("3.11", "3.13"),
    )
    plan.left_out += [
        LeftOut("3.8", "uv found no solution: Because numpy==2.0.2 ..."),
        LeftOut("3.13", "no wheel for Python 3.13: numpy", "cpu", "full"),
    ]
    table = render_table(plan)
    assert "# left out python 3.8: uv found no solution: Because numpy==2.0.2 ...\n" in table
    assert "  # 3.13-cpu-full: no wheel for Python 3.13: numpy\n" in table
    declare(tmp_path, plan)
    config = load_config(tmp_path)
    assert config.pythons == ("3.11", "3.13")
    assert config.exclude == ({"python": "3.13", "accelerator": "cpu", "profile": "full"},)
    assert tuple(config.accelerators)[:1] == ("cpu",)
    assert "gpu" not in tomllib.loads(table)["tool"]["noxgrid"]["accelerators"]


def test_a_gpu_build_proposes_a_gpu_accelerator_and_torch_its_backends(tmp_path):
    write(
        tmp_path,
        {
            "requirements-gpu.txt": "onnxruntime-gpu\n",
            "docker/Dockerfile.gpu": "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\n",
        },
    )
    project = {"name": "demo", "dependencies": ["torch>=2", "onnxruntime"]}
    plan = plan_init(project, tmp_path, available=has("3.11"))
    assert any(n.startswith("accelerators: cpu and gpu (the repository") for n in plan.notes)
    declare(tmp_path, plan)
    config = load_config(tmp_path)
    assert config.accelerator_names == ("cpu", "gpu")
    assert config.accelerators["cpu"].torch_backend == "cpu"
    gpu = config.accelerators["gpu"]
    assert gpu.torch_backend == "cu126" and gpu.replace == (("onnxruntime", "onnxruntime-gpu"),)
    assert gpu.runs_on == ("self-hosted", "linux", "gpu")
    document = tomllib.loads((tmp_path / "pyproject.toml").read_text())
    assert document["tool"]["noxgrid"]["accelerators"] == ["cpu", "gpu"]


def test_no_gpu_build_no_gpu_and_no_torch_backend(tmp_path):
    plan = plan_init({"name": "demo", "dependencies": ["numpy"]}, tmp_path, available=has("3.11"))
    table = render_table(plan)
    assert 'accelerators = ["cpu"]' in table and "torch-backend" not in table
    assert "accelerators: cpu (no GPU requirement file" in " ".join(plan.notes)


def test_a_poetry_project_and_its_lock(tmp_path):
    write(
        tmp_path,
        {
            "poetry.lock": '[[package]]\nname = "six"\nversion = "1.15.0"\n',
        },
    )
    document = tomllib.loads(
        '[tool.poetry.group.dev.dependencies]\npytest = "^7.4"\n'
        '[tool.poetry.group.docs.dependencies]\nsphinx = "*"\n'
    )
    plan = plan_init({"name": "svc"}, tmp_path, available=has("3.11"), document=document)
    assert plan.lean_text is not None and "pytest>=7.4,<8.0\n" in plan.lean_text
    assert "sphinx" not in plan.lean_text
    assert "first locks prefer the 1 pins of poetry.lock" in " ".join(plan.notes)


def test_gitignore_holds_all_of_noxgrids_folder(tmp_path):
    path = tmp_path / ".gitignore"
    assert (
        gitignore_text(path) == "# noxgrid's venvs, reports and caches (noxgrid init)\n.noxgrid/\n"
    )
    path.write_text("*.pyc")
    assert gitignore_text(path).startswith("*.pyc\n# noxgrid's")
    path.write_text("*.pyc\n/.noxgrid\n")
    assert gitignore_text(path) is None
    path.write_text(".noxgrid/reports/\n")
    assert gitignore_text(path) is not None, "the reports alone are not all of it"


def test_beside_a_hand_written_ci_yaml(tmp_path):
    assert workflow_choice(tmp_path, force=False) is None
    write(tmp_path, {".github/workflows/ci.yaml": "on: push\n"})
    assert workflow_choice(tmp_path, force=False) == ".github/workflows/noxgrid.yml"
    assert workflow_choice(tmp_path, force=True) == ".github/workflows/noxgrid.yml"


def test_init_lists_every_file_it_writes(tmp_path, monkeypatch, capsys):
    write(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "demo"\nversion = "1"\n',
            ".gitignore": "*.pyc\n",
        },
    )
    monkeypatch.setattr(init_command, "has_interpreter", has("3.11"))
    args = argparse.Namespace(project=str(tmp_path), force=False, no_lock=True)
    assert init_command.cmd_init(args) == 0
    out = capsys.readouterr().out
    for line in (
        "pyproject.toml  ",
        "requirements/lean.in  ",
        ".gitignore  ",
        ".github/workflows/ci.yml  ",
        ".github/workflows/ci-release.yml  ",
    ):
        assert line in out, out
    assert "not written (--no-lock" in out
    assert (tmp_path / ".gitignore").read_text() == (
        "*.pyc\n# noxgrid's venvs, reports and caches (noxgrid init)\n.noxgrid/\n"
    )


POETRY_SERVICE = """[build-system]
requires = ["poetry>=1.0"]
build-backend = "poetry.masonry.api"

[tool.poetry]
name = "ocr-api"
version = "1.0"

[tool.poetry.dependencies]
python = ">=3.11,<3.13"
engine = {git = "https://example.org/o/engine.git", branch = "main"}
fastapi = ">=0.73.0"

[tool.poetry.group.dev.dependencies]
pytest = ">=5.3.2"
tool = {git = "https://example.org/o/tool.git", rev = "abc"}
"""


def test_a_poetry_application_installs_no_project_and_locks_its_dependencies(
    tmp_path, monkeypatch, capsys
):
    write(
        tmp_path,
        {
            "pyproject.toml": POETRY_SERVICE,
            "app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        },
    )
    monkeypatch.setattr(init_command, "has_interpreter", has("3.11", "3.12"))
    monkeypatch.setattr(
        "noxgrid.tools.metadata.prepare_metadata",
        lambda root: (_ for _ in ()).throw(AssertionError("the backend cannot build it")),
    )
    args = argparse.Namespace(project=str(tmp_path), force=False, no_lock=True)
    assert init_command.cmd_init(args) == 0
    out = capsys.readouterr().out
    assert "not a package (no `packages` in [tool.poetry] and no ocr_api/" in out
    assert "requirements/app.in  " in out
    assert "the health path is GET /openapi.json" in out
    app_in = (tmp_path / "requirements/app.in").read_text()
    assert "engine @ git+https://example.org/o/engine.git@main\nfastapi>=0.73.0\n" in app_in
    lean_in = (tmp_path / "requirements/lean.in").read_text()
    assert "tool @ git+https://example.org/o/tool.git@abc" in lean_in
    config = load_config(tmp_path)
    assert config.pythons == ("3.11", "3.12")
    lean = config.profiles["lean"]
    assert not lean.install_project
    assert [p.relative_to(tmp_path).as_posix() for p in lean.requirements] == [
        "requirements/app.in",
        "requirements/lean.in",
    ]
    assert config.docker.health.path == "/openapi.json"


def test_no_classifiers_the_axis_stops_at_the_newest_python_its_tox_runs(tmp_path):
    root = write(tmp_path, {"tox.ini": "[tox]\nenvlist =\n    py3{12,11,10,9,8}\n    style\n"})
    every = has("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")
    plan = plan_init({"name": "demo", "requires-python": ">=3.8"}, root, available=every)
    assert plan.pythons == ["3.8", "3.9", "3.10", "3.11", "3.12"]
    assert [(item.python, item.accelerator) for item in plan.left_out] == [
        ("3.13", None),
        ("3.14", None),
    ]
    note = next(n for n in plan.notes if n.startswith("left out python 3.13"))
    assert "3.12 at most, tox.ini:3" in note
    classified = plan_init(
        {
            "name": "demo",
            "requires-python": ">=3.8",
            "classifiers": ["Programming Language :: Python :: 3.13"],
        },
        root,
        available=every,
    )
    assert classified.pythons == ["3.13"], "classifiers are the project's word: no cap"
    untested = plan_init({"name": "demo", "requires-python": ">=3.12"}, root / "x", available=every)
    assert untested.pythons == ["3.12", "3.13"]
