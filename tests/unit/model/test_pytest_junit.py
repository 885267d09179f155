"""pytest's JUnit XML counted as pytest counts it."""

from __future__ import annotations

from noxgrid.model.diagnose import suite_failure
from noxgrid.model.pytest_junit import read_counts

XML = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.test_api.TestApi" name="test_a[x y]" file="tests/test_api.py" line="9">
<failure message="ValueError: Passing a non-Container object as the second argument">E ...</failure>
</testcase>
<testcase classname="tests.test_api" name="test_b" file="tests/test_api.py" line="20">
<failure message="assert 1 == 2">E assert 1 == 2</failure></testcase>
<testcase classname="tests.test_api" name="test_b" file="tests/test_api.py" line="20">
<error message="failed on teardown with &quot;RuntimeError: x&quot;">E RuntimeError</error>
</testcase>
<testcase classname="tests.test_api" name="test_c" file="tests/test_api.py" line="30">
<error message="failed on teardown with &quot;RuntimeError: x&quot;">E RuntimeError</error>
</testcase>
<testcase classname="tests.test_api" name="test_d" file="tests/test_api.py" line="40"/>
</testsuite></testsuites>"""


def test_counts_are_pytests_and_the_message_whole():
    counts = read_counts(XML)
    assert counts is not None and counts.describe() == "2 failed, 2 passed, 2 errors"
    first = counts.cases[0]
    assert first.test == "tests/test_api.py::TestApi::test_a[x y]"
    assert first.where == "tests/test_api.py:10"
    assert first.message == "ValueError: Passing a non-Container object as the second argument"
    reason = suite_failure(
        "FAILED tests/test_api.py::TestApi::test_a[x - ValueError: Passing a non-Co...\n"
        "=== 2 failed, 2 passed, 2 errors in 0.1s ===",
        1,
        cell="c",
        profile="lean",
        requirements="r.in",
        junit=counts,
    ).splitlines()[0]
    assert reason.startswith(
        "2 failed, 2 passed, 2 errors; first: tests/test_api.py::TestApi::test_a[x y] at "
        "tests/test_api.py:10 (ValueError: Passing a non-Container object as the second "
        "argument) [FAILED]"
    )


def test_what_is_not_junit_is_none():
    assert read_counts("") is None and read_counts("<html/>") is None


COLLECTION = """<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">
<testsuite name="pytest" errors="1" failures="0" skipped="0" tests="1">
<testcase classname="" name="test_c" file="test_c.py" time="0.000">
<error message="collection failure">test_c.py:1: in &lt;module&gt;
    raise RuntimeError("config missing: set APP_ENV")
E   RuntimeError: config missing: set APP_ENV</error></testcase></testsuite></testsuites>"""


def test_a_module_that_fails_to_collect_is_named_by_its_file_and_its_exception():
    counts = read_counts(COLLECTION)
    assert counts is not None and counts.describe() == "1 error"
    (case,) = counts.cases
    assert case.test == "test_c.py" and case.kind == "ERROR"
    assert case.message == "collection failure: RuntimeError: config missing: set APP_ENV"


def test_without_junit_the_count_is_pytests_last_line():
    output = (
        "FAILED tests/test_a.py::test_p[a b] - TypeError: Passing a non-Co...\n"
        "FAILED tests/test_a.py::test_q - assert 1 == 2\n"
        "ERROR tests/test_a.py::test_q - RuntimeError: teardown broke\n"
        "================= 17 failed, 61 passed, 1 error in 3.21s =================\n"
    )
    reason = suite_failure(output, 1, cell="c", profile="p", requirements="r").splitlines()[0]
    assert reason.startswith("17 failed, 61 passed, 1 error; first: tests/test_a.py::test_p[a")
    bare = suite_failure(output.rsplit("\n", 2)[0], 1, cell="c", profile="p", requirements="r")
    assert bare.startswith("2 tests failed or errored; first: "), "one per test, not per line"
