"""The lock stage: the cell's lock must be sealed, fresh and policy clean, before anything
is installed (offline: the lock alone says it).
"""

from __future__ import annotations

from noxgrid.cell.state import CellRun, Stage
from noxgrid.errors import LockUnreadable, StageFailure
from noxgrid.model.allowances import for_cell
from noxgrid.model.config import relative_path
from noxgrid.model.freshness import (
    STATE_DETAILS,
    made_from_current_inputs,
    read_lock,
    stale_detail,
)
from noxgrid.model.lockfile import Lock, legacy_lock_path, lock_path
from noxgrid.model.policy import allowed, evaluate, refusing
from noxgrid.model.reason import refusal_line
from noxgrid.model.results import format_size


def stage_lock(state: CellRun) -> str:
    config, cell = state.config, state.cell
    path = lock_path(config, cell)
    shown = relative_path(path, config.root)
    if not path.exists() and legacy_lock_path(config, cell).is_file():
        raise StageFailure(
            f"{relative_path(legacy_lock_path(config, cell), config.root)} is a .txt lock of an "
            f"older noxgrid; locks are now PEP 751 files ({path.name}); fix: noxgrid lock "
            f"{cell.id} migrates it (the same pins unless its inputs changed), then commit both "
            "the new file and the removal"
        )
    if not path.exists():
        raise StageFailure(
            f"no lock for {cell.id} ({shown} does not exist); fix: noxgrid lock {cell.id}, "
            "then commit the file"
        )
    try:
        lock = read_lock(path)
    except LockUnreadable as error:
        raise StageFailure(
            f"the lock {shown} is refused: {error.message}; fix: noxgrid lock {cell.id} "
            "(it is made again from its inputs; a folder in its place is to be removed first), "
            "then commit it"
        ) from error
    if lock.body_state != "sealed":
        raise StageFailure(
            f"the lock {shown} is refused: {STATE_DETAILS[lock.body_state]}; "
            f"fix: noxgrid lock {cell.id} (it is made again from its inputs), then commit it"
        )
    if not made_from_current_inputs(config, cell, lock):
        raise StageFailure(
            f"the lock {shown} is stale: {stale_detail(config, cell, lock)}; "
            f"fix: noxgrid lock {cell.id}"
        )
    installed = lock.header_bytes("installed-bytes")
    budget = config.profiles[cell.profile].size_budget
    if budget is not None and installed is None:
        state.note(
            f"the size budget ({format_size(budget)}) was NOT checked: {shown} records unknown "
            f"sizes ({lock.header.get('budget', 'locked without sizes')}); "
            f"fix: noxgrid lock {cell.id} where the index answers"
        )
    clean = _judge(state, lock, shown, installed)
    state.lock = lock
    download = lock.header_bytes("download-bytes")
    sizes = (
        f"download {format_size(download)}, installed ~{format_size(installed)}"
        if download is not None and installed is not None
        else "sizes unknown (locked with --allow-unsized)"
    )
    return f"{shown}: fresh, {len(lock.packages)} packages, {clean}, {sizes}"


def _judge(state: CellRun, lock: Lock, shown: str, installed: int | None) -> str:
    """The lock's policy findings: any not allowed on purpose fails the stage; the allowed
    ones are recorded. "policy clean", with each allowed finding and its reason."""
    config, cell = state.config, state.cell
    findings = evaluate(
        lock,
        accelerator=config.accelerators[cell.accelerator],
        policy=config.policy,
        profile=config.profiles[cell.profile],
        installed_estimate=installed,
        largest=lock.largest(),
        allowances=for_cell(config.allowances, cell),
    )
    if refusing(findings):
        raise StageFailure(
            f"the lock {shown} is refused before anything is installed: "
            + refusal_line(refusing(findings))
            + "\n"
            + "\n".join(finding.render() for finding in findings)
        )
    kept = allowed(findings)
    for finding in kept:
        state.allow(finding.summary())
    return "policy clean" + ("; " + "; ".join(f.summary() for f in kept) if kept else "")


def describe(state: CellRun) -> str:
    """What the lock stage says it does when it starts."""
    return (
        f"{relative_path(lock_path(state.config, state.cell), state.config.root)}: "
        "fresh, policy, budget"
    )


STAGE = Stage(
    name="lock",
    needs=("cell", "config"),
    adds=("lock",),
    run=stage_lock,
    describe=describe,
)
