"""The stages of one cell, in order, and the result they add up to.

interpreter -> lock -> venv -> install -> doctor -> image -> smoke -> suite.
The environment is proved first (the venv's libraries and imports, then the
image's), so a missing system library stops the cell before the suite runs.
A failed stage stops the cell; the stages after it are recorded as skipped,
with the reason. Every stage's output goes to its own log file in the
reports folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

from noxgrid.cell import doctor, image, install, interpreter, lock, smoke, suite, venv
from noxgrid.cell.doctor import doctor_path
from noxgrid.cell.progress import Progress, SilentProgress
from noxgrid.cell.report import log_path, write_cell_report
from noxgrid.cell.state import CellRun, Stage
from noxgrid.errors import Interrupted, NoxgridError, StageFailure, StageSkipped
from noxgrid.files import atomic_write, directory_size
from noxgrid.model.config import Config
from noxgrid.model.diagnose import disk_full
from noxgrid.model.matrix import Cell
from noxgrid.model.results import INTERRUPTED_NOT_RUN, CellResult, StageResult, Status
from noxgrid.model.text import clean_text
from noxgrid.tools.orphans import remove_dead_folders
from noxgrid.tools.runner import Runner, in_parallel
from noxgrid.tools.uv import Uv


def _utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def run_cell(
    config: Config,
    cell: Cell,
    *,
    runner: Runner | None = None,
    progress: Progress | None = None,
    env: Mapping[str, str] | None = None,
    uv: Uv | None = None,
    docker: bool = True,
    in_image: bool = False,
    only: Sequence[str] | None = None,
    suite_args: Sequence[str] = (),
) -> CellResult:
    """Run the stages of ``cell`` and write its report; never raises for a failed stage.

    ``docker=False`` skips the image and smoke stages (saying so in the report);
    ``only`` runs just the named stages (``noxgrid image`` runs lock, image, smoke);
    ``in_image`` also runs the suite inside the image once it is healthy.
    """
    state = CellRun(
        config=config,
        cell=cell,
        runner=runner or Runner(),
        progress=progress or SilentProgress(),
        env=os.environ if env is None else env,
        uv=uv,
        docker_enabled=docker,
        in_image=in_image,
        suite_args=tuple(suite_args),
    )
    stages = [stage for stage in pipeline() if only is None or stage.name in only]
    with _cell_lock(config.venvs_dir / f".{cell.id}.lock", state):
        if not state.runner.interrupted and any(
            stage.name in ("doctor", "image") for stage in stages
        ):
            # Findings from an earlier run must not pass for this one's.
            doctor_path(config, cell).unlink(missing_ok=True)
        return _run_stages(state, stages)


def pipeline() -> tuple[Stage, ...]:
    """Every stage of a cell, in the order they run (read at each call: a test may swap one)."""
    return (
        interpreter.STAGE,
        lock.STAGE,
        venv.STAGE,
        install.STAGE,
        doctor.STAGE,
        image.STAGE,
        smoke.STAGE,
        suite.STAGE,
    )


def run_cells(
    config: Config,
    cells: Sequence[Cell],
    *,
    jobs: int = 1,
    progress: Progress | None = None,
    runner: Runner | None = None,
    docker: bool = True,
    in_image: bool = False,
    only: Sequence[str] | None = None,
    on_done: Callable[[CellResult], None] | None = None,
    suite_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> list[CellResult]:
    """Run ``cells``, ``jobs`` at a time; every cell ends with a result, crashed or not.

    Cells run in worker threads (one at a time with ``jobs=1``) so that the
    main thread stays free to take Ctrl-C or SIGTERM and stop every running
    command. A cell whose run raises is that cell's FAILED result (the
    traceback in its log); the others run on.
    """
    runner = runner or Runner()
    remove_dead_folders()  # the image audit's folders of runs that were killed

    def one(cell: Cell) -> CellResult:
        try:
            result = run_cell(
                config,
                cell,
                progress=progress,
                runner=runner,
                docker=docker,
                in_image=in_image,
                only=only,
                suite_args=suite_args,
                env=env,
            )
        except Exception as exc:  # a bug outside any stage: the cell fails, the run goes on
            result = crashed_result(config, cell, exc)
        if on_done is not None:
            on_done(result)
        return result

    return in_parallel(runner, one, cells, jobs=jobs, name="cell")


@contextlib.contextmanager
def _cell_lock(path: Path, state: CellRun) -> Iterator[None]:
    """One run of a cell at a time on this machine: two would share one venv."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory locks here
            yield
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            state.note(f"another run of {state.cell.id} holds {path}; waiting for it")
            if not _wait_for_lock(handle, state.runner):
                yield  # interrupted while waiting: no stage runs, so none needs the lock
                return
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _wait_for_lock(handle: IO[str], runner: Runner) -> bool:
    """Wait for the cell lock; False when noxgrid is interrupted first."""
    import fcntl

    while not runner.interrupted:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            time.sleep(0.2)
            continue
        return True
    return False


