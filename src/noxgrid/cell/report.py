"""Write cell results to the reports folder, atomically.

Each cell owns its own files (``<cell>.json``, ``<cell>.xml``), written to a
temporary file in the same folder and renamed into place, so cells running in
parallel never corrupt each other's reports and an interrupted run leaves the
old file or the new one, never half of one.
"""

from __future__ import annotations

import json
from pathlib import Path

from noxgrid.files import atomic_write
from noxgrid.model.matrix import cell_key
from noxgrid.model.results import CellResult
from noxgrid.render.junit import render_junit


def write_cell_report(result: CellResult, folder: Path) -> tuple[Path, Path]:
    """``<folder>/<cell>.json`` and ``<folder>/<cell>.xml``; returns both paths."""
    json_path = folder / f"{result.cell.id}.json"
    xml_path = folder / f"{result.cell.id}.xml"
    atomic_write(json_path, json.dumps(result.as_dict(), indent=2) + "\n")
    atomic_write(xml_path, render_junit([result]))
    return json_path, xml_path


def read_cell_reports(folder: Path) -> list[CellResult]:
    """Every ``<cell>.json`` in ``folder``, sorted by cell."""
    results = []
    for path in sorted(folder.glob("*.json")):
        results.append(CellResult.from_dict(json.loads(path.read_text(encoding="utf-8"))))
    return sorted(results, key=lambda result: cell_key(result.cell))


def log_path(folder: Path, cell_id: str, stage: str) -> Path:
    """Where the full output of one stage of one cell is kept."""
    return folder / "logs" / f"{cell_id}.{stage}.log"
