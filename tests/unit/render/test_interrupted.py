"""An interrupted cell is interrupted in every front end: not failed, not passed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from noxgrid.cell.progress import PlainProgress, live_lines
from noxgrid.commands.release_report import markdown_report, release_document
from noxgrid.model.matrix import Cell
from noxgrid.model.results import CellResult, Release, StageResult, Status
from noxgrid.render.html import render_html
from noxgrid.render.junit import render_junit
from noxgrid.render.table import markdown_table, timings_table

CELL = Cell(python="3.11", accelerator="cpu", profile="lean")
OTHER = Cell(python="3.10", accelerator="cpu", profile="lean")
STOPPED = "interrupted after 2.1s: pytest -m 'not gpu'"


def stopped() -> CellResult:
    stages = (
        StageResult(name="install", status=Status.PASSED, duration=1.0),
        StageResult(name="suite", status=Status.INTERRUPTED, duration=2.1, detail=STOPPED),
    )
    return CellResult(
        cell=CELL, stages=stages, started_at="2026-12-06T00:00:00+00:00", duration=3.1
    )


def passed(cell: Cell = OTHER) -> CellResult:
    stages = tuple(
        StageResult(name=name, status=Status.PASSED, duration=0.1)
        for name in ("interpreter", "lock", "venv", "install", "doctor", "suite")
    )
    return CellResult(cell=cell, stages=stages, started_at="2026-12-06T00:00:00+00:00", duration=1)


def test_the_cell_is_interrupted_and_its_json_says_so():
    result = stopped()
    assert result.status is Status.INTERRUPTED and result.first_error is None
    data = json.loads(json.dumps(result.as_dict()))
    assert data["status"] == "interrupted" and data["stages"][1]["status"] == "interrupted"
    assert CellResult.from_dict(data).status is Status.INTERRUPTED
    failed = StageResult(name="doctor", status=Status.FAILED, duration=0.1, detail="x")
    both = CellResult(cell=CELL, stages=(failed, *result.stages), started_at="", duration=1)
    assert both.status is Status.FAILED, "a stage that failed before the interrupt still failed"


def test_junit_records_an_error_of_type_interrupted_not_a_failure():
    root = ET.fromstring(render_junit([stopped()]).encode())
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite is not None
    assert suite.get("errors") == "1" and suite.get("failures") == "0"
    error = root.find(".//testcase[@name='suite']/error")
    assert error is not None and error.get("type") == "interrupted"
    assert error.get("message") == STOPPED and root.find(".//failure") is None


def test_the_release_verdict_counts_interrupted_cells_apart():
    release = Release(results=(stopped(), passed()), expected=(CELL, OTHER), required=())
    assert not release.passed and not release.failed
    assert release.verdict() == "FAILED: 1 of 2 cells interrupted"
    ((cell_id, what, why),) = release.cell_problems()
    assert (cell_id, what) == ("3.11-cpu-lean", "INTERRUPTED")
    assert why.startswith(f"suite interrupted ({STOPPED})") and "fix: run the cell again" in why
    document = release_document(release, generated="g")
    assert document["interrupted"] == ["3.11-cpu-lean"] and document["failed"] == []
    assert document["problems"][0]["status"] == "INTERRUPTED"
    assert "INTERRUPTED" in markdown_report(release, title="T")
    page = render_html(release, title="T", generated="g")
    assert "INTERRUPTED" in page and 'class="cell interrupted"' in page


def test_tables_and_progress_say_interrupted():
    result = stopped()
    assert "interrupted" in timings_table([result]).splitlines()[2]
    row = next(line for line in markdown_table([result]).splitlines() if "3.11-cpu-lean" in line)
    assert "interrupted" in row and "❌" not in row and "✅" not in row

    class Stream:
        text = ""

        def write(self, text: str) -> None:
            self.text += text

        def flush(self) -> None:
            pass

    stream = Stream()
    progress = PlainProgress(stream, github=False)  # type: ignore[arg-type]
    progress.stage_end(CELL, result.stages[1])
    progress.cell_end(result)
    assert "suite interrupted in 2.10s" in stream.text
    assert "INTERRUPTED in 3.10s" in stream.text and "FAILED" not in stream.text


def test_the_live_view_counts_interrupted_cells():
    from noxgrid.cell.progress import _Row

    row = _Row(CELL)
    row.state = "interrupted"
    lines = live_lines([row], now=0.0, width=200)
    assert lines[0].startswith("⏹ 3.11-cpu-lean")
    assert "1 interrupted" in lines[-1]
