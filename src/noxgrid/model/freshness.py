"""Whether each cell's lock can be trusted as it is: missing, stale (its inputs changed,
named where the lock records each input's digest), edited (its text no longer matches
its body digest), unsealed, or fresh; and the locks whose cell left the matrix.
Offline: reads files only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from noxgrid.errors import LockUnreadable
from noxgrid.model.allowances import for_cell
from noxgrid.model.config import Config, relative_path
from noxgrid.model.inputs import input_digests, inputs_digest
from noxgrid.model.lockfile import (
    Lock,
    legacy_lock_path,
    lock_name,
    lock_path,
    parse_lock,
    parse_lock_header,
)
from noxgrid.model.matrix import Cell, expand
from noxgrid.model.policy import Finding, evaluate

DIGESTS_KEY = "input-digests"


@dataclass(frozen=True, kw_only=True)
class LockState:
    """Whether a cell's lock matches its inputs as they are now, and its own body."""

    cell: Cell
    path: Path
    state: str  # "fresh", "stale", "missing", "edited", "unsealed", "legacy" or "unreadable"
    detail: str = ""

    def fix(self, root: Path) -> str:
        """The command that makes this lock fresh: ``noxgrid lock <cell>``, after removing
        a folder that stands in the lock's place (``noxgrid lock`` leaves it alone)."""
        command = refresh_command([self.cell])
        if self.state == "unreadable" and self.path.is_dir():
            return f"rm -r {relative_path(self.path, root)} (then {command})"
        return command


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
    try:
        text = lock_text(path) if path.exists() else None
    except LockUnreadable as error:
        return LockState(cell=cell, path=path, state="unreadable", detail=error.message)
    if text is None:
        legacy = legacy_lock_path(config, cell)
        if legacy.is_file():
            return LockState(cell=cell, path=legacy, state="legacy", detail=STATE_DETAILS["legacy"])
        return LockState(cell=cell, path=path, state="missing")
    try:
        lock = parse_lock_header(text)
    except LockUnreadable as error:
        return LockState(cell=cell, path=path, state="unreadable", detail=error.message)
    if lock.body_state != "sealed":
        return LockState(
            cell=cell, path=path, state=lock.body_state, detail=STATE_DETAILS[lock.body_state]
        )
    if not made_from_current_inputs(config, cell, lock):
        return LockState(
            cell=cell, path=path, state="stale", detail=stale_detail(config, cell, lock)
        )
    return LockState(cell=cell, path=path, state="fresh")


def made_from_current_inputs(config: Config, cell: Cell, lock: Lock) -> bool:
    """True when the lock's inputs digest is that of the inputs as they are now (for a lock
    written before ``input-digests``, as it counted them: a build backend's files whole)."""
    if lock.digest == inputs_digest(config, cell)[0]:
        return True
    return (
        DIGESTS_KEY not in lock.header
        and lock.digest == inputs_digest(config, cell, legacy=True)[0]
    )


def format_input_digests(parts: Mapping[str, str]) -> str:
    """The lock's ``input-digests`` field: ``name=digest`` pairs, comma-separated."""
    return ", ".join(f"{name}={digest}" for name, digest in parts.items())


def parse_input_digests(text: str) -> dict[str, str]:
    """The ``input-digests`` field read back (names may hold ``=``; digests do not)."""
    parts = {}
    for item in text.split(", "):
        name, _, digest = item.rpartition("=")
        if name:
            parts[name] = digest
    return parts


def changed_inputs(recorded: Mapping[str, str], current: Mapping[str, str]) -> list[str]:
    """The inputs whose digest moved, in the order they are read now; new and dropped
    ones said so."""
    changed = [
        name if name in recorded else f"{name} (new)"
        for name, digest in current.items()
        if recorded.get(name) != digest
    ]
    return changed + [f"{name} (no longer an input)" for name in recorded if name not in current]


def stale_detail(config: Config, cell: Cell, lock: Lock) -> str:
    """Why a lock is stale: the inputs that changed, where the lock records each input's
    digest (an older lock does not: then what may have changed, as before)."""
    recorded = lock.header.get(DIGESTS_KEY)
    if not recorded:
        return STATE_DETAILS["stale"]
    changed = changed_inputs(parse_input_digests(recorded), input_digests(config, cell))
    if not changed:
        return STATE_DETAILS["stale"]
    return "its inputs changed since it was written: " + ", ".join(changed)


