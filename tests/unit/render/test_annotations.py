"""What a failed cell shows on GitHub: annotations on the files at fault, the build cache."""

from __future__ import annotations

import io

from noxgrid.cell.progress import PlainProgress
from noxgrid.model.image import cache_arguments
from noxgrid.model.matrix import Cell
from noxgrid.model.results import StageResult, Status
from noxgrid.render.annotations import error, failed_test_annotations

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="3" failures="1" errors="1">
<testcase classname="tests.test_api" name="test_ok" file="tests/test_api.py" line="3"/>
<testcase classname="tests.test_api" name="test_health" file="tests/test_api.py" line="9">
<failure message="assert 503 == 200">def test_health():
&gt;       assert client.get("/ready").status_code == 200
E       assert 503 == 200

tests/test_api.py:12: AssertionError</failure></testcase>
<testcase classname="tests.test_db" name="test_db" file="tests/test_db.py" line="4">
<error message="failed on setup with &quot;OperationalError: no such table, or: worse&quot;">
/usr/lib/python3/sqlite3.py:88: OperationalError</error></testcase>
</testsuite></testsuites>
"""


def test_failed_tests_become_annotations_on_their_file_and_line(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_api.py").write_text("")
    (tmp_path / "tests" / "test_db.py").write_text("")
    first, second = failed_test_annotations(JUNIT, tmp_path, cell="3.11-cpu-lean")
    assert first == (
        "::error file=tests/test_api.py,line=12,title=3.11-cpu-lean%3A test_health::"
        "assert 503 == 200"
    )
    # A frame outside the project is not where to annotate: the test's own line (1-based).
    assert second.startswith(
        "::error file=tests/test_db.py,line=5,title=3.11-cpu-lean%3A test_db::"
    )
    assert "no such table, or: worse" in second, "data keeps ':' and ','"
    assert failed_test_annotations("<not xml", tmp_path, cell="c") == []


def test_annotation_text_is_escaped_and_cleaned():
    line = error("50% done\r\nnext \x1b[31mred\x1b[0m", title="a:b,c")
    assert line == "::error title=a%3Ab%2Cc::50%25 done%0Anext red"


def test_a_failed_stage_is_an_annotation_in_github_actions():
    stream = io.StringIO()
    progress = PlainProgress(stream, github=True)
    cell = Cell(python="3.11", accelerator="cpu", profile="lean")
    result = StageResult(
        name="suite",
        status=Status.FAILED,
        duration=1.0,
        detail="1 test failed or errored; first: tests/test_api.py::test_health\nmore",
        annotations=("::error file=tests/test_api.py,line=12,title=x::y",),
    )
    progress.stage_end(cell, result)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "::endgroup::"
    assert lines[1] == (
        "::error title=3.11-cpu-lean%3A suite failed::1 test failed or errored; "
        "first: tests/test_api.py::test_health"
    )
    assert lines[2] == "::error file=tests/test_api.py,line=12,title=x::y"
    quiet = io.StringIO()
    PlainProgress(quiet, github=False).stage_end(cell, result)
    assert "::error" not in quiet.getvalue()


def test_the_github_build_cache_needs_buildx():
    assert cache_arguments("gha", "noxgrid-3.11-cpu-lean", buildx=True) == [
        "--cache-from",
        "type=gha,scope=noxgrid-3.11-cpu-lean",
        "--cache-to",
        "type=gha,mode=max,scope=noxgrid-3.11-cpu-lean",
    ]
    assert cache_arguments("gha", "s", buildx=False) == []
    assert cache_arguments(None, "s", buildx=True) == []
