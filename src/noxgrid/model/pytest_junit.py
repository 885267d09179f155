"""pytest's JUnit XML read as pytest counts it: failed tests, errors, and the first one's
whole exception. Pure.

pytest's terminal summary is cut to the terminal's width ("Passing a non-Co...") and
its ``FAILED``/``ERROR`` lines are not one per test where a test id holds a space or a
test both failed and errored at teardown. The JUnit XML it writes with
``--junitxml`` holds every test case (one file even under xdist), each failure's
whole message and the test's file and line.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from noxgrid.model.text import clean_text

COLLECTION = "collection failure"


@dataclass(frozen=True)
class FailedCase:
    """One test that failed or errored: its pytest id, FAILED or ERROR, the exception."""

    test: str
    kind: str
    message: str
    where: str | None = None


@dataclass(frozen=True)
class JUnitCounts:
    """What pytest's own summary line counts: ``17 failed, 61 passed, 2 errors``."""

    failed: int
    errors: int
    passed: int
    skipped: int
    cases: tuple[FailedCase, ...]

    def describe(self) -> str:
        """``17 failed, 61 passed, 3 skipped, 2 errors``: the non-zero counts, in the order
        of pytest's own summary line."""
        parts = [
            f"{self.failed} failed" if self.failed else "",
            f"{self.passed} passed" if self.passed else "",
            f"{self.skipped} skipped" if self.skipped else "",
            f"{self.errors} error{'s' if self.errors != 1 else ''}" if self.errors else "",
        ]
        return ", ".join(part for part in parts if part)


def _test_id(case: ET.Element) -> str:
    """``tests/test_api.py::TestX::test_y[a b]`` from a case's file, classname and name;
    the file alone for a module that failed to collect."""
    name = case.get("name", "?")
    classname = case.get("classname", "")
    file = case.get("file")
    if not classname and file and case.find("error") is not None:
        return file
    if file and file.endswith(".py"):
        module = file[:-3].replace("/", ".").replace("\\", ".")
        rest = classname[len(module) + 1 :] if classname.startswith(module + ".") else ""
        return "::".join(part for part in (file, rest, name) if part)
    return f"{classname}::{name}" if classname else name


def _message(problem: ET.Element) -> str:
    """The exception on one line: the element's message, else its text's last ``E`` line
    (a module that failed to collect says only "collection failure": the text says why)."""
    message = " ".join(clean_text(problem.get("message") or "").split())
    if message and message != COLLECTION:
        return message
    lines = [line.strip() for line in clean_text(problem.text or "").splitlines()]
    raised = [line[1:].strip() for line in lines if line.startswith("E ")]
    found = raised[-1] if raised else next((line for line in reversed(lines) if line), "")
    return f"{message}: {found}" if message and found else message or found


def _teardown_only(errored: list[ET.Element]) -> bool:
    return all((p.get("message") or "").startswith("failed on teardown") for p in errored)


def read_counts(junit: str) -> JUnitCounts | None:
    """The counts and failed cases of pytest's JUnit XML, or None where it is not one. A
    test whose teardown errored after it ran is written twice: counted once, as pytest
    does (failed or passed, and one error)."""
    try:
        document = ET.fromstring(junit)
    except ET.ParseError:
        return None
    if document.tag not in ("testsuites", "testsuite"):
        return None
    tests: dict[str, list[ET.Element]] = {}
    for case in document.iter("testcase"):
        tests.setdefault(_test_id(case), []).append(case)
    failed = errors = passed = skipped = 0
    cases: list[FailedCase] = []
    for test, elements in tests.items():
        failures = [p for case in elements for p in case.findall("failure")]
        errored = [p for case in elements for p in case.findall("error")]
        errors += len(errored)
        if failures:
            failed += 1
        elif errored and not _teardown_only(errored):
            pass  # an error before the test ran: pytest counts only the error
        elif any(case.find("skipped") is not None for case in elements):
            skipped += 1
        else:
            passed += 1
        first = elements[0]
        line, file = first.get("line", ""), first.get("file")
        where = f"{file}:{int(line) + 1}" if file and line.isdigit() else file
        cases += [FailedCase(test, "FAILED", _message(p), where) for p in failures]
        cases += [FailedCase(test, "ERROR", _message(p), where) for p in errored]
    return JUnitCounts(failed, errors, passed, skipped, tuple(cases))
