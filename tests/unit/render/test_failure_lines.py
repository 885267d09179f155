"""Every front end shows a failed stage as ``cause; fix: ...``, the same line."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest

from noxgrid.commands.common import records_fix
from noxgrid.model.matrix import Cell
from noxgrid.model.results import CellResult, Release, StageResult, Status
from noxgrid.render.junit import render_junit
from noxgrid.render.table import failure_lines, markdown_table

CELL = Cell(python="3.11", accelerator="cpu", profile="full")
DETAIL = (
    "the lock requirements/locks/pylock.py311-cpu-full.toml is refused before anything is "
    "installed:\n"
    "[budget] the installed size is estimated at 526.6 MB, over the 10.0 MB budget of "
    "profile 'full'; the ten largest:\n"
    "     159.5 MB  opencv-python-headless==5.0.0.93\n"
    "     138.8 MB  scipy==1.17.1\n"
    "  fix: drop or replace the largest packages, or raise size-budget in "
    "[tool.noxgrid.profile.full]"
)
FIX = (
    "fix: drop or replace the largest packages, or raise size-budget in [tool.noxgrid.profile.full]"
)


def failed(log: str | None = None) -> CellResult:
    stages = (
        StageResult(name="interpreter", status=Status.PASSED, duration=0.1, detail="3.11"),
        StageResult(name="lock", status=Status.FAILED, duration=0.0, detail=DETAIL, log=log),
        StageResult(name="venv", status=Status.SKIPPED, duration=0.0, detail="lock failed"),
    )
    return CellResult(
        cell=CELL, stages=stages, started_at="2026-12-06T00:00:00+00:00", duration=0.1
    )


def test_the_stage_line_of_a_run_carries_the_cause_and_the_fix():
    from noxgrid.cell.progress import PlainProgress

    stream = io.StringIO()
    PlainProgress(stream, github=True).stage_end(CELL, failed().stages[1])
    text = stream.getvalue()
    (line,) = [line for line in text.splitlines() if " lock failed in " in line]
    assert "over the 10.0 MB budget" in line and line.endswith(FIX)
    (annotation,) = [line for line in text.splitlines() if line.startswith("::error")]
    assert "over the 10.0 MB budget" in annotation and FIX in annotation


def test_report_markdown_junit_and_release_carry_the_fix():
    (line,) = failure_lines([failed()])
    assert line.startswith("3.11-cpu-full failed at lock: the lock ") and line.endswith(FIX)
    assert f"- {line}" in markdown_table([failed()]).splitlines()
    failure = ET.fromstring(render_junit([failed()])).find(".//failure")
    assert failure is not None and failure.get("message", "").endswith(FIX)
    release = Release(results=(failed(),), expected=(CELL,), required=("interpreter", "lock"))
    ((_, what, why),) = release.cell_problems()
    assert what == "FAILED" and why.endswith(FIX) and not why.endswith(":")


def test_the_nox_session_fails_with_the_cause_and_the_fix(monkeypatch):
    import noxgrid.cell.run
    from noxgrid.nox_sessions import _run_cells

    monkeypatch.setattr(noxgrid.cell.run, "run_cells", lambda *args, **kwargs: [failed()])
    errors: list[str] = []

    def error(message: str) -> None:
        errors.append(message)
        raise RuntimeError(message)

    session = SimpleNamespace(posargs=[], log=lambda _: None, error=error)
    with pytest.raises(RuntimeError):
        _run_cells(session, None, [CELL])  # type: ignore[arg-type]
    (message,) = errors
    assert message.startswith("cell 3.11-cpu-full failed at lock: the lock ")
    assert message.endswith(FIX)


def test_the_run_summary_points_only_at_files_that_exist(tmp_path):
    config = SimpleNamespace(reports_dir=tmp_path / "reports")
    absent = str(tmp_path / "reports" / "logs" / "3.11-cpu-full.lock.log")
    fix = records_fix(config, [failed(log=absent)])  # type: ignore[arg-type]
    assert "logs" not in fix and "reports" not in fix
    report = tmp_path / "reports" / "3.11-cpu-full.json"
    report.parent.mkdir()
    report.write_text("{}")
    assert str(report) in records_fix(config, [failed(log=absent)])  # type: ignore[arg-type]
    log = tmp_path / "suite.log"
    log.write_text("output")
    assert str(log) in records_fix(config, [failed(log=str(log))])  # type: ignore[arg-type]


def test_the_live_view_prints_the_reason_with_its_fix_on_the_stage_line():
    from noxgrid.cell.progress import LiveProgress

    stream = io.StringIO()
    with LiveProgress([CELL], stream=stream, interval=60) as view:
        view.cell_start(CELL)
        view.stage_start(CELL, "lock", "policy")
        view.stage_end(CELL, failed().stages[1])
    (line,) = [line for line in stream.getvalue().splitlines() if " lock failed in " in line]
    assert "over the 10.0 MB budget" in line and line.endswith(FIX)


def test_the_release_page_shows_the_same_line():
    import html

    from noxgrid.render.html import render_html

    release = Release(results=(failed(),), expected=(CELL,), required=("interpreter", "lock"))
    page = html.unescape(render_html(release, title="t", generated="now"))
    assert "<b>FAILED</b>: lock: the lock " in page
    assert page.count(FIX) >= 2, "the problem list and the cell's box"
