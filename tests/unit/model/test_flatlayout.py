"""Where noxgrid's Dockerfile goes so that setuptools' flat-layout discovery ignores it,
and the failure's cause when a project adopted before says otherwise."""

from __future__ import annotations

import pytest

from noxgrid.model.diagnose import install_failure
from noxgrid.model.flatlayout import (
    FLAT_PLACES,
    IGNORED_FOLDERS,
    BuildFiles,
    declared_dockerfile_problem,
    discovered_folder,
    dockerfile_place,
    flat_discovery,
    flat_layout_failure,
    project_dockerfile,
)

SETUPTOOLS = '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
PROJECT = '[project]\nname = "lib3"\nversion = "0.1"\n'
FOLDERS = ("lib3", "requirements", "tests")


def flat(pyproject: str | None = SETUPTOOLS + PROJECT, **more: object) -> BuildFiles:
    return BuildFiles(pyproject=pyproject, folders=FOLDERS, **more)  # type: ignore[arg-type]


def test_setuptools_auto_discovery_in_a_flat_layout_is_detected():
    assert flat_discovery(flat()) is not None
    assert flat_discovery(flat(PROJECT)) is not None, "no build-system: setuptools' legacy"
    assert flat_discovery(flat(None, setup_py="from setuptools import setup\nsetup()\n"))
    legacy = 'build-backend = "setuptools.build_meta:__legacy__"'
    assert flat_discovery(
        flat(SETUPTOOLS.replace('build-backend = "setuptools.build_meta"', legacy))
    )


@pytest.mark.parametrize(
    "files",
    [
        flat('[build-system]\nbuild-backend = "hatchling.build"\n' + PROJECT),
        flat('[build-system]\nbuild-backend = "uv_build"\n' + PROJECT),
        flat(SETUPTOOLS + PROJECT + '[tool.setuptools]\npackages = ["lib3"]\n'),
        flat(SETUPTOOLS + PROJECT + '[tool.setuptools]\npy-modules = ["lib3"]\n'),
        flat(SETUPTOOLS + PROJECT + "[tool.setuptools.packages.find]\nwhere = ['.']\n"),
        flat(SETUPTOOLS + PROJECT + '[tool.setuptools.package-dir]\n"" = "lib"\n'),
        flat(PROJECT, setup_cfg="[metadata]\nname = x\n[options]\npackages = find:\n"),
        flat(None, setup_py="from setuptools import setup, find_packages\n"
             "setup(name='x', packages=find_packages())\n"),
        flat(None, setup_py="setup(name='x', py_modules=['x'])\n"),
        flat(None, setup_py="setup(name='x', ext_modules=[Extension('x', ['x.c'])])\n"),
        BuildFiles(pyproject=SETUPTOOLS + PROJECT, folders=("src", "tests")),
        flat("this is [not toml"),
    ],
    ids=[
        "hatchling", "uv_build", "packages", "py-modules", "packages.find", "package-dir",
        "setup.cfg", "setup.py packages", "setup.py py_modules", "setup.py ext_modules",
        "src layout", "no toml",
    ],
)  # fmt: skip
def test_named_packages_another_backend_or_src_layout_leave_docker_alone(files):
    assert flat_discovery(files) is None
    assert dockerfile_place(files, ()) == ("docker/Dockerfile", None)


def test_the_place_is_a_root_dockerfile_else_a_folder_setuptools_leaves_out():
    place, why = dockerfile_place(flat(), ())
    assert place == "Dockerfile"
    assert why is not None and "not docker/Dockerfile" in why and "flat layout" in why
    assert dockerfile_place(flat(), ["Dockerfile"])[0] == "ci/Dockerfile"
    assert dockerfile_place(flat(), ["Dockerfile", "ci/Dockerfile"])[0] == "Dockerfile.noxgrid"