def check_locks(config: Config, cells: Sequence[Cell]) -> list[LockState]:
    """Each cell's lock state; reads files only (no network, no process)."""
    return [lock_state(config, cell) for cell in cells]


def refresh_command(cells: Sequence[Cell]) -> str:
    """The command that refreshes exactly these cells' locks."""
    return "noxgrid lock " + " ".join(cell.id for cell in cells)


def policy_findings(config: Config, state: LockState) -> list[Finding]:
    """The policy's findings for a fresh lock as it is committed (those its cell's
    allowances allow marked so), as ``noxgrid check`` and ``noxgrid lock --check`` judge
    it: the parsed lock and the sizes its header records, no network."""
    lock = read_lock(state.path)
    return evaluate(
        lock,
        accelerator=config.accelerators[state.cell.accelerator],
        policy=config.policy,
        profile=config.profiles[state.cell.profile],
        installed_estimate=lock.header_bytes("installed-bytes"),
        largest=lock.largest(),
        allowances=for_cell(config.allowances, state.cell),
    )


def read_lock(path: Path) -> Lock:
    """Parse the lock at ``path``; LockUnreadable where it is not a lock noxgrid can read."""
    return parse_lock(lock_text(path))


def lock_text(path: Path) -> str:
    """The text of the lock at ``path``; LockUnreadable (what is wrong, no traceback) where
    it is a folder, cannot be read, or is not UTF-8 text."""
    if path.is_dir():
        raise LockUnreadable("it is a folder, not a lock file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise LockUnreadable(
            f"it is not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset "
            f"{error.start}): not a lock noxgrid wrote, or damaged since"
        ) from error
    except OSError as error:
        raise LockUnreadable(f"it cannot be read ({error.strerror or error})") from error


@dataclass(frozen=True, kw_only=True)
class Orphan:
    """A lock in the locks folder whose cell is no longer in the matrix."""

    path: Path
    cell: str
    reason: str

    def fix(self, root: Path) -> str:
        """The exact removal."""
        return f"rm {relative_path(self.path, root)} (or noxgrid lock --prune)"


_TITLE = re.compile(r"^# Lock of cell (\S+), written by noxgrid", re.MULTILINE)
_LEGACY = re.compile(r"^3\.\d+-[a-z][a-z0-9_]*-[a-z][a-z0-9_]*$")


def orphaned_locks(config: Config) -> list[Orphan]:
    """The locks noxgrid wrote whose cell left the matrix (a python value dropped from
    the axis, a profile or accelerator removed, a cell excluded), with why."""
    folder = config.locks_dir
    if not folder.is_dir():
        return []
    matrix = expand(config)
    wanted = {lock_name(cell) for cell in matrix} | {f"{cell.id}.txt" for cell in matrix}
    found = []
    for path in sorted([*folder.glob("pylock.*.toml"), *folder.glob("*.txt")]):
        if path.name in wanted:
            continue
        cell = _locked_cell(path)
        if cell is not None:
            found.append(Orphan(path=path, cell=cell, reason=_left_because(config, cell)))
    return found


def _locked_cell(path: Path) -> str | None:
    """The cell a lock file was written for, or None where noxgrid did not write it."""
    if path.suffix == ".txt":
        if not _LEGACY.match(path.stem):
            return None
        head = path.read_text(encoding="utf-8", errors="replace")[:4000]
        return path.stem if "# inputs-sha256:" in head else None
    text = path.read_text(encoding="utf-8", errors="replace")
    title = _TITLE.search(text)
    if title is None or 'created-by = "noxgrid"' not in text:
        return None
    return title.group(1)


def _left_because(config: Config, cell_id: str) -> str:
    """Which change took the cell out of the matrix."""
    python, _, rest = cell_id.partition("-")
    accelerator, _, profile = rest.partition("-")
    included = {values.get("python") for values in config.include}
    if python not in config.pythons and python not in included:
        return f"python {python} is no longer on the python axis"
    if accelerator not in config.accelerators:
        return f"accelerator '{accelerator}' is no longer declared"
    if profile not in config.profiles:
        return f"profile '{profile}' is no longer declared"
    return "the cell is excluded ([tool.noxgrid] exclude)"
