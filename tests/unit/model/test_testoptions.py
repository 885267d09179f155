"""init carries the options a project's own CI gives pytest, and tells test tools from
runtime extras."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from noxgrid.model.devtools import runs_tests, tools_only
from noxgrid.model.shellsuite import shell_script, shell_suite_note
from noxgrid.model.testoptions import (
    carried,
    project_test_options,
    pytest_argv,
)


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["pytest", "-q"], ["-q"]),
        (["python", "-m", "pytest", "-k", "x"], ["-k", "x"]),
        (["coverage", "run", "-m", "pytest"], []),
        (["py.test"], []),
        (["python", "setup.py", "test"], None),
        (["make", "docs"], None),
    ],
)
def test_pytest_is_found_however_it_is_started(command, expected):
    assert pytest_argv(command) == expected


def test_selection_is_carried_and_output_coverage_and_workers_are_not():
    kept, dropped = carried(
        [
            "-m",
            "not network",
            "-k",
            "not perf",
            "--benchmark-skip",
            "-p",
            "no:cacheprovider",
            "--ignore=tests/slow",
            "-n",
            "auto",
            "--cov=pkg",
            "--cov-report",
            "xml",
            "-v",
            "-ra",
            "--junitxml=out.xml",
            "tests",
        ]
    ) or ([], [])
    assert kept == [
        "-m",
        "not network",
        "-k",
        "not perf",
        "--benchmark-skip",
        "-p",
        "no:cacheprovider",
        "--ignore=tests/slow",
    ]
    assert "-n" in dropped and "auto" in dropped and "tests" in dropped


def test_a_command_that_runs_one_file_or_a_notebook_is_not_the_suite():
    assert carried(["--nbval", "notebook.ipynb"]) is None
    assert carried(["tests/test_typing.py", "-vv"]) is None


def test_tox_default_posargs_factors_and_substitutions(tmp_path):
    root = write(
        tmp_path,
        {
            "tox.ini": """
                [tox]
                envlist = py3{9,10,11}

                [testenv]
                deps = pytest
                commands =
                    pytest --nbval demo.ipynb
                    py3{9,10}: python -m pytest {posargs:"{toxinidir}/tests" -m "not slow" --cov=pkg}
                """,
        },
    )
    options = project_test_options(root)
    assert options is not None and options.args == ("-m", "not slow")
    assert options.where == "tox.ini:9"


def test_tox_in_setup_cfg_and_in_pyproject(tmp_path):
    cfg = write(tmp_path / "a", {"setup.cfg": "[testenv]\ncommands = pytest -W error\n"})
    options = project_test_options(cfg)
    assert options is not None and options.args == ("-W", "error")
    toml = write(
        tmp_path / "b",
        {"pyproject.toml": 'legacy_tox_ini = """\n[testenv]\ncommands = pytest -m "not db"\n"""\n'},
    )
    options = project_test_options(toml)
    assert options is not None and options.args == ("-m", "not db")


def test_a_noxfile_and_a_workflow(tmp_path):
    nox = write(
        tmp_path / "a",
        {
            "noxfile.py": """
                import nox

                @nox.session
                def tests(session):
                    session.install(".")
                    session.run("pytest", "--benchmark-skip", *session.posargs)
                """
        },
    )
    options = project_test_options(nox)
    assert options is not None and options.args == ("--benchmark-skip",)
    assert options.where == "noxfile.py:7"
    workflow = write(
        tmp_path / "b",
        {
            ".github/workflows/test.yml": """
                jobs:
                  test:
                    steps:
                      - run: pip install -e .[test] && python -m pytest -m "not integration" -x
                """
        },
    )
    options = project_test_options(workflow)
    assert options is not None and options.args == ("-m", "not integration")
    assert options.where == ".github/workflows/test.yml:5"


def test_no_ci_configuration_means_no_options(tmp_path):
    assert project_test_options(tmp_path) is None


def test_extras_of_developers_tools_are_told_from_runtime_extras():
    assert tools_only(["pytest-codspeed", "pytest-xdist[psutil]", "attrs[tests]"], "attrs")
    assert tools_only(["mypy>=1.11", "pytest-mypy-plugins"], "attrs")
    assert tools_only(["sphinx", "furo", "myst-parser"], "pkg")
    assert not tools_only(["requests", "pytest"], "pkg")
    assert not tools_only(["onnxruntime"], "pkg")
    assert not tools_only([], "pkg")
    assert runs_tests(["pytest>=6", "pytest-cov", "nbval"], "tqdm")
    assert not runs_tests(["mypy"], "pkg")


@pytest.mark.parametrize(
    ("argv", "script"),
    [
        (["sh", "-c", "cp a b && pytest"], "cp a b && pytest"),
        (["/bin/bash", "-ec", "pytest"], "pytest"),
        (["dash", "-c"], ""),
        (["pytest", "-c", "setup.cfg"], None),
        (["shellcheck", "-c", "x"], None),
        (["sh", "script.sh"], None),
    ],
)
def test_a_command_that_runs_a_shell_is_recognised(argv, script):
    assert shell_script(argv) == script


def test_a_shell_suite_command_is_told_what_it_loses_and_the_declaration_that_keeps_it():
    note = shell_suite_note(["sh", "-c", "cp .env.example .env; python gen.py && pytest -x"])
    assert "no JUnit report, no deselection of GPU tests" in note
    assert (
        'setup = [["cp", ".env.example", ".env"], ["python", "gen.py"]] and '
        'command = ["pytest", "-x"]' in note
    )
    bare = shell_suite_note(["sh", "-c", "make test"])
    assert "fix: run the tests as the command" in bare
    assert shell_suite_note(["pytest", "-q"]) is None


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["coverage", "run", "--source=pkg", "-m", "pytest", "-x"], ["-x"]),
        (["coverage", "run", "--source", "pkg", "--branch", "-m", "pytest"], []),
        (["python3.11", "-m", "coverage", "run", "-m", "pytest", "-k", "a"], ["-k", "a"]),
        (["poetry", "run", "pytest", "-m", "unit"], ["-m", "unit"]),
        (["CI=1", "timeout", "600", "pytest"], []),
        (["pip", "install", "pytest", "pytest-cov"], None),
        (["python", "-m", "pip", "install", "pytest"], None),
    ],
)
def test_wrappers_before_pytest(command, expected):
    assert pytest_argv(command) == expected


def test_a_variable_from_the_workflows_job_or_steps_env(tmp_path):
    root = write(
        tmp_path,
        {
            ".github/workflows/ci.yml": """
                on: push
                env:
                  TEST_OPTS: --benchmark-skip
                  MARKS: "not slow"
                jobs:
                  lint:
                    env:
                      TEST_OPTS: --lint-only
                    steps:
                      - run: ruff check
                  test:
                    runs-on: ubuntu-latest
                    steps:
                      - name: other
                        env:
                          IGNORED: --not-this
                        run: echo
                      - name: tests
                        run: |
                          pip install -e .[test]
                          coverage run -m pytest $TEST_OPTS -m "${MARKS}" $IGNORED
            """,
        },
    )
    options = project_test_options(root)
    assert options is not None
    assert options.args == ("--benchmark-skip", "-m", "not slow")
    assert options.where == (
        ".github/workflows/ci.yml:22, with TEST_OPTS from .github/workflows/ci.yml:4, "
        "MARKS from .github/workflows/ci.yml:5"
    )


def test_a_steps_own_env_wins_and_pytest_addopts_counts(tmp_path):
    root = write(
        tmp_path,
        {
            ".github/workflows/t.yaml": """
                env:
                  OPTS: --outer
                jobs:
                  t:
                    steps:
                      - run: python -m pytest ${OPTS} --ignore=tests/integration
                        env:
                          OPTS: --inner
                          PYTEST_ADDOPTS: -p no:cacheprovider
            """,
        },
    )
    options = project_test_options(root)
    assert options is not None
    assert options.args == ("--inner", "--ignore=tests/integration", "-p", "no:cacheprovider")


def test_tox_posargs_from_the_workflow_and_setenv(tmp_path):
    root = write(
        tmp_path,
        {
            "tox.ini": """
                [testenv]
                setenv =
                    MARKS = not network
                    PYTEST_ADDOPTS = --benchmark-skip
                commands = pytest -m "{env:MARKS:all}" {posargs}
            """,
            ".github/workflows/ci.yml": """
                jobs:
                  t:
                    steps:
                      - run: tox -e py -- --ignore=tests/integration
            """,
        },
    )
    options = project_test_options(root)
    assert options is not None
    assert options.args == ("-m", "not network", "--ignore=tests/integration", "--benchmark-skip")
    assert "posargs from .github/workflows/ci.yml:5" in options.where
    assert "PYTEST_ADDOPTS from tox.ini's setenv" in options.where


def test_nox_posargs_from_the_workflow(tmp_path):
    root = write(
        tmp_path,
        {
            "noxfile.py": """
                import nox

                @nox.session
                def tests(session):
                    session.run("pytest", *session.posargs)
            """,
            ".github/workflows/ci.yml": "jobs:\n  t:\n    steps:\n      - run: nox -s tests -- -k 'not slow'\n",
        },
    )
    options = project_test_options(root)
    assert options is not None and options.args == ("-k", "not slow")
