"""The test job of a hand-written workflow: python matrix, install lines, pytest args."""

from __future__ import annotations

from pathlib import Path

from noxgrid.model.ci_testjob import installs, parse_suite_jobs, suite_args, suite_job_for

ROOT = Path("/repo")
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
TEXT = """\
name: ci
on: [push]
env:
  TEST_OPTS: --benchmark-skip
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: pip install ruff && ruff check .
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        python-version: ["3.10", "3.11"]
        include:
          - python-version: "3.12"
    defaults:
      run:
        working-directory: backend
    steps:
      - uses: actions/setup-python@v5
        with:
          python-version: ${{ matrix.python-version }}
      - name: deps
        run: |
          python -m pip install --upgrade pip
          pip install -r requirements.txt -r ../shared/req.txt
          pip install pytest pytest-asyncio "httpx>=0.27" -e .[test]
      - run: pytest -x tests/unit --ignore=tests/unit/slow $TEST_OPTS -n 4 -m "not gpu"
  workers:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/setup-python@v5
        with:
          python-version: "3.9"
      - run: cd workers && uv pip install -r requirements-dev.txt && pytest -q tests
      - run: pytest workers/tests/test_more.py --deselect workers/tests/test_x.py::test_y
"""


def jobs():
    return parse_suite_jobs(TEXT, WORKFLOW)


def test_only_jobs_that_run_pytest_are_test_jobs():
    assert [job.name for job in jobs()] == ["test", "workers"]


def test_the_service_s_job_is_the_one_that_works_in_or_names_its_folder():
    services = ["backend", "workers"]
    assert suite_job_for(jobs(), "backend", services).name == "test"
    assert suite_job_for(jobs(), "workers", services).name == "workers"
    assert suite_job_for(jobs(), "other", services) is None


def test_the_python_matrix_and_setup_python_with_their_lines():
    test, workers = jobs()
    assert [(s.value, s.line) for s in test.pythons] == [("3.10", 14), ("3.11", 14), ("3.12", 16)]
    assert [(s.value, s.line) for s in workers.pythons] == [("3.9", 35)]


def test_install_lines_give_files_packages_and_what_is_left_out():
    found = installs(jobs()[0], "backend")
    assert [(s.value, s.line) for s in found.files] == [("requirements.txt", 27)]
    assert [s.value for s in found.packages] == ["pytest", "pytest-asyncio", "httpx>=0.27"]
    assert [s.value for s in found.left_out] == ["../shared/req.txt", ".[test]"]
    workers = installs(jobs()[1], "workers")
    assert [s.value for s in workers.files] == ["requirements-dev.txt"]


def test_pytest_arguments_seen_from_the_service_folder():
    args = suite_args(jobs()[0], "backend", ROOT)
    assert args.paths == ("tests/unit",)
    assert args.options == ("--ignore=tests/unit/slow", "--benchmark-skip", "-m", "not gpu")
    assert args.dropped == ("-x", "-n", "4")
    assert args.where == ".github/workflows/ci.yml:29"
    assert args.args == (
        "tests/unit",
        "--ignore=tests/unit/slow",
        "--benchmark-skip",
        "-m",
        "not gpu",
    )


def test_cd_and_paths_from_the_root_are_rebased_onto_the_service():
    workers = jobs()[1]
    assert suite_args(workers, "workers", ROOT).paths == ("tests",)
    rooted = parse_suite_jobs(
        TEXT.replace(
            "cd workers && uv pip install -r requirements-dev.txt && pytest -q tests", "echo"
        ),
        WORKFLOW,
    )[1]
    args = suite_args(rooted, "workers", ROOT)
    assert args.paths == ("tests/test_more.py",)
    assert args.options == ("--deselect=tests/test_x.py::test_y",)


def test_a_step_s_working_directory_wins_over_the_job_s_default():
    text = """\
jobs:
  t:
    defaults:
      run:
        working-directory: services/api
    steps:
      - run: pytest tests
        working-directory: services/api/sub
      - run: pytest other
        working-directory: ${{ matrix.dir }}
"""
    (job,) = parse_suite_jobs(text, WORKFLOW)
    assert [c.cwd for c in job.commands] == ["services/api/sub", "services/api"]
    assert suite_args(job, "services/api", ROOT).paths == ("sub/tests",)


def test_folders_below_the_service_installed_as_packages_are_its_local_ones():
    text = """\
jobs:
  t:
    steps:
      - run: pip install --no-deps ./svc/pkg -e svc/libs/shared[x] ./other/lib
      - run: cd svc && uv pip install -e ./sub -e . /abs/lib git+https://example.org/x/y
      - run: cd svc && pytest
"""
    found = installs(parse_suite_jobs(text, WORKFLOW)[0], "svc")
    assert [(s.value, s.line) for s in found.local] == [
        ("pkg", 4),
        ("libs/shared", 4),
        ("sub", 5),
    ]
    assert [s.value for s in found.left_out] == [
        "./other/lib",
        ".",
        "/abs/lib",
        "git+https://example.org/x/y",
    ]