def _run_stages(state: CellRun, stages: Sequence[Stage]) -> CellResult:
    """Run ``stages`` in order; after a failure the rest are recorded as skipped."""
    config, cell = state.config, state.cell
    started_at = _utc_now()
    start = time.perf_counter()
    state.progress.cell_start(cell)
    results: list[StageResult] = []
    for stage in stages:
        if not any(r.status is Status.FAILED for r in results) and state.runner.interrupted:
            # No stage starts after an interrupt.
            results.append(
                StageResult(
                    name=stage.name,
                    status=Status.INTERRUPTED,
                    duration=0.0,
                    detail=INTERRUPTED_NOT_RUN,
                )
            )
            continue
        if any(result.status is Status.FAILED for result in results):
            results.append(
                StageResult(
                    name=stage.name,
                    status=Status.SKIPPED,
                    duration=0.0,
                    detail="not run: an earlier stage failed",
                )
            )
            continue
        result = _run_stage(state, stage)
        results.append(result)
        state.progress.stage_end(cell, result)
    venv_size = directory_size(state.venv) if state.venv.is_dir() else None
    cell_result = CellResult(
        cell=cell,
        stages=tuple(results),
        started_at=started_at,
        duration=time.perf_counter() - start,
        interpreter=str(state.interpreter.path) if state.interpreter else None,
        venv_size=venv_size,
        size_estimate=state.lock.header_bytes("installed-bytes") if state.lock else None,
        image_size=state.image_size,
        notes=tuple(state.notes),
        local_packages=tuple(state.local_packages),
        setup_steps=tuple(state.setup_steps),
        allowed=tuple(state.allowed),
        without_gpu=state.without_gpu,
    )
    write_cell_report(cell_result, config.reports_dir)
    state.progress.cell_end(cell_result)
    return cell_result


def _run_stage(state: CellRun, stage: Stage) -> StageResult:
    """One stage, whatever happens in it: passed, skipped, failed, or crashed (failed)."""
    state.progress.stage_start(state.cell, stage.name, stage.describe(state))
    stage_start = time.perf_counter()
    annotations: tuple[str, ...] = ()
    code = 1
    error: BaseException | None = None
    try:
        detail = stage.run(state)
        status = Status.PASSED
    except StageSkipped as exc:
        detail, status = str(exc), Status.SKIPPED
    except Interrupted as exc:  # Ctrl-C or SIGTERM stopped it: not the stage's failure
        detail, status = exc.what, Status.INTERRUPTED
    except (StageFailure, NoxgridError) as exc:
        detail, status, code, error = str(exc), Status.FAILED, exc.exit_code, exc
        annotations = getattr(exc, "annotations", ())
    except OSError as exc:  # a full disk, a read-only folder: the cell fails, not noxgrid
        said = f"{exc.__class__.__name__}: {exc}"
        detail, status, error = disk_full(said) or said, Status.FAILED, exc
    except Exception as exc:  # a bug: this cell fails, the others go on
        if state.runner.interrupted:  # what the interrupt broke is no bug
            detail, status = f"interrupted ({type(exc).__name__}: {exc})", Status.INTERRUPTED
        else:
            detail, status, error = _crash(state, stage.name, exc), Status.FAILED, exc
    log = state.logs.get(stage.name)
    detail = clean_text(detail)
    if status is Status.FAILED:
        detail = failure_reason(stage.name, error, detail, log, cell=state.cell.id)
    return StageResult(
        name=stage.name,
        status=status,
        duration=time.perf_counter() - stage_start,
        detail=detail,
        log=str(log) if log else None,
        annotations=annotations,
        exit_code=code,
    )


def failure_reason(
    stage: str,
    error: BaseException | None,
    detail: str,
    log: Path | None = None,
    *,
    cell: str = "",
) -> str:
    """A failed stage's reason, never empty and with its fix: the detail, or else the
    stage, the exception's type and where to look (an exception raised without a message
    says nothing): its log where that file exists, else the cell run again aloud."""
    if detail.strip():
        return detail
    kind = type(error).__name__ if error is not None else "no exception"
    said = f"the {stage} stage failed ({kind}, with no message)"
    if log is not None and Path(log).is_file():
        return f"{said}; fix: read its output in {log} for the cause"
    again = f"noxgrid run {cell}" if cell else "noxgrid run"
    return (
        f"{said} and left no log; fix: run `{again}` again without -q to see the stage's "
        "output as it runs, and report a stage that fails saying nothing as a noxgrid bug"
    )


def _crash(state: CellRun, stage: str, exc: BaseException) -> str:
    """Save the traceback of a crash in the stage's log; the stage's one-paragraph detail."""
    path = log_path(state.config.reports_dir, state.cell.id, stage)
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as stream:
            stream.write(f"\nnoxgrid crashed in the {stage} stage:\n{text}")
        state.logs[stage] = path
        where = f"the traceback is in {path}"
    except OSError:
        where = f"traceback:\n{text}"
    return (
        f"noxgrid crashed in the {stage} stage ({type(exc).__name__}: {exc}); {where}; "
        "fix: this is a bug in noxgrid, please report it with that traceback"
    )


def crashed_result(config: Config, cell: Cell, exc: BaseException) -> CellResult:
    """A FAILED result for a cell whose run crashed outside any stage (traceback in its log)."""
    path = log_path(config.reports_dir, cell.id, "crash")
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    with contextlib.suppress(OSError):
        atomic_write(path, text)
    stage = StageResult(
        name="run",
        status=Status.FAILED,
        duration=0.0,
        detail=clean_text(
            f"noxgrid crashed running {cell.id} ({type(exc).__name__}: {exc}); the traceback "
            f"is in {path}; fix: this is a bug in noxgrid, please report it with that traceback"
        ),
        log=str(path),
    )
    result = CellResult(cell=cell, stages=(stage,), started_at=_utc_now(), duration=0.0)
    with contextlib.suppress(OSError):
        write_cell_report(result, config.reports_dir)
    return result
