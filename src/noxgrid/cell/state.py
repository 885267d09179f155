"""What the stages of one cell share while they run, and how a stage ends early."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from noxgrid.cell.progress import Progress
from noxgrid.cell.report import log_path
from noxgrid.model.config import Config, relative_path
from noxgrid.model.diagnose import disk_full
from noxgrid.model.localpkg import LocalPackage
from noxgrid.model.lockfile import Lock
from noxgrid.model.matrix import Cell
from noxgrid.model.results import SetupStep
from noxgrid.model.screen import for_screen
from noxgrid.tools.docker import Docker
from noxgrid.tools.interpreters import Interpreter
from noxgrid.tools.runner import Runner
from noxgrid.tools.uv import Uv

STAMP = "noxgrid-venv.json"

INSTALL_STAMP = "noxgrid-install.sha256"

DOCTOR_STAMP = "noxgrid-doctor.json"

PROJECT_METADATA = ("pyproject.toml", "setup.cfg", "setup.py")


@dataclass
class CellRun:
    """The state one cell's stages share while they run."""

    config: Config
    cell: Cell
    runner: Runner
    progress: Progress
    env: Mapping[str, str]
    uv: Uv | None = None
    interpreter: Interpreter | None = None
    notes: list[str] = field(default_factory=list)
    # Findings allowed on purpose, one line each ("... : allowed on purpose: <reason>").
    allowed: list[str] = field(default_factory=list)
    logs: dict[str, Path] = field(default_factory=dict)
    lock: Lock | None = None
    docker_enabled: bool = True
    in_image: bool = False
    # Arguments for the suite command, after its own (``nox -s ci-lean -- -k slow``).
    suite_args: tuple[str, ...] = ()
    docker: Docker | None = None
    image_size: int | None = None
    install_stamp: str | None = None
    doctor: dict[str, object] = field(default_factory=dict)
    # For the report: the local packages the install stage proved or installed, and the
    # setup steps the suite stage ran.
    local_packages: list[LocalPackage] = field(default_factory=list)
    # The content digest of each local package, by path: walked once per run.
    local_digests: dict[str, str] | None = None
    setup_steps: list[SetupStep] = field(default_factory=list)
    # A gpu cell run without a GPU: the gpu tests its suite deselected (None: not so).
    without_gpu: int | None = None

    @property
    def venv(self) -> Path:
        """This cell's virtual environment."""
        return self.config.venvs_dir / self.cell.id

    @property
    def venv_bin(self) -> Path:
        """The venv's scripts folder."""
        return self.venv / ("Scripts" if os.name == "nt" else "bin")

    @property
    def venv_python(self) -> Path:
        """The venv's interpreter."""
        return self.venv_bin / ("python.exe" if os.name == "nt" else "python")

    def note(self, text: str) -> None:
        """Record a remark in the report and show it."""
        self.notes.append(text)
        self.progress.note(self.cell, text)

    def allow(self, line: str) -> None:
        """Record a finding allowed on purpose in the report, and show it."""
        self.allowed.append(line)
        self.progress.note(self.cell, line)

    def get_uv(self) -> Uv:
        """The uv wrapper, created on first use."""
        if self.uv is None:
            self.uv = Uv(self.runner)
        return self.uv

    @contextlib.contextmanager
    def log(self, stage: str) -> Iterator[StageLog]:
        """A line sink writing to the stage's log file and to the progress view."""
        path = log_path(self.config.reports_dir, self.cell.id, stage)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.logs[stage] = path
        stream: IO[str]
        # Line-buffered: a cell killed mid-stage leaves its log up to the last line.
        with path.open("w", encoding="utf-8", buffering=1) as stream:
            yield StageLog(stream, lambda line: self.progress.output(self.cell, line))


class StageLog:
    """A stage's output: every line into its log file; to the screen what is for people.

    Called with a line, it writes the line to the log and shows it, unless
    ``for_screen`` leaves it out; ``record`` writes to the log alone (a probe's JSON).
    """

    def __init__(self, stream: IO[str], show: Callable[[str], None]) -> None:
        self._stream = stream
        self._show = show

    def __call__(self, line: str) -> None:
        self._stream.write(line)
        if for_screen(line):
            self._show(line)

    def record(self, text: str) -> None:
        """Into the log only."""
        self._stream.write(text)


def requirements_shown(state: CellRun) -> str:
    files = state.config.profiles[state.cell.profile].requirements
    return relative_path(files[-1], state.config.root) if files else "the requirement files"


def failure(what: str, returncode: int, output: str) -> str:
    """``<what> exited with <code>`` (with the fix where a disk was full), then its output."""
    tail = "\n".join(output.strip().splitlines()[-15:])
    full = disk_full(output)
    head = f"{what} exited with {returncode}" + (f": {full}" if full else "")
    return head + (f"\n{tail}" if tail else "")


@dataclass(frozen=True, kw_only=True)
class Stage:
    """One stage of a cell: the fields of the run it reads (``needs``) and sets (``adds``),
    the function that does it (its one-line detail back, or StageFailure / StageSkipped),
    and what it says it does when it starts."""

    name: str
    needs: tuple[str, ...]
    adds: tuple[str, ...]
    run: Callable[[CellRun], str]
    describe: Callable[[CellRun], str]
