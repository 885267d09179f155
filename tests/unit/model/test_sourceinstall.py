"""Which projects the image installs from source (metadata from the build configuration,
code from /app) and which get the wheel built from the whole project, with why."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from noxgrid.model.declaration import load_config
from noxgrid.model.image import build_args
from noxgrid.model.matrix import Cell
from noxgrid.model.sourceinstall import META_GLOBS, source_install
from noxgrid.render.dockerfile import TEMPLATE

SRC = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"
[project]
name = "svc"
version = "1.0"
readme = "README.md"
license = {file = "LICENSE"}
[project.scripts]
svc = "svc.cli:main"
[tool.setuptools.packages.find]
where = ["src"]
[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
[tool.noxgrid.docker]
image = "acme/svc"
"""
CMDCLASS = '[tool.setuptools.cmdclass]\nbuild_py = "build_protos.BuildPy"\n\n'
CELL = Cell(python="3.11", accelerator="cpu", profile="lean")


def project(tmp_path: Path, text: str = SRC, files: dict[str, str] | None = None) -> Path:
    root = tmp_path / "p"
    (root / "src" / "svc").mkdir(parents=True)
    (root / "src" / "svc" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(text)
    (root / "requirements").mkdir()
    (root / "requirements" / "lean.in").write_text("fastapi\n")
    for name, content in (files or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content)
    return root


def test_a_src_layout_setuptools_project_installs_from_source(tmp_path):
    root = project(tmp_path)
    assert source_install(root).folder == "src"
    args = build_args(load_config(root), CELL, base="b", lock_sha256="", revision="")
    assert args["PROJECT_INSTALL"] == "source" and args["PROJECT_SOURCE"] == "src"


def test_a_setup_cfg_of_tool_settings_only_is_copied_not_refused(tmp_path):
    root = project(tmp_path, files={"setup.cfg": "[flake8]\nmax-line-length = 100\n"})
    assert source_install(root).folder == "src"


def test_auto_discovery_of_a_src_folder_and_package_dir(tmp_path):
    plain = SRC.replace('[tool.setuptools.packages.find]\nwhere = ["src"]\n', "")
    assert source_install(project(tmp_path, plain)).folder == "src"
    mapped = plain + '[tool.setuptools]\npackage-dir = {"" = "lib"}\n'
    root = project(tmp_path / "b", mapped, {"lib/svc/__init__.py": ""})
    assert source_install(root).folder == "lib"


@pytest.mark.parametrize(
    ("change", "files", "why"),
    [
        (("setuptools.build_meta", "hatchling.build"), {}, "hatchling.build"),
        (('version = "1.0"', 'dynamic = ["version"]'), {}, "dynamic"),
        (("", ""), {"setup.py": "from setuptools import setup\nsetup()\n"}, "setup.py"),
        (('readme = "README.md"', 'readme = "docs/intro.md"'), {}, "readme"),
        (('where = ["src"]', 'where = ["."]'), {}, "flat layout"),
        (('where = ["src"]', 'where = ["src"]\nexclude = ["svc.tests*"]'), {}, "excludes"),
        (('where = ["src"]', 'where = ["src", "lib"]'), {}, "several"),
        (
            ("[tool.setuptools.packages.find]", "[tool.setuptools]\npackages = ['svc']\n[x]"),
            {},
            "one by one",
        ),
        (("", ""), {"setup.cfg": "[options]\npy_modules = one\n"}, "setup.cfg"),
        (("", ""), {"src/svc/fast.c": "int f(void) { return 1; }\n"}, "compiled"),
    ],
)
def test_anything_else_builds_the_wheel_and_says_why(tmp_path, change, files, why):
    root = project(tmp_path, SRC.replace(*change), files)
    found = source_install(root)
    assert found.folder is None and why in found.reason, found
    args = build_args(load_config(root), CELL, base="b", lock_sha256="", revision="")
    assert "PROJECT_INSTALL" not in args, "the template's default builds the wheel"


def test_no_pyproject_and_local_packages_and_no_project_build_the_wheel(tmp_path):
    assert source_install(tmp_path).folder is None
    local = SRC.replace(
        '["requirements/lean.in"]', '["requirements/lean.in"]\nlocal-packages = ["libs/x"]'
    )
    root = project(tmp_path, local, {"libs/x/pyproject.toml": "[project]\nname='x'\n"})
    assert "PROJECT_INSTALL" not in build_args(
        load_config(root), CELL, base="b", lock_sha256="", revision=""
    ), "local packages need the whole context: the built path"
    service = SRC.replace("[tool.noxgrid.docker]", "install-project = false\n[tool.noxgrid.docker]")
    args = build_args(
        load_config(project(tmp_path / "s", service)), CELL, base="b", lock_sha256="", revision=""
    )
    assert args["INSTALL_PROJECT"] == "0" and "PROJECT_INSTALL" not in args


def test_the_template_has_both_paths_and_the_metadata_stage_copies_what_the_model_allows():
    template = TEMPLATE.read_text()
    assert "ARG PROJECT_INSTALL=built\n" in template, "the default is the path that always works"
    assert "FROM install-${PROJECT_INSTALL} AS app\n" in template
    meta = re.search(r"FROM scratch AS project-meta\nCOPY (.*) /\n", template)
    assert meta is not None
    copied = meta.group(1).split()
    assert copied[:2] == ["pyproject.toml", "setup.cf[g]"] and tuple(copied[2:]) == META_GLOBS
    source = template[template.index("FROM app-base AS install-source") :]
    source = source[: source.index("FROM install-")]
    assert "from=project-meta" in source and "source=.," not in source, (
        "the source path's backend step must not see the whole context"
    )
    assert source.rstrip().endswith("COPY . /app"), "the code is copied after the metadata"
    assert '"/app/$PROJECT_SOURCE" > "$site/_project_source.pth"' in source


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (
            ('requires = ["setuptools>=68"]', 'requires = ["setuptools>=68", "grpcio-tools"]'),
            "build-system.requires names 'grpcio-tools'",
        ),
        (
            ("[tool.setuptools.packages.find]", CMDCLASS + "[tool.setuptools.packages.find]"),
            "[tool.setuptools] cmdclass",
        ),
        (
            ('where = ["src"]', 'where = ["src"]\nnamespaces = false'),
            "namespaces = false",
        ),
        (
            ("[tool.setuptools.packages.find]", "[tool.setuptools]\npy-modules = ['one']\n[x]"),
            "[tool.setuptools] py-modules",
        ),
    ],
)
def test_a_build_plugin_or_a_build_time_setuptools_key_builds_the_wheel(tmp_path, change, why):
    found = source_install(project(tmp_path, SRC.replace(*change)))
    assert found.folder is None and why in found.reason, found


