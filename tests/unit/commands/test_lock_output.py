"""``noxgrid lock`` prints each cell's outcome whole (cells finish in worker threads at
once), and after an interrupt names the cells it left unlocked."""

from __future__ import annotations

import sys
import threading
import time

from noxgrid.cli import main
from noxgrid.commands import lock as lock_command
from noxgrid.lock import resolve
from noxgrid.lock.steps import LockOutcome
from noxgrid.model.lockfile import lock_path

PROJECT = """
[project]
name = "svc"
version = "0.1.0"
dependencies = ["fastapi"]

[tool.noxgrid]
python = ["3.9", "3.10", "3.11", "3.12"]
accelerators = ["cpu"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]

[tool.noxgrid.profile.full]
requirements = ["requirements/lean.in"]
"""


class Recorder:
    """A stdout that records each write and whether two writers overlapped."""

    def __init__(self) -> None:
        self.writes: list[str] = []
        self.active = 0
        self.overlapped = False
        self.guard = threading.Lock()

    def write(self, text: str) -> int:
        with self.guard:
            self.active += 1
            self.overlapped |= self.active > 1
        time.sleep(0.002)  # a slow terminal: a writer left unguarded is caught here
        with self.guard:
            self.writes.append(text)
            self.active -= 1
        return len(text)

    def flush(self) -> None:
        pass


def _project(make_project, monkeypatch):
    root = make_project(PROJECT, {"requirements/lean.in": "pytest\n"})
    monkeypatch.setattr(lock_command, "_verify_overrides", lambda config, cells: None)
    return root


def test_outcomes_from_threads_are_printed_whole_one_write_each(make_project, monkeypatch):
    root = _project(make_project, monkeypatch)

    def fake_lock_cells(config, cells, *, jobs, on_done, **options):
        barrier = threading.Barrier(len(cells))
        outcomes = [
            LockOutcome(cell=cell, path=lock_path(config, cell), written=True) for cell in cells
        ]

        def report(outcome):
            barrier.wait()  # every cell finishes at once
            on_done(outcome)

        threads = [threading.Thread(target=report, args=(o,)) for o in outcomes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return outcomes

    monkeypatch.setattr(resolve, "lock_cells", fake_lock_cells)
    recorder = Recorder()
    monkeypatch.setattr(sys, "stdout", recorder)
    assert main(["lock", "-C", str(root), "-j", "8"]) == 0
    wrote = [text for text in recorder.writes if ": wrote " in text]
    assert len(wrote) == 8
    assert all(text.endswith("\n") and text.count("\n") == 1 for text in wrote)
    assert not recorder.overlapped


def test_an_interrupt_names_the_cells_left_unlocked_in_one_line(make_project, monkeypatch, capsys):
    root = _project(make_project, monkeypatch)

    def fake_lock_cells(config, cells, *, jobs, on_done, **options):
        on_done(LockOutcome(cell=cells[0], path=lock_path(config, cells[0]), written=True))
        raise KeyboardInterrupt

    monkeypatch.setattr(resolve, "lock_cells", fake_lock_cells)
    assert main(["lock", "-C", str(root), "3.*-cpu-lean"]) == 130
    captured = capsys.readouterr()
    (line,) = [line for line in captured.out.splitlines() if line.startswith("no lock written")]
    assert "interrupted" not in captured.out, "noxgrid: interrupted (stderr) says it once"
    assert line == (
        "no lock written for 3 of 4 cell(s): 3.10-cpu-lean, 3.11-cpu-lean, "
        "3.12-cpu-lean (their locks are as they were); to finish: noxgrid lock "
        "3.10-cpu-lean 3.11-cpu-lean 3.12-cpu-lean"
    )
    assert "noxgrid: interrupted" in captured.err
