"""Every report stays valid whatever a suite prints, and says why a release is not verified."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from noxgrid.commands.release_report import markdown_report, release_document
from noxgrid.model.matrix import Cell
from noxgrid.model.results import CellResult, Release, StageResult, Status
from noxgrid.model.text import clean_text
from noxgrid.render.html import render_html
from noxgrid.render.junit import render_junit

NASTY = (
    "\x1b[31mFAILED\x1b[0m tests/test_x.py::test_y - AssertionError: bad \x00\x07\x0b"
    " \ud800 \ufffe \x1b]8;;http://x\x07link\x1b]8;;\x07 | <b>&</b>\r\nnext"
)


def nasty_result() -> CellResult:
    stages = (
        StageResult(name="suite", status=Status.FAILED, duration=1.0, detail=NASTY),
        StageResult(name="report", status=Status.PASSED, duration=0.1, detail=NASTY),
    )
    return CellResult(
        cell=Cell(python="3.11", accelerator="cpu", profile="lean"),
        stages=stages,
        started_at="2026-11-30T10:00:00+00:00",
        duration=1.1,
        notes=(NASTY,),
    )


def test_every_report_stays_valid_whatever_the_output_holds():
    result = nasty_result()
    release = Release(results=(result,), expected=(result.cell,))
    junit = render_junit([result], missing=[Cell(python="3.9", accelerator="cpu", profile="lean")])
    root = ET.fromstring(junit.encode("utf-8"))  # well-formed XML, or this raises
    assert root.get("errors") == "1" and "\x1b" not in junit
    page = render_html(release, title="t\x1b[1m", generated="g")
    HTMLParser().feed(page)
    assert "\x1b" not in page and "\x00" not in page and "<b>&</b>" not in page
    document = json.dumps(release_document(release, generated="g"))
    json.loads(document)
    document.encode("utf-8")  # no lone surrogate survives
    markdown = markdown_report(release, title="T")
    assert "\x1b" not in markdown and "\x00" not in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("- `3.11-cpu-lean`"))
    assert "\\|" in row, "a pipe cannot break the list item or a table"


def test_clean_text_keeps_text_and_drops_controls():
    assert clean_text("a\x1b[1;32mb\x1b[0m\tc\r\nd\x00") == "ab\tc\nd"
    assert clean_text("bad \ud800 byte") == "bad \ufffd byte"


@pytest.mark.parametrize("kind", ["FAILED", "MISSING", "NOT VERIFIED"])
def test_release_problems_are_written_in_every_format(kind):
    cell = Cell(python="3.11", accelerator="cpu", profile="lean")
    if kind == "MISSING":
        results: tuple[CellResult, ...] = ()
    else:
        result = nasty_result()
        if kind == "NOT VERIFIED":
            result = CellResult(
                cell=cell,
                stages=(StageResult(name="suite", status=Status.PASSED, duration=1.0),),
                started_at="2026-11-30T10:00:00+00:00",
                duration=1.0,
            )
        results = (result,)
    release = Release(results=results, expected=(cell,))
    assert not release.passed
    assert kind in markdown_report(release, title="T")
    assert kind in render_html(release, title="T", generated="g")
    assert release_document(release, generated="g")["problems"][0]["status"] == kind


def test_local_packages_and_setup_steps_appear_in_every_report():
    from noxgrid.model.localpkg import LocalPackage
    from noxgrid.model.results import SetupStep
    from noxgrid.render.table import markdown_table, timings_table

    base = nasty_result()
    result = CellResult(
        cell=base.cell,
        stages=base.stages,
        started_at=base.started_at,
        duration=base.duration,
        local_packages=(
            LocalPackage(path="sub", digest="c0ffee" * 10 + "abcd", name="subpkg", version="1"),
        ),
        setup_steps=(SetupStep(argv=("cp", ".env.example", ".env"), returncode=0, duration=0.5),),
    )
    again = CellResult.from_dict(json.loads(json.dumps(result.as_dict())))
    assert again.local_packages == result.local_packages and again.setup_steps == result.setup_steps
    package = "local package sub (subpkg 1, sha256 c0ffeec0ffee)"
    step = "setup: cp .env.example .env: exit 0, 0.50s"
    assert result.setup_lines() == [package, step]
    assert f"3.11-cpu-lean: {package}" in timings_table([result])
    assert f"- 3.11-cpu-lean: {step}" in markdown_table([result])
    page = render_html(
        Release(results=(result,), expected=(result.cell,)), title="t", generated="g"
    )
    assert f'<div class="setup">{package}</div>' in page and step in page
    assert "local package" not in timings_table([base]), "nothing added where there is none"