def test_the_place_is_what_setuptools_own_discovery_leaves_out(tmp_path):
    """The places, and the names kept out, agree with the setuptools installed here."""
    discovery = pytest.importorskip("setuptools.discovery")
    finder = discovery.FlatLayoutPackageFinder
    assert set(IGNORED_FOLDERS) <= set(finder.DEFAULT_EXCLUDE)
    for relative in ("lib3/__init__.py", "tests/test_x.py", *FLAT_PLACES):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("\n")
    assert finder.find(str(tmp_path)) == ["lib3"], "noxgrid's places are no package"
    (tmp_path / "docker").mkdir()
    assert "docker" in finder.find(str(tmp_path)), "docker/ is one"
    assert discovered_folder("docker") and not discovered_folder("ci")
    assert not discovered_folder(".docker") and not discovered_folder("my-docker")


def test_init_reads_the_tree(tmp_path):
    (tmp_path / "pyproject.toml").write_text(SETUPTOOLS + PROJECT)
    (tmp_path / "lib3").mkdir()
    place, why = project_dockerfile(tmp_path)
    assert place == "Dockerfile" and why
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    assert project_dockerfile(tmp_path)[0] == "ci/Dockerfile", "the project's own is kept"
    (tmp_path / "src").mkdir()
    assert project_dockerfile(tmp_path) == ("docker/Dockerfile", None)


def test_a_declared_dockerfile_in_a_discovered_folder_is_named():
    assert declared_dockerfile_problem(flat(), "docker/Dockerfile") is None, "no docker/"
    adopted = BuildFiles(pyproject=SETUPTOOLS + PROJECT, folders=(*FOLDERS, "docker"))
    problem = declared_dockerfile_problem(adopted, "docker/Dockerfile")
    assert problem is not None
    assert problem.startswith('[tool.noxgrid.docker] dockerfile = "docker/Dockerfile": its folder')
    assert declared_dockerfile_problem(adopted, "Dockerfile") is None
    ci = BuildFiles(pyproject=SETUPTOOLS + PROJECT, folders=(*FOLDERS, "ci"))
    assert declared_dockerfile_problem(ci, "ci/Dockerfile") is None
    backend = '[build-system]\nbuild-backend = "hatchling.build"\n'
    hatch = BuildFiles(backend + PROJECT, folders=(*FOLDERS, "docker"))
    assert declared_dockerfile_problem(hatch, "docker/Dockerfile") is None


UV_OUTPUT = """\
   Building lib3 @ file:///tmp/lib3
error: Failed to build `lib3 @ file:///tmp/lib3`
  cause: Call to `setuptools.build_meta.get_requires_for_build_editable` failed (exit status: 1)

         [stderr]
         error: Multiple top-level packages discovered in a flat-layout: ['lib3', 'docker'].

         To avoid accidental inclusion of unwanted files or directories,
"""


def test_the_install_failure_names_noxgrids_folder_and_the_fix():
    reason = install_failure(
        UV_OUTPUT, 1, cell="3.11-cpu-lean", requirements="requirements/lean.in"
    ).splitlines()[0]
    assert reason.startswith("the project could not be built: setuptools' automatic discovery")
    assert "(lib3, docker)" in reason and "docker/ is the folder of noxgrid's Dockerfile" in reason
    assert "fix: git mv docker/Dockerfile Dockerfile" in reason
    assert 'dockerfile = "Dockerfile"' in reason and "pin a version" not in reason
    taken = flat_layout_failure(UV_OUTPUT, "docker/Dockerfile", ["Dockerfile"])
    assert taken is not None and "git mv docker/Dockerfile ci/Dockerfile" in taken


def test_a_flat_layout_failure_without_noxgrids_folder_asks_for_named_packages():
    output = UV_OUTPUT.replace("'docker'", "'notebooks'")
    reason = flat_layout_failure(output, "Dockerfile")
    assert reason is not None and "(lib3, notebooks)" in reason
    assert "noxgrid's Dockerfile" not in reason and "[tool.setuptools]" in reason
    assert flat_layout_failure("error: Failed to build `x`", "docker/Dockerfile") is None
