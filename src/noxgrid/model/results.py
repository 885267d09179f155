"""What a cell run produced: per-stage status and timings, sizes. Pure values."""

from __future__ import annotations

import enum
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from noxgrid.model.allowances import Allowance, allowed_text, allowing, for_cell
from noxgrid.model.localpkg import LocalPackage
from noxgrid.model.matrix import Cell
from noxgrid.model.reason import failure_line
from noxgrid.model.text import clean_text


class Status(str, enum.Enum):
    """How a stage or a cell ended."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    # Stopped by Ctrl-C or SIGTERM (or not started after one): neither passed nor failed.
    INTERRUPTED = "interrupted"


# The word each front end shows for a cell's status (the text table, the progress lines).
MARKS = {
    Status.PASSED: "OK",
    Status.FAILED: "FAILED",
    Status.SKIPPED: "SKIPPED",
    Status.INTERRUPTED: "INTERRUPTED",
}

INTERRUPTED_NOT_RUN = "not run: noxgrid was interrupted"


@dataclass(frozen=True, kw_only=True)
class StageResult:
    """One stage of one cell: its status, duration and a one-paragraph detail."""

    name: str
    status: Status
    duration: float
    detail: str = ""
    log: str | None = None
    # GitHub workflow commands about this stage (failed tests' annotations); not stored.
    annotations: tuple[str, ...] = ()
    # A failed stage's exit status in the table of --help (3: no interpreter, 5: the index
    # could not be reached; 1: a check failed); not stored.
    exit_code: int = 1

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "status": self.status.value,
            "duration": round(self.duration, 3),
            "detail": self.detail,
            "log": self.log,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageResult:
        """Inverse of :meth:`as_dict`."""
        return cls(
            name=data["name"],
            status=Status(data["status"]),
            duration=float(data["duration"]),
            detail=data.get("detail", ""),
            log=data.get("log"),
        )


@dataclass(frozen=True, kw_only=True)
class SetupStep:
    """One setup step the suite ran before its tests: its argv, exit status and time."""

    argv: tuple[str, ...]
    returncode: int
    duration: float
    timed_out: bool = False
    # Run inside the cell's image (the suite in the image), not in the venv on the host.
    in_image: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "argv": list(self.argv),
            "returncode": self.returncode,
            "duration": round(self.duration, 3),
            "timed_out": self.timed_out,
            "in_image": self.in_image,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SetupStep:
        """Inverse of :meth:`as_dict`."""
        return cls(
            argv=tuple(str(word) for word in data.get("argv", ())),
            returncode=int(data.get("returncode", 0)),
            duration=float(data.get("duration", 0.0)),
            timed_out=bool(data.get("timed_out", False)),
            in_image=bool(data.get("in_image", False)),
        )

    def describe(self) -> str:
        """One line: ``cp .env.example .env: exit 0, 0.01s`` (``, in the image``)."""
        end = "timed out" if self.timed_out else f"exit {self.returncode}"
        where = ", in the image" if self.in_image else ""
        return f"{shlex.join(self.argv)}: {end}, {self.duration:.2f}s{where}"


@dataclass(frozen=True, kw_only=True)
class CellResult:
    """Everything one cell run produced."""

    cell: Cell
    stages: tuple[StageResult, ...]
    started_at: str
    duration: float
    interpreter: str | None = None
    venv_size: int | None = None
    size_estimate: int | None = None
    image_size: int | None = None
    notes: tuple[str, ...] = field(default=())
    # The profile's local packages as installed (path, content digest) and the suite's
    # setup steps as they ran (argv, exit, time).
    local_packages: tuple[LocalPackage, ...] = ()
    setup_steps: tuple[SetupStep, ...] = ()
    # Findings allowed on purpose ([[tool.noxgrid.allow]]), one line each.
    allowed: tuple[str, ...] = field(default=())
    # A gpu cell that ran on a machine without a GPU: how many gpu tests were deselected
    # (None: the cell had its GPU, or is not a gpu cell).
    without_gpu: int | None = None

    @property
    def status(self) -> Status:
        """FAILED if any stage failed, else INTERRUPTED if one was, else PASSED (skipped
        stages do not fail a cell)."""
        if any(stage.status is Status.FAILED for stage in self.stages):
            return Status.FAILED
        if any(stage.status is Status.INTERRUPTED for stage in self.stages):
            return Status.INTERRUPTED
        return Status.PASSED

    @property
    def first_error(self) -> str | None:
        """The detail of the first failed stage."""
        for stage in self.stages:
            if stage.status is Status.FAILED:
                return f"{stage.name}: {stage.detail}"
        return None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, stable key order."""
        return {
            "cell": self.cell.as_dict(),
            "status": self.status.value,
            "started_at": self.started_at,
            "duration": round(self.duration, 3),
            "interpreter": self.interpreter,
            "venv_size": self.venv_size,
            "size_estimate": self.size_estimate,
            "image_size": self.image_size,
            "notes": list(self.notes),
            "local_packages": [package.as_dict() for package in self.local_packages],
            "setup_steps": [step.as_dict() for step in self.setup_steps],
            "allowed": list(self.allowed),
            "without_gpu": self.without_gpu,
            "stages": [stage.as_dict() for stage in self.stages],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CellResult:
        """Inverse of :meth:`as_dict`."""
        cell = data["cell"]
        return cls(
            cell=Cell(
                python=cell["python"], accelerator=cell["accelerator"], profile=cell["profile"]
            ),
            stages=tuple(StageResult.from_dict(stage) for stage in data["stages"]),
            started_at=data["started_at"],
            duration=float(data["duration"]),
            interpreter=data.get("interpreter"),
            venv_size=data.get("venv_size"),
            size_estimate=data.get("size_estimate"),
            image_size=data.get("image_size"),
            notes=tuple(data.get("notes", ())),
            local_packages=tuple(
                LocalPackage.from_dict(item) for item in data.get("local_packages", ())
            ),
            setup_steps=tuple(SetupStep.from_dict(item) for item in data.get("setup_steps", ())),
            allowed=tuple(data.get("allowed", ())),
            without_gpu=_optional_int(data.get("without_gpu")),
        )

    def setup_lines(self) -> list[str]:
        """What the cell installed beside its lock and ran before its tests, one line each:
        ``local package sub (subpkg 0.1.0, sha256 ..., kept)``, ``setup: cp ...: exit 0``."""
        gpu = [without_gpu_text(self.without_gpu)] if self.without_gpu is not None else []
        return (
            [f"local package {p.describe()}" for p in self.local_packages]
            + [f"setup: {step.describe()}" for step in self.setup_steps]
            + gpu
        )


def without_gpu_text(deselected: int) -> str:
    """How every front end says a gpu cell ran without a GPU."""
    tests = "gpu test" if deselected == 1 else "gpu tests"
    return f"ran without a GPU: {deselected} {tests} deselected"


def no_gpu_allowance(allowances: Sequence[Allowance], cell: Cell) -> Allowance | None:
    """The ``rule = "no-gpu"`` allowance that accepts ``cell`` running without a GPU."""
    return allowing(for_cell(allowances, cell), "no-gpu", ())


def no_gpu_allowed_line(deselected: int, allowance: Allowance) -> str:
    """The allowed-on-purpose line of a gpu cell that ran without a GPU."""
    return f"[no-gpu] {without_gpu_text(deselected)}: {allowed_text(allowance.reason)}"


def _optional_int(value: object) -> int | None:
    return int(value) if isinstance(value, (int, str)) and str(value).isdigit() else None


# Every stage a cell runs; a release needs each of them to have passed (image and
# smoke only where the project declares an image).
STAGES = ("interpreter", "lock", "venv", "install", "doctor", "image", "smoke", "suite")
IMAGE_STAGES = ("image", "smoke")


def release_stages(image_declared: bool) -> tuple[str, ...]:
    """The stages a cell must have passed to count as verified for a release."""
    return STAGES if image_declared else tuple(s for s in STAGES if s not in IMAGE_STAGES)


@dataclass(frozen=True, kw_only=True)
class Release:
    """A release's verdict over the whole matrix, not over whatever results were shown.

    Every ``expected`` cell needs a result that passed every stage of
    ``required``: a cell without a result is MISSING, a cell whose image or
    smoke stage was skipped (``--no-docker``) or never ran is NOT VERIFIED, and so
    is a gpu cell that ran without a GPU (its gpu tests deselected) unless an
    allowance ``rule = "no-gpu"`` accepts it; either fails the release, and so
    does any drift finding.
    """

    results: tuple[CellResult, ...]
    expected: tuple[Cell, ...]
    findings: tuple[Any, ...] = ()
    required: tuple[str, ...] = STAGES
    # [[tool.noxgrid.allow]]: a "no-gpu" one accepts a gpu cell that ran without a GPU.
    allowances: tuple[Allowance, ...] = ()

    @property
    def by_id(self) -> dict[str, CellResult]:
        """The results of expected cells, by cell id."""
        wanted = {cell.id for cell in self.expected}
        return {r.cell.id: r for r in self.results if r.cell.id in wanted}

    @property
    def missing(self) -> list[Cell]:
        """Expected cells with no result."""
        found = self.by_id
        return [cell for cell in self.expected if cell.id not in found]

    @property
    def failed(self) -> list[CellResult]:
        """Expected cells whose run failed."""
        return [r for r in self.by_id.values() if r.status is Status.FAILED]

    @property
    def interrupted(self) -> list[CellResult]:
        """Expected cells whose run was interrupted (Ctrl-C, SIGTERM) before it ended."""
        return [r for r in self.by_id.values() if r.status is Status.INTERRUPTED]

    def unverified(self) -> list[tuple[CellResult, str]]:
        """Expected cells that passed without running every required stage, and why."""
        found = []
        for result in self.by_id.values():
            if result.status is not Status.PASSED:
                continue
            stages = {stage.name: stage for stage in result.stages}
            gaps = []
            for name in self.required:
                stage = stages.get(name)
                if stage is None:
                    gaps.append(f"{name} did not run")
                elif stage.status is not Status.PASSED:
                    gaps.append(f"{name} {stage.status.value} ({failure_line(stage.detail)})")
            gaps += self._gpu_gap(result)
            if gaps:
                found.append((result, "; ".join(gaps)))
        return found

    def _gpu_gap(self, result: CellResult) -> list[str]:
        if result.without_gpu is None or no_gpu_allowance(self.allowances, result.cell):
            return []
        return [
            f"{without_gpu_text(result.without_gpu)}; fix: run it on a machine with a GPU, "
            'or accept it: [[tool.noxgrid.allow]] rule = "no-gpu", cells = '
            f'["{result.cell.id}"], reason = "why"'
        ]

    @property
    def passed(self) -> bool:
        """True only when every expected cell was verified and nothing drifted."""
        return (
            bool(self.expected)
            and not self.findings
            and not self.missing
            and not self.failed
            and not self.interrupted
            and not self.unverified()
        )

    def cell_problems(self) -> list[tuple[str, str, str]]:
        """(cell id, MISSING / FAILED / INTERRUPTED / NOT VERIFIED, why) for every cell that
        fails the release."""
        rows = [(r.cell.id, "FAILED", failure_line(r.first_error or "")) for r in self.failed]
        rows += [(r.cell.id, "INTERRUPTED", interruption(r)) for r in self.interrupted]
        rows += [
            (cell.id, "MISSING", "no result: the cell did not run, or its job's report was lost")
            for cell in self.missing
        ]
        rows += [(r.cell.id, "NOT VERIFIED", why) for r, why in self.unverified()]
        order = {cell.id: index for index, cell in enumerate(self.expected)}
        return sorted(rows, key=lambda row: order.get(row[0], len(order)))

    def verdict(self) -> str:
        """One line: PASSED with the count, or FAILED with what failed."""
        total = len(self.expected)
        if self.passed:
            return f"PASSED: {total} of {total} cells verified"
        parts = []
        if not self.expected:
            parts.append("no cell to verify")
        if self.failed:
            parts.append(f"{len(self.failed)} of {total} cells failed")
        if self.interrupted:
            parts.append(f"{len(self.interrupted)} of {total} cells interrupted")
        if self.missing:
            parts.append(f"{len(self.missing)} of {total} cells missing")
        unverified = self.unverified()
        if unverified:
            parts.append(f"{len(unverified)} of {total} cells not verified")
        if self.findings:
            parts.append(f"{len(self.findings)} drift finding(s)")
        return "FAILED: " + ", ".join(parts)


def interruption(result: CellResult) -> str:
    """Why a cell counts as interrupted: the stage the interrupt stopped, and the fix."""
    for stage in result.stages:
        if stage.status is Status.INTERRUPTED:
            return (
                f"{stage.name} interrupted ({failure_line(stage.detail)}); "
                "fix: run the cell again to verify it"
            )
    return ""


def allowed_lines(results: Iterable[CellResult]) -> list[str]:
    """Every finding allowed on purpose in ``results``, once each with the cells it was
    allowed in: ``[exclusive] ...: allowed on purpose: <reason> (3.11-cpu-lean, ...)``. The
    one rendering every report (text, Markdown, the release page) shows."""
    cells: dict[str, list[str]] = {}
    for result in results:
        for line in result.allowed:
            cells.setdefault(line, []).append(result.cell.id)
    return [f"{line} ({', '.join(ids)})" for line, ids in cells.items()]


def first_line(text: str) -> str:
    """The first non-empty line of ``text`` (a reason's summary), control characters removed."""
    for line in clean_text(text).strip().split("\n"):
        if line.strip():
            return line.strip()
    return ""


def format_size(size: int | None) -> str:
    """``123456789`` -> ``'123.5 MB'`` (decimal units, as budgets are written)."""
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")  # pragma: no cover
