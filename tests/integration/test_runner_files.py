"""The test suite never writes the GitHub runner's files (summary, outputs, env, PATH)."""

from __future__ import annotations

import sys

from tests.conftest import RUNNER_FILES
from tests.integration.conftest import REPO, run

# The unit tests that run ``noxgrid release`` through ``cli.main``: the release report is
# appended to $GITHUB_STEP_SUMMARY wherever that variable is set.
RELEASES = (
    "tests/unit/cell/test_run.py::test_a_release_with_a_crashing_cell_still_writes_its_report",
    "tests/unit/commands/test_cli.py::test_an_empty_selection_is_an_error_naming_the_excludes",
)


def test_unit_tests_that_run_a_release_leave_the_runners_files_alone(tmp_path):
    files = {name: tmp_path / name.lower() for name in RUNNER_FILES}
    for path in files.values():
        path.write_text("before\n")
    result = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(tmp_path / "inner"),
            *RELEASES,
        ],
        cwd=REPO,
        env={name: str(path) for name, path in files.items()},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
    for name, path in files.items():
        assert path.read_text() == "before\n", f"a test wrote ${name}: {path.read_text()!r}"
