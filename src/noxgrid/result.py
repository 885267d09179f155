"""What a cell run produced: per-stage status and timings, sizes. Pure values."""

from __future__ import annotations

import enum
from collections.abc import Sequence, Sized
from dataclasses import dataclass, field
from typing import Any

from noxgrid.matrix import Cell


class Status(str, enum.Enum):
    """How a stage or a cell ended."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, kw_only=True)
class StageResult:
    """One stage of one cell: its status, duration and a one-paragraph detail."""

    name: str
    status: Status
    duration: float
    detail: str = ""
    log: str | None = None

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

    @property
    def status(self) -> Status:
        """FAILED if any stage failed, else PASSED (skipped stages do not fail a cell)."""
        if any(stage.status is Status.FAILED for stage in self.stages):
            return Status.FAILED
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
        )


def release_passed(results: Sequence[CellResult], findings: Sized) -> bool:
    """A release passes with results, none failed, and nothing found by ``noxgrid check``."""
    return bool(results) and not findings and all(r.status is not Status.FAILED for r in results)


def verdict(results: Sequence[CellResult], findings: Sized) -> str:
    """One line: PASSED, or FAILED with what failed (``findings``: drift, counted)."""
    if release_passed(results, findings):
        return f"PASSED: {len(results)} cells"
    failed = [r for r in results if r.status is Status.FAILED]
    parts = []
    if not results:
        parts.append("no cell results")
    if failed:
        parts.append(f"{len(failed)} of {len(results)} cells failed")
    if findings:
        parts.append(f"{len(findings)} drift finding(s)")
    return "FAILED: " + ", ".join(parts)


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
