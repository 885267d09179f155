"""How a run tells a person what it is doing.

The pipeline calls a :class:`Progress`; the CLI and the nox layer choose which
one. ``PlainProgress`` writes timestamped lines (and folds each stage into a
group inside GitHub Actions); ``LiveProgress`` redraws one row per cell on an
interactive terminal; ``SilentProgress`` writes nothing.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Protocol, TextIO

from noxgrid.model.matrix import Cell
from noxgrid.model.reason import failure_line
from noxgrid.model.results import (
    MARKS,
    CellResult,
    StageResult,
    Status,
    first_line,
    format_size,
    without_gpu_text,
)
from noxgrid.render.annotations import error
from noxgrid.render.table import timings_table


class Progress(Protocol):
    """Receives the events of a cell run."""

    def cell_start(self, cell: Cell) -> None: ...
    def stage_start(self, cell: Cell, stage: str, what: str) -> None: ...
    def output(self, cell: Cell, line: str) -> None: ...
    def note(self, cell: Cell, text: str) -> None: ...
    def stage_end(self, cell: Cell, result: StageResult) -> None: ...
    def cell_end(self, result: CellResult) -> None: ...


class SilentProgress:
    """Says nothing; for tests and machine-readable runs."""

    def cell_start(self, cell: Cell) -> None:
        """Nothing."""

    def stage_start(self, cell: Cell, stage: str, what: str) -> None:
        """Nothing."""

    def output(self, cell: Cell, line: str) -> None:
        """Nothing."""

    def note(self, cell: Cell, text: str) -> None:
        """Nothing."""

    def stage_end(self, cell: Cell, result: StageResult) -> None:
        """Nothing."""

    def cell_end(self, result: CellResult) -> None:
        """Nothing."""


class PlainProgress:
    """Timestamped lines, safe to share between threads running several cells.

    ``stream_output`` passes each command's output through (prefixed by the
    cell id when several cells share the terminal). ``cell_tables``: each cell
    ends with its timings table (off where the caller prints one for every cell).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        stream_output: bool = True,
        prefix_output: bool = False,
        github: bool | None = None,
        cell_tables: bool = True,
    ) -> None:
        self.stream = stream or sys.stdout
        self.stream_output = stream_output
        self.prefix_output = prefix_output
        self.cell_tables = cell_tables
        self.github = os.environ.get("GITHUB_ACTIONS") == "true" if github is None else github
        self._lock = threading.Lock()
        self._broken = False

    def _write(self, text: str) -> None:
        """Write and flush; a stream that breaks (a closed pipe, a full disk) is given up,
        silently: what a run shows must never fail a cell (its logs and reports keep all)."""
        with self._lock:
            if self._broken:
                return
            try:
                self.stream.write(text)
                self.stream.flush()
            except (OSError, ValueError):  # BrokenPipeError, or a stream closed under us
                self._broken = True

    def _line(self, cell: Cell, text: str) -> None:
        self._write(f"{time.strftime('%H:%M:%S')} [{cell.id}] {text}\n")

    def cell_start(self, cell: Cell) -> None:
        """Announce the cell."""
        self._line(cell, f"start ({cell.session})")

    def stage_start(self, cell: Cell, stage: str, what: str) -> None:
        """Announce a stage, opening a log group in GitHub Actions."""
        if self.github and not self.prefix_output:
            self._write(f"::group::[{cell.id}] {stage}: {what}\n")
        self._line(cell, f"{stage}: {what}")

    def output(self, cell: Cell, line: str) -> None:
        """Pass a line of a command's output through."""
        if self.stream_output:
            text = line if line.endswith("\n") else line + "\n"
            self._write(f"  [{cell.id}] {text}" if self.prefix_output else text)

    def note(self, cell: Cell, text: str) -> None:
        """A remark that also goes into the report (e.g. why tests were deselected)."""
        self._line(cell, f"note: {text}")

    def stage_end(self, cell: Cell, result: StageResult) -> None:
        """Close the stage with its status and duration; in GitHub Actions a failed stage
        becomes an error annotation, and each failed test one on its file and line."""
        if self.github and not self.prefix_output:
            self._write("::endgroup::\n")
        if self.github and result.status is Status.FAILED:
            lines = [
                error(failure_line(result.detail), title=f"{cell.id}: {result.name} failed"),
                *result.annotations,
            ]
            self._write("".join(f"{line}\n" for line in lines))
        failed = result.status is Status.FAILED
        shown = failure_line(result.detail) if failed else first_line(result.detail)
        detail = f" - {shown}" if shown else ""
        self._line(cell, f"{result.name} {result.status.value} in {result.duration:.2f}s{detail}")

    def cell_end(self, result: CellResult) -> None:
        """The cell's verdict and its per-stage timings."""
        status = result.status
        mark = MARKS[status]
        self._line(
            result.cell,
            f"{mark} in {result.duration:.2f}s (venv {format_size(result.venv_size)}"
            + (f", estimated {format_size(result.size_estimate)})" if result.size_estimate else ")")
            + (
                f"; {without_gpu_text(result.without_gpu)}"
                if result.without_gpu is not None
                else ""
            ),
        )
        # With cells interleaved, or a table of every cell to come, that table says it.
        if self.cell_tables and not self.prefix_output:
            self._write(timings_table([result]) + "\n")


_CLEAR_LINE = "\x1b[2K"
_MARKS = {"waiting": "·", "running": "▶", "passed": "✓", "failed": "✗", "interrupted": "⏹"}