def test_setuptools_and_wheel_of_any_version_and_harmless_keys_stay_on_source(tmp_path):
    text = (
        SRC.replace(
            'requires = ["setuptools>=68"]', 'requires = ["setuptools >= 68, <80", "Wheel==0.43"]'
        ).replace("[tool.setuptools.packages.find]", "[tool.setuptools]\nzip-safe = false\n[x]\n")
        + '[tool.setuptools.packages.find]\nwhere = ["src"]\n'
    )
    assert source_install(project(tmp_path, text)).folder == "src"


def test_a_data_file_no_package_data_names_builds_the_wheel_naming_it(tmp_path):
    files = {
        "src/svc/py.typed": "",
        "src/svc/__pycache__/x.cpython-311.pyc": "",
        "src/svc/templates/x.html": "<p/>",
    }
    found = source_install(project(tmp_path, files=files))
    assert found.folder is None, "the wheel has no x.html; /app/src would"
    assert found.reason.startswith("src/svc/templates/x.html is in the source folder"), found
    named = SRC + '[tool.setuptools.package-data]\nsvc = ["templates/*.html"]\n'
    assert source_install(project(tmp_path / "b", named, files)).folder == "src"
    other = SRC + '[tool.setuptools.package-data]\nsvc = ["*.html"]\n'
    assert source_install(project(tmp_path / "c", other, files)).folder is None, (
        "globbed as setuptools globs: *.html names no file in templates/"
    )
    ignored = {**files, ".dockerignore": "**/*.html\n"}
    assert source_install(project(tmp_path / "d", files=ignored)).folder == "src", (
        "a file .dockerignore keeps out is in neither"
    )


def test_the_reference_service_installs_from_source():
    service = Path(__file__).parents[3] / "examples" / "service"
    assert source_install(service).folder == "src", source_install(service).reason


def test_without_a_dockerignore_the_default_one_is_applied(tmp_path):
    root = project(tmp_path, files={"src/svc.egg-info/PKG-INFO": "Name: svc\n"})
    assert source_install(root).folder is None, "an egg-info an editable install left"
    args = build_args(load_config(root), CELL, base="b", lock_sha256="", revision="")
    assert args["PROJECT_SOURCE"] == "src", "the default .dockerignore keeps egg-info out"
