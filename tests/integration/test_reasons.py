"""The reason a stage failed reaches the screen in every front end, with its fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.integration.conftest import REPO, nox, noxgrid

FIX = (
    "fix: drop or replace the largest packages, or raise size-budget in [tool.noxgrid.profile.full]"
    "; or, where this is on purpose, allow it in pyproject.toml: [[tool.noxgrid.allow]] rule = "
    '"budget", reason = "why it is wanted"'
)


@pytest.fixture
def over_budget(tmp_path: Path) -> Path:
    """The reference service with its committed locks and a full profile budget of 10 MB."""
    root = tmp_path / "service"
    shutil.copytree(REPO / "examples" / "service", root, ignore=shutil.ignore_patterns(".noxgrid"))
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text()
    assert 'size-budget = "3GB"' in text
    pyproject.write_text(text.replace('size-budget = "3GB"', 'size-budget = "10MB"'))
    return root


def test_a_lock_over_its_budget_says_why_and_the_fix_everywhere(over_budget: Path):
    session = nox("-s", "ci-full-3.11(cpu)", cwd=over_budget)
    out = session.stdout + session.stderr
    assert session.returncode != 0, out
    (stage,) = [line for line in out.splitlines() if " lock failed in " in line]
    assert "over the 10.0 MB budget of profile 'full'" in stage and stage.endswith(FIX)
    (aborted,) = [line for line in out.splitlines() if "Session ci-full-3.11(cpu) " in line]
    assert "over the 10.0 MB budget" in aborted and aborted.rstrip(".").endswith(FIX), aborted
    assert "noxgrid lock 3.11-cpu-full" not in out

    run = noxgrid("run", "3.11-cpu-full", "--no-docker", cwd=over_budget)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "reports/logs" not in out  # no log was written: no stage ran a command
    assert "3.11-cpu-full.json" in out

    for argv in (("report",), ("report", "--markdown")):
        report = noxgrid(*argv, cwd=over_budget)
        (line,) = [line for line in report.stdout.splitlines() if "failed at lock" in line]
        assert "over the 10.0 MB budget" in line and line.endswith(FIX), report.stdout


def test_check_names_the_budget_and_the_largest_on_one_line(over_budget: Path):
    check = noxgrid("check", cwd=over_budget)
    (line,) = [line for line in check.stdout.splitlines() if "[policy] 3.11-cpu-full" in line]
    assert not line.endswith(":") and "159.5 MB opencv-python-headless" in line, check.stdout


MIXED = """
import pytest

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown broke")

@pytest.fixture
def broken_setup():
    raise RuntimeError("setup broke")

@pytest.mark.parametrize("name", ["a b", "c d", "e"])
def test_param(name):
    raise TypeError("Passing a non-Container object is not supported; " + "x" * 150 + " END")

def test_ok_then_teardown(broken_teardown):
    pass

def test_fail_then_teardown(broken_teardown):
    assert 1 == 2

def test_setup(broken_setup):
    pass

def test_pass():
    pass

@pytest.mark.skip
def test_skip():
    pass
"""


@pytest.mark.parametrize("xdist", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_suite_counts_agree_with_pytest_and_quote_the_exception_whole(tmp_path, xdist):
    import re
    import sys

    from noxgrid.model.diagnose import last_line, suite_failure
    from noxgrid.model.pytest_junit import read_counts
    from tests.integration.conftest import run

    (tmp_path / "test_mixed.py").write_text(MIXED)
    junit = tmp_path / "junit.xml"
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_mixed.py", *xdist]
    argv += [f"--junitxml={junit}", "-o", "junit_family=xunit1"]
    # pytest cuts its short summary to the terminal's width, except on CI (CI or
    # BUILD_NUMBER set and not empty): the cut is what the suite stage must see through.
    done = run(argv, cwd=tmp_path, env={"COLUMNS": "80", "CI": "", "BUILD_NUMBER": ""})
    assert done.returncode == 1, done.stdout
    pytest_says = re.sub(r" in [\d.]+s.*$", "", last_line(done.stdout))
    assert (
        "Passing a non-Container object is not supported; xxx"
        not in done.stdout.split("short test summary info")[-1]
    )  # pytest's own summary cuts it
    counts = read_counts(junit.read_text())
    assert counts is not None and counts.describe() == pytest_says == (
        "4 failed, 2 passed, 1 skipped, 3 errors"
    )
    reason = suite_failure(
        done.stdout, 1, cell="c", profile="lean", requirements="r.in", junit=counts
    ).splitlines()[0]
    assert reason.startswith("4 failed, 2 passed, 1 skipped, 3 errors; first: test_mixed.py::")
    assert "x" * 150 + " END) [FAILED]" in reason


def test_a_test_that_aborts_is_quoted_with_its_file_and_line(tmp_path):
    import sys

    from noxgrid.model.diagnose import suite_failure
    from tests.integration.conftest import run

    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_abort.py").write_text(
        "import os\n\n\ndef test_ok():\n    pass\n\n\ndef test_abort():\n    os.abort()\n"
    )
    done = run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests"], cwd=tmp_path)
    assert done.returncode != 0 and "Fatal Python error: Aborted" in done.stderr
    reason = suite_failure(
        done.stdout + done.stderr,
        done.returncode,
        cell="c",
        profile="lean",
        requirements="r.in",
        root=str(tmp_path),
    ).splitlines()[0]
    assert reason.startswith(
        "the process died: Fatal Python error: Aborted in tests/test_abort.py:9 (test_abort); "
        "fix: run pytest tests/test_abort.py -k test_abort in the cell's venv"
    )
    assert "Extension modules" not in reason
