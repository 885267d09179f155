"""What of a build backend's files counts toward a lock's inputs (model.buildinputs)."""

from __future__ import annotations

from noxgrid.model.buildinputs import (
    file_digest,
    pyproject_view,
    setup_cfg_view,
    setup_py_view,
)

POETRY = """
[build-system]
requires = ["poetry-core"]
build-backend = "poetry.core.masonry.api"

[tool.poetry]
name = "svc"
version = "0.1.0"
description = "a service"

[tool.poetry.dependencies]
python = "^3.10"
fastapi = "^0.110"

[tool.noxgrid.docker]
dockerfile = "Dockerfile"

[tool.ruff]
line-length = 100
"""


def test_pyproject_edits_outside_the_dependencies_do_not_count():
    before = pyproject_view(POETRY)
    for edit in (
        POETRY.replace('dockerfile = "Dockerfile"', 'dockerfile = "docker/Dockerfile"'),
        POETRY.replace("[tool.ruff]", "# linting\n[tool.ruff]"),
        POETRY.replace("line-length = 100", "line-length = 120"),
        POETRY.replace("a service", "an inference service"),
        POETRY.replace('version = "0.1.0"', 'version = "0.2.0"'),
    ):
        assert pyproject_view(edit) == before


def test_pyproject_dependency_edits_count():
    before = pyproject_view(POETRY)
    assert pyproject_view(POETRY.replace('"^0.110"', '"^0.111"')) != before
    assert pyproject_view(POETRY.replace('"^3.10"', '"^3.11"')) != before
    extras = POETRY + '\n[tool.poetry.extras]\ngpu = ["onnxruntime-gpu"]\n'
    assert pyproject_view(extras) != before
    project = '[project]\nname = "a"\nreadme = "R.md"\ndependencies = ["x"]\n'
    assert pyproject_view(project.replace("R.md", "README.md")) == pyproject_view(project)
    assert pyproject_view(project.replace('["x"]', '["x", "y"]')) != pyproject_view(project)
    # A tool noxgrid does not know may be a backend plugin's: kept whole.
    assert pyproject_view(POETRY + "[tool.hatch]\na = 1\n") != before


SETUP_CFG = """
[metadata]
name = svc
description = a service
classifiers =
    Programming Language :: Python :: 3.10

[options]
python_requires = >=3.9
install_requires =
    fastapi>=0.100  # the API
    numpy

[options.extras_require]
test = pytest

[flake8]
max-line-length = 100
"""


def test_setup_cfg_counts_only_what_setuptools_reads_the_dependencies_from():
    before = setup_cfg_view(SETUP_CFG)
    assert setup_cfg_view(SETUP_CFG.replace("= 100", "= 120")) == before
    assert setup_cfg_view(SETUP_CFG.replace("# the API", "# the HTTP API")) == before
    assert setup_cfg_view(SETUP_CFG.replace("    numpy", "    # pinned below\n    numpy")) == (
        before
    )
    assert setup_cfg_view(SETUP_CFG.replace("3.10", "3.11")) == before, "classifiers: prose"
    assert setup_cfg_view(SETUP_CFG.replace("    numpy", "    numpy<2")) != before
    assert setup_cfg_view(SETUP_CFG.replace(">=3.9", ">=3.10")) != before
    assert setup_cfg_view(SETUP_CFG.replace("test = pytest", "test = pytest<9")) != before


def test_setup_py_counts_its_code_not_its_comments():
    code = 'from setuptools import setup\n\nsetup(name="svc", install_requires=["numpy"])\n'
    commented = "# the service\n" + code.replace("\n\n", "\n\n\n# deps below\n")
    assert setup_py_view(commented) == setup_py_view(code)
    assert setup_py_view(code.replace("numpy", "numpy<2")) != setup_py_view(code)


def test_a_file_that_cannot_be_parsed_counts_as_its_bytes(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text("[project\n")
    first = file_digest(path)
    path.write_text("[project\n# more\n")
    assert file_digest(path) != first
