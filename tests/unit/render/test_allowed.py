"""An allowed finding reads the same in every front end: the cell JSON, the Markdown report,
the release page."""

from __future__ import annotations

import json

from noxgrid.commands.release_report import markdown_report, release_document
from noxgrid.model.matrix import Cell
from noxgrid.model.results import CellResult, Release, StageResult, Status, allowed_lines
from noxgrid.render.html import render_html

LINE = "[exclusive] a and b are both in the lock: allowed on purpose: contrib <on purpose>"


def result(python: str, allowed: tuple[str, ...] = (LINE,)) -> CellResult:
    return CellResult(
        cell=Cell(python=python, accelerator="cpu", profile="lean"),
        stages=(StageResult(name="lock", status=Status.PASSED, duration=0.1),),
        started_at="2026-12-02T10:00:00+00:00",
        duration=0.1,
        allowed=allowed,
    )


def test_the_cell_json_keeps_the_allowed_findings():
    original = result("3.11")
    data = json.loads(json.dumps(original.as_dict()))
    assert data["allowed"] == [LINE]
    assert CellResult.from_dict(data) == original
    del data["allowed"]
    assert CellResult.from_dict(data).allowed == (), "reports of older runs still read"


def test_one_line_per_finding_with_the_cells_it_was_allowed_in():
    lines = allowed_lines([result("3.10"), result("3.11"), result("3.12", ())])
    assert lines == [f"{LINE} (3.10-cpu-lean, 3.11-cpu-lean)"]


def test_the_release_reports_show_them():
    cells = (result("3.10"), result("3.11"))
    release = Release(results=cells, expected=tuple(r.cell for r in cells), required=("lock",))
    markdown = markdown_report(release, title="t")
    assert "### Allowed on purpose" in markdown
    assert "allowed on purpose: contrib &lt;on purpose> (3.10-cpu-lean, 3.11-cpu-lean)" in markdown
    page = render_html(release, title="t", generated="now")
    assert "<h2>Allowed on purpose</h2>" in page
    assert "allowed on purpose: contrib &lt;on purpose&gt;" in page
    assert release_document(release, generated="now")["cells"][0]["allowed"] == [LINE]
    assert release.passed, "an allowed finding does not fail the release"


def test_nothing_allowed_nothing_shown():
    cells = (result("3.11", ()),)
    release = Release(results=cells, expected=(cells[0].cell,), required=("lock",))
    assert "Allowed on purpose" not in render_html(release, title="t", generated="now")
    assert "Allowed on purpose" not in markdown_report(release, title="t")
