"""A gpu cell that ran without a GPU is not verified for a release, unless an allowance
``rule = "no-gpu"`` accepts it; every front end says "ran without a GPU: N gpu tests
deselected"."""

from __future__ import annotations

import io
import json

from noxgrid.cell.progress import PlainProgress
from noxgrid.commands.release_report import markdown_report
from noxgrid.model.allowances import Allowance
from noxgrid.model.gpu import deselected_count
from noxgrid.model.matrix import Cell
from noxgrid.model.results import (
    CellResult,
    Release,
    StageResult,
    Status,
    no_gpu_allowed_line,
    without_gpu_text,
)
from noxgrid.render.html import render_html
from noxgrid.render.table import markdown_table, timings_table

GPU = Cell(python="3.11", accelerator="gpu", profile="lean")
CPU = Cell(python="3.11", accelerator="cpu", profile="lean")
LINE = "ran without a GPU: 3 gpu tests deselected"


def result(cell: Cell, without_gpu: int | None) -> CellResult:
    return CellResult(
        cell=cell,
        stages=(StageResult(name="suite", status=Status.PASSED, duration=0.1),),
        started_at="2026-12-06T00:00:00+00:00",
        duration=0.1,
        without_gpu=without_gpu,
    )


def release(*results: CellResult, allowances: tuple[Allowance, ...] = ()) -> Release:
    return Release(
        results=results,
        expected=tuple(r.cell for r in results),
        required=("suite",),
        allowances=allowances,
    )


def test_a_gpu_cell_run_without_a_gpu_is_not_verified():
    judged = release(result(CPU, None), result(GPU, 3))
    assert not judged.passed
    assert judged.verdict() == "FAILED: 1 of 2 cells not verified"
    [(cell, what, why)] = judged.cell_problems()
    assert (cell, what) == ("3.11-gpu-lean", "NOT VERIFIED")
    assert why.startswith(LINE) and 'rule = "no-gpu"' in why


def test_no_gpu_test_deselected_still_not_verified():
    assert not release(result(GPU, 0)).passed
    assert without_gpu_text(0) == "ran without a GPU: 0 gpu tests deselected"
    assert without_gpu_text(1) == "ran without a GPU: 1 gpu test deselected"


def test_a_gpu_cell_with_its_gpu_is_verified():
    assert release(result(GPU, None), result(CPU, None)).passed


def test_an_allowance_accepts_it_in_the_cells_it_names():
    allow = Allowance(rule="no-gpu", cells=("*-gpu-*",), reason="no GPU runner yet")
    assert release(result(GPU, 3), allowances=(allow,)).passed
    other = Allowance(rule="no-gpu", cells=("3.10-*",), reason="only 3.10")
    assert not release(result(GPU, 3), allowances=(other,)).passed
    line = no_gpu_allowed_line(3, allow)
    assert line == f"[no-gpu] {LINE}: allowed on purpose: no GPU runner yet"


def test_the_result_keeps_the_count():
    original = result(GPU, 3)
    data = json.loads(json.dumps(original.as_dict()))
    assert data["without_gpu"] == 3
    assert CellResult.from_dict(data) == original
    del data["without_gpu"]
    assert CellResult.from_dict(data).without_gpu is None, "older reports still read"


def test_every_front_end_says_it():
    judged = release(result(GPU, 3))
    assert f"3.11-gpu-lean: {LINE}" in timings_table(judged.results)
    assert f"- 3.11-gpu-lean: {LINE}" in markdown_table(judged.results)  # the job summary
    assert LINE in markdown_report(judged, title="t")
    page = render_html(judged, title="t", generated="now")
    assert LINE in page and "NOT VERIFIED" in page
    stream = io.StringIO()
    PlainProgress(stream, github=False, cell_tables=False).cell_end(judged.results[0])
    assert f"OK in 0.10s (venv -); {LINE}" in stream.getvalue()


def test_the_deselected_count_is_pytests():
    assert deselected_count("== 12 passed, 3 deselected in 0.51s ==") == 3
    assert deselected_count("== 1 failed, 2 passed, 1 deselected, 1 warning in 2s ==") == 1
    assert deselected_count("== 12 passed in 0.5s ==") == 0


def test_check_names_a_no_gpu_allowance_of_no_gpu_cell(make_project):
    from noxgrid.check.findings import no_gpu_allowance_findings
    from noxgrid.model.declaration import load_config
    from noxgrid.model.matrix import expand

    head = (
        '[tool.noxgrid]\npython = ["3.11"]\naccelerators = ["cpu", "gpu"]\n'
        '[tool.noxgrid.profile.lean]\nrequirements = ["requirements/lean.in"]\n'
        '[[tool.noxgrid.allow]]\nrule = "no-gpu"\nreason = "r"\n'
    )
    for cells, found in (('cells = "*-gpu-*"\n', 0), ('cells = "*-cpu-*"\n', 1)):
        config = load_config(make_project(head + cells, {"requirements/lean.in": "pytest\n"}))
        findings = no_gpu_allowance_findings(config, expand(config))
        assert len(findings) == found, findings
