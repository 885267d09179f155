"""Write cell results to the reports folder, atomically.

Each cell owns its own files (``<cell>.json``, ``<cell>.xml``), written to a
temporary file in the same folder and renamed into place, so cells running in
parallel never corrupt each other's reports and an interrupted run leaves the
old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path

from noxgrid.model.results import CellResult
from noxgrid.render.junit import render_junit


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)  # keep a replaced file's permissions
    except OSError:
        mode = 0o666 & ~_umask()  # a new file: what open() would have made
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        Path(temporary).chmod(mode)  # mkstemp makes 0600
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process umask, read without changing it (Linux), else the usual 022."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


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
    return sorted(results, key=lambda result: result.cell)


def log_path(folder: Path, cell_id: str, stage: str) -> Path:
    """Where the full output of one stage of one cell is kept."""
    return folder / "logs" / f"{cell_id}.{stage}.log"


def directory_size(path: Path) -> int:
    """Apparent size of every file below ``path`` (links not followed)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += (Path(root) / name).lstat().st_size
            except OSError:
                continue
    return total
