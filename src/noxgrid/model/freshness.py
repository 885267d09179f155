"""Whether each cell's lock can be trusted as it is: missing, stale (its inputs changed),
edited (its text no longer matches its body digest), unsealed, or fresh. Offline:
reads files only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from noxgrid.model.config import Config
from noxgrid.model.inputs import inputs_digest
from noxgrid.model.lockfile import Lock, legacy_lock_path, lock_path, parse_lock, parse_lock_header
from noxgrid.model.matrix import Cell


@dataclass(frozen=True, kw_only=True)
class LockState:
    """Whether a cell's lock matches its inputs as they are now, and its own body."""

    cell: Cell
    path: Path
    state: str  # "fresh", "stale", "missing", "edited", "unsealed" or "legacy"
    detail: str = ""


STATE_DETAILS = {
    "stale": "its inputs changed since it was written (requirement files, project "
    "dependencies, python, platform or accelerator rules)",
    "edited": "its text no longer matches its body digest: it was edited by hand after "
    "noxgrid wrote it (a package line added, a version or a hash changed)",
    "legacy": "it is a .txt lock of an older noxgrid; `noxgrid lock` migrates it to a PEP 751 "
    "pylock.toml with the same pins (unless its inputs changed)",
    "unsealed": "it has no body digest (written by an older noxgrid, or by hand), so "
    "nothing proves it is what was resolved",
}


def lock_state(config: Config, cell: Cell) -> LockState:
    """One cell's lock state; reads files only (no network, no process)."""
    path = lock_path(config, cell)
    if not path.is_file():
        legacy = legacy_lock_path(config, cell)
        if legacy.is_file():
            return LockState(cell=cell, path=legacy, state="legacy", detail=STATE_DETAILS["legacy"])
        return LockState(cell=cell, path=path, state="missing")
    lock = parse_lock_header(path.read_text(encoding="utf-8"))
    if lock.body_state != "sealed":
        return LockState(
            cell=cell, path=path, state=lock.body_state, detail=STATE_DETAILS[lock.body_state]
        )
    digest, _ = inputs_digest(config, cell)
    if lock.digest != digest:
        return LockState(cell=cell, path=path, state="stale", detail=STATE_DETAILS["stale"])
    return LockState(cell=cell, path=path, state="fresh")


def check_locks(config: Config, cells: Sequence[Cell]) -> list[LockState]:
    """Each cell's lock state; reads files only (no network, no process)."""
    return [lock_state(config, cell) for cell in cells]


def refresh_command(cells: Sequence[Cell]) -> str:
    """The command that refreshes exactly these cells' locks."""
    return "noxgrid lock " + " ".join(cell.id for cell in cells)


def read_lock(path: Path) -> Lock:
    """Parse the lock at ``path``."""
    return parse_lock(path.read_text(encoding="utf-8"))
