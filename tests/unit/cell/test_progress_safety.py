"""What a run shows never fails a cell; a failed cell always says why; logs survive a kill."""

from __future__ import annotations

import dataclasses
import io

from noxgrid.cell import doctor as doctor_stage
from noxgrid.cell.progress import LiveProgress, PlainProgress
from noxgrid.cell.run import failure_reason
from noxgrid.errors import StageFailure
from noxgrid.model.matrix import Cell
from noxgrid.model.results import StageResult, Status
from tests.unit.cell import test_run
from tests.unit.cell.test_run import FakeRunner, run, stage

project = test_run.project  # the fake project and its locks, as the pipeline's tests use

CELL = Cell(python="3.11", accelerator="cpu", profile="lean")


class BrokenStream(io.StringIO):
    """A pipe whose reader went away (`noxgrid run | head`)."""

    def __init__(self, error: type[BaseException] = BrokenPipeError) -> None:
        super().__init__()
        self.error = error
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        raise self.error(32, "Broken pipe")


def test_plain_progress_gives_up_a_broken_stream_without_raising():
    stream = BrokenStream()
    progress = PlainProgress(stream)
    progress.cell_start(CELL)
    progress.stage_start(CELL, "suite", "pytest")
    progress.output(CELL, "a line\n")
    progress.stage_end(CELL, StageResult(name="suite", status=Status.PASSED, duration=1.0))
    assert stream.writes == 1, "tried once, then left alone"


def test_plain_progress_survives_a_closed_stream_and_a_full_disk():
    closed = io.StringIO()
    closed.close()
    progress = PlainProgress(closed)
    progress.note(CELL, "closed under us")  # ValueError: I/O operation on closed file
    full = BrokenStream(OSError)
    PlainProgress(full).note(CELL, "no space left")
    assert full.writes == 1


def test_live_progress_gives_up_a_broken_stream_without_raising():
    stream = BrokenStream()
    progress = LiveProgress([CELL], stream)
    progress.cell_start(CELL)
    progress.note(CELL, "drawn above the block")
    progress.stage_end(
        CELL, StageResult(name="suite", status=Status.FAILED, duration=1.0, detail="x")
    )
    assert stream.writes == 1


def test_a_broken_progress_stream_does_not_fail_the_cell(project):
    root, env = project
    from noxgrid.cell.run import run_cell
    from noxgrid.model.declaration import load_config
    from noxgrid.tools.uv import Uv

    runner = FakeRunner()
    result = run_cell(
        load_config(root),
        Cell(python="3.10", accelerator="cpu", profile="lean"),
        runner=runner,
        env=env,
        uv=Uv(runner, binary="uv"),
        progress=PlainProgress(BrokenStream()),
    )
    assert result.status is Status.PASSED, result.first_error


def test_a_failure_reason_is_never_empty_and_carries_its_fix(tmp_path):
    assert failure_reason(
        "suite", StageFailure("pytest exited with 1"), "pytest exited with 1"
    ) == ("pytest exited with 1")
    reason = failure_reason("install", BrokenPipeError(), "  \n", None, cell="3.10-cpu-lean")
    assert reason == (
        "the install stage failed (BrokenPipeError, with no message) and left no log; fix: run "
        "`noxgrid run 3.10-cpu-lean` again without -q to see the stage's output as it runs, "
        "and report a stage that fails saying nothing as a noxgrid bug"
    )
    log = tmp_path / "x.doctor.log"
    missing = failure_reason("doctor", StageFailure(""), "", log, cell="x")
    assert str(log) not in missing and "fix: run `noxgrid run x` again" in missing
    log.write_text("ELF audit\n")
    reason = failure_reason("doctor", StageFailure(""), "", log)
    assert reason == (
        f"the doctor stage failed (StageFailure, with no message); fix: read its output in {log} "
        "for the cause"
    )


def test_a_stage_failing_without_a_message_still_names_the_stage_and_exception(
    project, monkeypatch
):
    root, env = project

    def silent(state):
        raise StageFailure("")

    monkeypatch.setattr(doctor_stage, "STAGE", dataclasses.replace(doctor_stage.STAGE, run=silent))
    _, _, result = run(root, env)
    assert stage(result, "doctor").status is Status.FAILED
    assert result.first_error.startswith(
        "doctor: the doctor stage failed (StageFailure, with no message) and left no log; "
        "fix: run `noxgrid run 3.10-cpu-lean` again without -q"
    )


def test_an_os_error_without_text_names_its_type(project, monkeypatch):
    root, env = project

    def broken(state):
        raise BrokenPipeError()

    monkeypatch.setattr(doctor_stage, "STAGE", dataclasses.replace(doctor_stage.STAGE, run=broken))
    _, _, result = run(root, env)
    assert stage(result, "doctor").detail.startswith("BrokenPipeError")


def test_stage_logs_are_line_buffered_so_a_killed_cell_keeps_its_last_line(project):
    root, env = project
    from noxgrid.cell.progress import SilentProgress
    from noxgrid.cell.state import CellRun
    from noxgrid.model.declaration import load_config

    state = CellRun(
        config=load_config(root),
        cell=CELL,
        runner=FakeRunner(),
        progress=SilentProgress(),
        env=env,
    )
    with state.log("suite") as sink:
        sink("collected 3 items\n")
        sink("tests/test_a.py::test_one PASSED\n")
        # Read while the stage still runs, as a kill would leave the file.
        assert state.logs["suite"].read_text() == (
            "collected 3 items\ntests/test_a.py::test_one PASSED\n"
        )