class _Row:
    def __init__(self, cell: Cell) -> None:
        self.cell = cell
        self.state = "waiting"
        self.stage = ""
        self.started = 0.0
        self.stage_started = 0.0
        self.finished = 0.0
        self.done: list[str] = []
        self.last = ""


def live_lines(rows: list[_Row], now: float, width: int) -> list[str]:
    """The live block: one line per cell, then a count; each cut to ``width``."""
    lines = []
    for row in rows:
        mark = _MARKS[row.state]
        if row.state == "running":
            where = f"{row.stage} {now - row.stage_started:4.1f}s"
            total = now - row.started
        elif row.state == "waiting":
            where, total = "waiting", 0.0
        else:
            where = row.state + (f" at {row.stage}" if row.state == "failed" else "")
            total = row.finished - row.started
        done = " ".join(row.done)
        text = f"{mark} {row.cell.id:<18} {where:<22} {total:6.1f}s  {done}"
        if row.state == "running" and row.last:
            text += f"  | {row.last}"
        lines.append(text[:width])
    counts = {state: sum(1 for row in rows if row.state == state) for state in _MARKS}
    interrupted = f"{counts['interrupted']} interrupted, " if counts["interrupted"] else ""
    lines.append(
        f"{counts['passed']} passed, {counts['failed']} failed, {interrupted}"
        f"{counts['running']} running, {counts['waiting']} waiting"[:width]
    )
    return lines


class LiveProgress:
    """A live view for a terminal: one row per cell, its stage and time, redrawn in place.

    Notes and failures are printed above the block and stay; commands' output
    is not streamed (it is in each stage's log) but the latest line of each
    running cell is shown at the end of its row. Use it as a context manager.
    """

    def __init__(self, cells: list[Cell], stream: TextIO | None = None, interval: float = 0.2):
        self.stream = stream or sys.stdout
        self.rows = {cell.id: _Row(cell) for cell in cells}
        self.interval = interval
        self._lock = threading.Lock()
        self._drawn = 0
        self._broken = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LiveProgress:
        self._thread = threading.Thread(target=self._loop, daemon=True, name="noxgrid-live")
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._draw()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._draw()

    def _width(self) -> int:
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            columns = 0
        return max(40, columns - 1) if columns > 0 else 120  # a pty may report 0 columns

    def _draw(self, above: str = "") -> None:
        with self._lock:
            lines = live_lines(list(self.rows.values()), time.monotonic(), self._width())
            out = []
            if self._drawn:
                out.append(f"\x1b[{self._drawn}F\x1b[J")
            if above:
                out.append(above if above.endswith("\n") else above + "\n")
            out += [f"{_CLEAR_LINE}{line}\n" for line in lines]
            self._drawn = len(lines)
            if self._broken:
                return
            try:
                self.stream.write("".join(out))
                self.stream.flush()
            except (OSError, ValueError):  # as PlainProgress: the view never fails a cell
                self._broken = True

    def cell_start(self, cell: Cell) -> None:
        """The cell begins."""
        row = self.rows.setdefault(cell.id, _Row(cell))
        row.state, row.started = "running", time.monotonic()

    def stage_start(self, cell: Cell, stage: str, what: str) -> None:
        """A stage begins."""
        row = self.rows[cell.id]
        row.stage, row.stage_started, row.last = stage, time.monotonic(), ""

    def output(self, cell: Cell, line: str) -> None:
        """Keep the latest line of output for the row."""
        text = line.strip()
        if text:
            self.rows[cell.id].last = text

    def note(self, cell: Cell, text: str) -> None:
        """Print the note above the block."""
        self._draw(f"{time.strftime('%H:%M:%S')} [{cell.id}] note: {text}")

    def stage_end(self, cell: Cell, result: StageResult) -> None:
        """Record the stage; a failure is printed above the block: its reason (cause and
        fix) on the stage's line, then the first lines of its detail."""
        row = self.rows[cell.id]
        if result.status is Status.FAILED:
            detail = "".join(f"\n{line}" for line in result.detail.strip().splitlines()[1:12])
            self._draw(
                f"{time.strftime('%H:%M:%S')} [{cell.id}] {result.name} failed in "
                f"{result.duration:.1f}s - {failure_line(result.detail)}{detail}"
            )
        elif result.status is Status.PASSED:
            row.done.append(result.name)

    def cell_end(self, result: CellResult) -> None:
        """The cell's verdict goes into its row."""
        row = self.rows[result.cell.id]
        row.state = result.status.value
        row.finished = time.monotonic()


def choose_progress(
    cells: list[Cell],
    stream: TextIO,
    *,
    quiet: bool,
    jobs: int,
    env: dict[str, str] | None = None,
    cell_tables: bool = True,
) -> PlainProgress | LiveProgress:
    """A live view on an interactive terminal, timestamped lines anywhere else.

    ``NOXGRID_PROGRESS=plain`` or ``live`` overrides; CI and GitHub Actions get lines
    (folded into groups there). ``cell_tables``: lines end each cell with its table.
    """
    env = dict(os.environ) if env is None else env
    wanted = env.get("NOXGRID_PROGRESS", "")
    interactive = (
        hasattr(stream, "isatty")
        and stream.isatty()
        and env.get("TERM", "") != "dumb"
        and not env.get("CI")
        and env.get("GITHUB_ACTIONS") != "true"
    )
    if wanted == "live" or (wanted != "plain" and interactive):
        return LiveProgress(cells, stream)
    return PlainProgress(
        stream, stream_output=not quiet, prefix_output=jobs > 1, cell_tables=cell_tables
    )
