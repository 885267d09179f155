"""Named tox environments: the one that runs pytest over the tests is read, as tox reads it."""

from __future__ import annotations

import textwrap

from noxgrid.model.testoptions import project_test_options
from noxgrid.model.toxconfig import setenv, tox_environments, tox_testenv
from noxgrid.model.toxenv import tox_env

# As SeldonIO/MLServer's tox.ini has it: the suite is a named environment.
MLSERVER = """
    [tox]
    isolated_build = true
    envlist =
        mlserver
        all-runtimes
        py3

    [testenv]
    allowlist_externals = poetry
    deps = pytest-asyncio

    [testenv:py3]
    commands =
        python -m pytest {posargs} -n auto

    [testenv:lint]
    deps = flake8
    commands = flake8 mlserver

    [testenv:mlserver]
    commands_pre =
        poetry sync --no-root
    commands =
        python -m pytest {posargs} -n auto \\
            {toxinidir}/tests \\
            --ignore={toxinidir}/tests/kafka \\
            --ignore={toxinidir}/tests/grpc
        # run apart: flaky in parallel
        python -m pytest {posargs} {toxinidir}/tests/kafka {toxinidir}/tests/grpc
    set_env =
        GITHUB_REF = {env:GITHUB_REF:refs/heads/master}

    [testenv:all-runtimes]
    deps = -r{toxinidir}/requirements/all.txt
    commands =
        python -m pytest {posargs} -n auto {toxinidir}/tests {toxinidir}/runtimes
"""


def tox_ini(tmp_path, text: str):
    (tmp_path / "tox.ini").write_text(textwrap.dedent(text))
    return tmp_path


def test_the_first_environment_of_the_envlist_that_runs_pytest_is_the_suite(tmp_path):
    env = tox_testenv(textwrap.dedent(MLSERVER))
    assert env is not None and env.section == "[testenv:mlserver]"
    assert env.get("allowlist_externals") == "poetry", "inherited from [testenv]"
    assert env.get("deps") == "pytest-asyncio"
    assert setenv(env) == {"GITHUB_REF": "{env:GITHUB_REF:refs/heads/master}"}
    sections = [e.section for e in tox_environments(textwrap.dedent(MLSERVER))]
    assert sections == [
        "[testenv:mlserver]",
        "[testenv:all-runtimes]",
        "[testenv:py3]",
        "[testenv:lint]",
        "[testenv]",
    ]


def test_a_named_environments_pytest_options_are_carried(tmp_path):
    options = project_test_options(tox_ini(tmp_path, MLSERVER))
    assert options is not None
    assert options.args == ("--ignore=tests/kafka", "--ignore=tests/grpc")
    lines = (tmp_path / "tox.ini").read_text().splitlines()
    first = lines.index("    python -m pytest {posargs} -n auto \\")
    assert lines[first - 4] == "[testenv:mlserver]"
    assert options.where == f"tox.ini:{first + 1}", "the line its command begins on"
    assert "-n" in options.dropped and "tests" in options.dropped


def test_a_named_environments_deps_are_the_test_requirements(tmp_path):
    root = tox_ini(
        tmp_path,
        """
        [tox]
        envlist = lint, unit

        [testenv:lint]
        deps = ruff
        commands = ruff check .

        [testenv:unit]
        deps =
            -r{toxinidir}/requirements/test.txt
            pytest-mock
        extras = server
        commands = pytest tests
        """,
    )
    env = tox_env(root)
    assert env is not None
    assert env.where == "tox.ini [testenv:unit]", "lint runs no pytest"
    assert env.files == ("requirements/test.txt",)
    assert env.requirements == ("pytest-mock",)
    assert env.extras == ("server",)


def test_without_an_envlist_the_files_order_and_the_bare_testenv_last(tmp_path):
    text = """
        [testenv]
        deps = coverage
        commands = coverage report

        [testenv:docs]
        commands = sphinx-build docs out

        [testenv:tests]
        commands = coverage run -m pytest -m "not slow"
    """
    env = tox_testenv(textwrap.dedent(text))
    assert env is not None and env.section == "[testenv:tests]"
    assert env.get("deps") == "coverage"
    options = project_test_options(tox_ini(tmp_path, text))
    assert options is not None and options.args == ("-m", "not slow")
    assert options.where == "tox.ini:10", "the line of a command on its key's line"


def test_the_bare_testenv_when_nothing_runs_pytest_and_envlist_names_without_sections():
    env = tox_testenv("[tox]\nenvlist = py311, lint\n\n[testenv]\ndeps = six\ncommands = nose2\n")
    assert env is not None and env.section == "[testenv]"
    assert tox_testenv("[testenv:lint]\ncommands = flake8\n") is None
    assert tox_testenv("not an ini [") is None
    env = tox_testenv("[tox]\nenvlist = py311\n\n[testenv]\ncommands = pytest\n")
    assert env is not None and env.section == "[testenv]"
