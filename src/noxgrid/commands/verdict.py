"""A release verdict from results: the cells expected, the judgement, how it is printed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from noxgrid.errors import (
    CellFailed,
    SelectionError,
)

if TYPE_CHECKING:
    from noxgrid.model.config import Config
    from noxgrid.model.matrix import Cell, Matrix
    from noxgrid.model.results import CellResult, Release


def expected_cells(matrix: Matrix, text: str | None) -> list[Cell]:
    """The cells a merged report must cover: ``--expect`` (a strategy.matrix JSON, as the
    plan job prints it, or cell ids and patterns separated by commas or spaces), else all."""
    if text is None:
        return list(matrix)
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            include = json.loads(stripped)["include"]
            ids = [str(entry["cell"]) for entry in include]
        except (ValueError, KeyError, TypeError) as exc:
            raise SelectionError(
                f"--expect: not a strategy.matrix with include[].cell entries: {stripped[:80]}",
                fix="pass the plan job's output (noxgrid matrix --github) or cell ids",
            ) from exc
    else:
        ids = [part for part in stripped.replace(",", " ").split() if part]
    if not ids:
        return []
    return list(matrix.select(ids))


def judge(
    config: Config,
    results: Sequence[CellResult],
    expected: Sequence[Cell],
    findings: Sequence[dict[str, str]] = (),
) -> Release:
    from noxgrid.model.results import Release, release_stages

    return Release(
        results=tuple(results),
        expected=tuple(expected),
        findings=tuple(findings),
        required=release_stages(config.docker.image is not None),
        allowances=tuple(config.allowances),
    )


def print_release(release: Release, elapsed: float | None = None) -> None:
    for cell_id, what, why in release.cell_problems():
        print(f"{what}: {cell_id}: {why}")
    took = f" in {elapsed:.1f}s" if elapsed is not None else ""
    print(f"\n{release.verdict()}{took}")


def release_failed(release: Release, where: Path) -> CellFailed:
    parts = [f"{cell_id} {what.lower()}" for cell_id, what, _ in release.cell_problems()]
    if release.findings:
        parts.append(f"{len(release.findings)} drift finding(s) from noxgrid check")
    if not release.expected:
        parts.append("no cell was expected")
    return CellFailed(
        "release not verified: " + "; ".join(parts),
        fix=f"open {where}: it says why for each cell; rerun the cells that are missing "
        "or failed (and their images, without --no-docker)",
    )
