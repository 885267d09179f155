"""A poetry project that is an application: no package to build, its dependencies in PEP 508."""

from __future__ import annotations

import sys

from packaging.requirements import Requirement

from noxgrid.model.poetryapp import not_a_package, poetry_application

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SERVICE = """
[tool.poetry]
name = "ocr-api"
version = "0.1.0"
classifiers = ["Programming Language :: Python :: 3.11"]

[tool.poetry.dependencies]
python = "^3.11"
engine = {git = "https://example.org/o/engine.git", branch = "main", extras = ["torch"]}
fastapi = ">=0.73.0"
uvicorn = {version = "^0.30", extras = ["standard"]}
numpy = {version = "~1.26", markers = "sys_platform == 'linux'"}
local = {path = "../local"}

[tool.poetry.group.dev.dependencies]
pytest = "^8"
"""


def nothing(_: str) -> bool:
    return False


def test_a_service_with_nothing_to_build_is_an_application():
    app = poetry_application(tomllib.loads(SERVICE), nothing)
    assert app is not None
    assert "no ocr_api/ or ocr_api.py" in app.why
    assert app.requires_python == ">=3.11,<4.0"
    assert app.requirements == (
        "engine[torch] @ git+https://example.org/o/engine.git@main",
        "fastapi>=0.73.0",
        "uvicorn[standard]>=0.30,<0.31",
        "numpy>=1.26,<1.27; sys_platform == 'linux'",
    )
    for line in app.requirements:
        Requirement(line)
    assert app.untranslated == ("local = {'path': '../local'}",)
    project = app.project()
    assert project["name"] == "ocr-api" and project["requires-python"] == ">=3.11,<4.0"
    assert project["classifiers"] == ["Programming Language :: Python :: 3.11"]
    text = app.requirements_text()
    assert text.startswith("# From [tool.poetry.dependencies]")
    assert "fastapi>=0.73.0\n" in text
    assert "# not translated (no PEP 508 form; add it by hand): local = " in text


def test_package_mode_false_and_what_poetry_would_build():
    assert not_a_package({"name": "x", "package-mode": False}, lambda _: True) == (
        "package-mode = false in [tool.poetry]"
    )
    assert not_a_package({"name": "x", "packages": [{"include": "app"}]}, nothing) is None
    for found in ("my_lib", "my_lib.py", "src/my_lib", "src/my_lib.py"):
        assert not_a_package({"name": "My-Lib"}, lambda p, found=found: p == found) is None
    assert not_a_package({"name": "My-Lib"}, nothing) is not None


def test_packages_and_projects_without_poetry_are_none():
    assert poetry_application({"project": {"name": "x"}}, nothing) is None
    document = tomllib.loads(SERVICE)
    assert poetry_application(document, lambda p: p == "src/ocr_api") is None


def test_poetry_2_project_table_dependencies_are_kept():
    document = {
        "project": {"name": "svc", "dependencies": ["fastapi>=0.100"], "requires-python": ">=3.10"},
        "tool": {"poetry": {"package-mode": False}},
    }
    app = poetry_application(document, nothing)
    assert app is not None
    assert app.requirements == ("fastapi>=0.100",) and app.requires_python == ">=3.10"


def test_app_drift_compares_names_not_versions():
    from noxgrid.model.poetryapp import app_drift

    app = poetry_application(tomllib.loads(SERVICE), nothing)
    assert app is not None
    names = {"engine", "fastapi", "uvicorn", "numpy", "local"}
    assert app_drift(app, names) == ([], [])
    assert app_drift(app, names - {"fastapi"} | {"redis"}) == (["fastapi"], ["redis"])


def test_check_names_an_app_file_out_of_step_with_poetry(make_project):
    from noxgrid.check.findings import poetry_app_findings
    from noxgrid.model.declaration import load_config

    root = make_project(
        SERVICE.replace('local = {path = "../local"}\n', "")
        + '\n[tool.noxgrid]\npython = ["3.11"]\naccelerators = ["cpu"]\n'
        '[tool.noxgrid.profile.lean]\nrequirements = ["requirements/app.in"]\n'
        "install-project = false\n",
        {
            "requirements/app.in": "engine==2.0\nfastapi\nuvicorn[standard]\nnumpy\n",
        },
    )
    config = load_config(root)
    assert poetry_app_findings(config) == []
    (root / "requirements/app.in").write_text("engine==2.0\nuvicorn\nnumpy\nredis\n")
    (finding,) = poetry_app_findings(config)
    assert finding["kind"] == "app-drift" and finding["where"] == "requirements/app.in"
    assert finding["message"] == (
        "requirements/app.in is out of step with [tool.poetry.dependencies]: fastapi declared "
        "there and not in it; redis in it and not declared there"
    )
