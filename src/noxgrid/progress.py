"""How a run tells a person what it is doing.

The pipeline calls a :class:`Progress`; the CLI and the nox layer choose which
one. ``PlainProgress`` writes timestamped lines (and folds each stage into a
group inside GitHub Actions); ``SilentProgress`` writes nothing.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Protocol, TextIO

from noxgrid.matrix import Cell
from noxgrid.render.table import timings_table
from noxgrid.result import CellResult, StageResult, Status, format_size


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
    cell id when several cells share the terminal).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        stream_output: bool = True,
        prefix_output: bool = False,
        github: bool | None = None,
    ) -> None:
        self.stream = stream or sys.stdout
        self.stream_output = stream_output
        self.prefix_output = prefix_output
        self.github = os.environ.get("GITHUB_ACTIONS") == "true" if github is None else github
        self._lock = threading.Lock()

    def _write(self, text: str) -> None:
        with self._lock:
            self.stream.write(text)
            self.stream.flush()

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
        """Close the stage with its status and duration."""
        if self.github and not self.prefix_output:
            self._write("::endgroup::\n")
        detail = f" - {result.detail.splitlines()[0]}" if result.detail else ""
        self._line(cell, f"{result.name} {result.status.value} in {result.duration:.2f}s{detail}")

    def cell_end(self, result: CellResult) -> None:
        """The cell's verdict and its per-stage timings."""
        status = result.status
        mark = "OK" if status is Status.PASSED else "FAILED"
        self._line(
            result.cell,
            f"{mark} in {result.duration:.2f}s (venv {format_size(result.venv_size)}"
            + (
                f", estimated {format_size(result.size_estimate)})" if result.size_estimate else ")"
            ),
        )
        self._write(timings_table([result]) + "\n")
