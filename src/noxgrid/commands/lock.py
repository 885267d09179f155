"""``noxgrid lock``: write (or --check) each cell's lock."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from noxgrid.commands.common import Subparsers, add_project, load_project
from noxgrid.errors import (
    CellFailed,
    ConfigError,
    IndexUnavailable,
    LockOutdated,
    NoxgridError,
)

if TYPE_CHECKING:
    from noxgrid.lock.steps import LockOutcome
    from noxgrid.model.config import Config
    from noxgrid.model.freshness import LockState, Orphan
    from noxgrid.model.matrix import Cell
    from noxgrid.model.policy import Finding
    from noxgrid.model.sizes import SizeEstimate


def register_lock(commands: Subparsers) -> None:
    """``noxgrid lock``: its parser and its handler."""
    lock = commands.add_parser(
        "lock",
        help="write (or --check) the hash-pinned lock of each cell",
        description="Resolve each selected cell with uv pip compile (its python, the "
        "platform, hashes, the accelerator's torch backend, indexes and package swaps), "
        "size the result from the index, check it against policy and the profile's size "
        "budget, and write <locks>/pylock.py<cell>.toml (PEP 751) only when it passes; an "
        "older noxgrid's <locks>/<cell>.txt is migrated (its pins preferred) and removed. "
        "With --check, offline: "
        "list missing and stale locks (naming the inputs that changed), fresh ones the "
        "policy refuses (with its fix), and locks whose cell "
        "left the matrix, and print the command that refreshes exactly those; --prune "
        "removes the locks whose cell left the matrix.",
    )
    add_project(lock)
    lock.add_argument("patterns", nargs="*", metavar="PATTERN", help="cells to lock")
    lock.add_argument(
        "--check",
        action="store_true",
        help="only check freshness and policy (offline, fast); exit 1 if any is stale or refused",
    )
    lock.add_argument(
        "--prune",
        action="store_true",
        help="remove the locks whose cell is no longer in the matrix (a python value dropped "
        "from the axis, a profile removed, a cell excluded), and lock nothing",
    )
    lock.add_argument(
        "-j", "--jobs", type=int, default=4, metavar="N", help="cells resolved at once (default 4)"
    )
    lock.add_argument(
        "--allow-unsized",
        action="store_true",
        help="write the lock even when some packages cannot be sized (the index did not "
        "answer): the lock then says its sizes are unknown and its size budget unchecked",
    )
    lock.add_argument(
        "--upgrade",
        action="store_true",
        help="resolve afresh; by default the current lock's pins are kept where the inputs allow",
    )
    lock.add_argument(
        "--refresh",
        action="store_true",
        help="ask the index even for a cell whose inputs did not change (by default such a "
        "cell is resolved from uv's cache, which keeps its pins): a pinned release yanked "
        "since, or new files of a pinned version, are then seen",
    )
    lock.set_defaults(handler=cmd_lock)


def cmd_lock(args: argparse.Namespace) -> int:
    """``noxgrid lock``."""
    from noxgrid.model.config import relative_path
    from noxgrid.model.freshness import check_locks, orphaned_locks
    from noxgrid.render.table import text_table

    config, matrix = load_project(args)
    selected = list(matrix.select(args.patterns))
    if args.prune:
        return _prune(config)
    if args.check:
        states = check_locks(config, selected)
        refused = _refused(config, states)
        states = [replace(s, state="refused") if s.cell.id in refused else s for s in states]
        orphans = orphaned_locks(config)
        rows = [[s.cell.id, s.state, relative_path(s.path, config.root)] for s in states]
        rows += [[o.cell, "orphaned", relative_path(o.path, config.root)] for o in orphans]
        print(text_table(["cell", "lock", "file"], rows))
        bad = [s for s in states if s.state != "fresh"]
        if bad:
            _print_orphans(config, orphans)
            raise _not_fresh(config, states, bad, args.patterns, refused)
        if orphans:
            raise _orphaned(config, orphans)
        print(f"\nall {len(states)} locks are fresh")
        return 0
    from noxgrid.lock.resolve import lock_cells  # only to lock: --check stays offline and light

    _verify_overrides(config, selected)
    start = time.perf_counter()
    print(f"locking {len(selected)} cell(s), {args.jobs} at a time...", flush=True)
    written: set[str] = set()
    try:
        outcomes = lock_cells(
            config,
            selected,
            jobs=args.jobs,
            on_done=_Announcer(written),
            allow_unsized=args.allow_unsized,
            upgrade=args.upgrade,
            refresh=args.refresh,
        )
    except KeyboardInterrupt:
        _print_unlocked(selected, written)
        raise
    failed = [o for o in outcomes if not o.written]
    print(
        f"\n{len(outcomes) - len(failed)} written, {len(failed)} refused or failed "
        f"in {time.perf_counter() - start:.1f}s"
    )
    if failed:
        raise lock_failure(failed)
    return 0


_SHOWN = 10


class _Announcer:
    """Prints each outcome as its worker thread finishes it: whole, in one write, under
    a lock, so that lines of cells finishing at once never run together."""

    def __init__(self, written: set[str]) -> None:
        self.written = written  # the cells whose lock was written
        self.lock = threading.Lock()

    def __call__(self, outcome: LockOutcome) -> None:
        text = describe(outcome) + "\n"
        with self.lock:
            if outcome.written:
                self.written.add(outcome.cell.id)
            sys.stdout.write(text)
            sys.stdout.flush()


def _print_unlocked(cells: Sequence[Cell], written: set[str]) -> None:
    """After an interrupt: the cells left unlocked, in one line (their locks as they were)."""
    left = [cell for cell in cells if cell.id not in written]
    if left:
        from noxgrid.model.freshness import refresh_command

        sys.stdout.write(
            f"no lock written for {len(left)} of {len(cells)} cell(s): "
            f"{', '.join(cell.id for cell in left)} (their locks are as they were); "
            f"to finish: {refresh_command(left)}\n"
        )
        sys.stdout.flush()


def _verify_overrides(config: Config, cells: Sequence[Cell]) -> None:
    """Exit 3 before uv runs when an interpreter override of the cells is not the version
    it is declared for (an override that is no file: uv looks for one itself, as before)."""
    from noxgrid.errors import InterpreterNotFound
    from noxgrid.tools.interpreters import find_interpreter, verify_override

    for python in sorted({cell.python for cell in cells}):
        try:
            found = find_interpreter(python, overrides=config.interpreters)
        except InterpreterNotFound:
            continue
        verify_override(found)


def _prune(config: Config) -> int:
    """``noxgrid lock --prune``: remove the locks whose cell left the matrix."""
    from noxgrid.model.config import relative_path
    from noxgrid.model.freshness import orphaned_locks

    orphans = orphaned_locks(config)
    for orphan in orphans:
        orphan.path.unlink()
        print(f"removed {relative_path(orphan.path, config.root)}: {orphan.reason}")
    print(f"{len(orphans)} lock(s) removed" if orphans else "no lock outside the matrix")
    return 0


def _print_orphans(config: Config, orphans: Sequence[Orphan]) -> None:
    from noxgrid.model.config import relative_path

    for orphan in orphans:
        print(
            f"{relative_path(orphan.path, config.root)}: the lock of {orphan.cell}, a cell no "
            f"longer in the matrix ({orphan.reason}); fix: {orphan.fix(config.root)}"
        )


def _orphaned(config: Config, orphans: Sequence[Orphan]) -> NoxgridError:
    """The error for locks whose cell left the matrix: each named, its removal the fix."""
    _print_orphans(config, orphans)
    cells = ", ".join(f"{o.cell} ({o.reason})" for o in orphans)
    return LockOutdated(
        f"{len(orphans)} lock(s) belong to no cell of the matrix: {cells}",
        fix="noxgrid lock --prune (removes exactly those files; commit the removal)",
    )


def _refused(config: Config, states: Sequence[LockState]) -> dict[str, list[Finding]]:
    """The policy findings (none allowed on purpose) of each fresh lock the policy refuses,
    by cell: what ``noxgrid check`` finds in it, from the parsed lock alone (offline)."""
    from noxgrid.model.freshness import policy_findings
    from noxgrid.model.policy import refusing

    found = {}
    for state in states:
        if state.state == "fresh":
            findings = refusing(policy_findings(config, state))
            if findings:
                found[state.cell.id] = findings
    return found


def _not_fresh(
    config: Config,
    states: Sequence[LockState],
    bad: Sequence[LockState],
    patterns: Sequence[str],
    refused: Mapping[str, Sequence[Finding]],
) -> NoxgridError:
    """The error for locks that are not fresh or that the policy refuses; on a large
    matrix, counted and sampled rather than listed whole (the fix is then one command for
    the selection). A refused lock's fix is the policy's (locking again refuses again)."""
    from noxgrid.model.config import relative_path

    detailed = [state for state in bad if state.detail or state.state == "refused"]
    for state in detailed[:_SHOWN]:
        where = f"{relative_path(state.path, config.root)}: {state.state}"
        for finding in refused.get(state.cell.id, ()):
            print(f"{where} by policy: {finding.render()}")
        if state.detail:
            folder = state.path.is_dir()
            print(
                f"{where}: {state.detail}" + (f"; fix: {state.fix(config.root)}" if folder else "")
            )
    if len(detailed) > _SHOWN:
        print(f"... and {len(detailed) - _SHOWN} more (the table above lists every lock)")
    counts = Counter(s.state for s in bad)
    kinds = ", ".join(f"{count} {state}" for state, count in sorted(counts.items()))
    cells = ", ".join(f"{s.cell.id} ({s.state})" for s in bad[:_SHOWN])
    more = f" and {len(bad) - _SHOWN} more" if len(bad) > _SHOWN else ""
    return LockOutdated(
        f"{len(bad)} of {len(states)} locks are not fresh or refused ({kinds}): {cells}{more}"
        if refused
        else f"{len(bad)} of {len(states)} locks are not fresh ({kinds}): {cells}{more}",
        fix=_fix(config, bad, patterns, refused),
    )


def _fix(
    config: Config,
    bad: Sequence[LockState],
    patterns: Sequence[str],
    refused: Mapping[str, Sequence[Finding]],
) -> str:
    """Remove the folders in locks' places, lock again the locks that are not fresh, and
    apply the policy's fix to those it refuses."""
    from noxgrid.model.config import relative_path
    from noxgrid.model.freshness import refresh_command

    stale = [s for s in bad if s.state != "refused"]
    folders = [relative_path(s.path, config.root) for s in stale if s.path.is_dir()]
    fixes = []
    if stale:
        fix = (
            refresh_command([s.cell for s in stale])
            if len(bad) <= 2 * _SHOWN
            else " ".join(["noxgrid lock", *patterns])
        )
        fixes.append(fix + " (an edited lock is made again from its inputs; commit the result)")
        if folders:
            fixes[0] = f"rm -r {' '.join(folders)}, then {fixes[0]}"
    policy = list(dict.fromkeys(f.fix for findings in refused.values() for f in findings))
    if len(policy) == 1:
        fixes.append(policy[0])
    elif policy:
        fixes.append("apply the policy's fix printed above for each refused lock")
    return "; ".join(fixes)


def lock_failure(failed: Sequence[LockOutcome]) -> NoxgridError:
    """The error for locks not written, with the exit code of the worst cause (5: the index
    could not be reached) and a fix that points above only where fixes were printed."""
    from noxgrid.model.freshness import refresh_command

    printed_fixes = any(f.allowance is None for o in failed for f in o.findings) or any(
        "fix:" in (o.error or "") for o in failed
    )
    retry = refresh_command([o.cell for o in failed])
    cells = "no lock written for: " + ", ".join(o.cell.id for o in failed)
    if any(o.exit_code == IndexUnavailable.exit_code for o in failed):
        return IndexUnavailable(
            cells, fix=("apply each fix above, then run: " if printed_fixes else "run: ") + retry
        )
    if all(o.exit_code == ConfigError.exit_code for o in failed):
        return ConfigError(cells, fix="apply each fix above, then run: " + retry)
    return CellFailed(
        cells,
        fix=("apply each fix above, then run: " + retry)
        if printed_fixes
        else f"read uv's message above, then run: {retry}",
    )


def _sizes(estimate: SizeEstimate | None) -> str:
    from noxgrid.model.results import format_size

    if estimate is None:
        return ""
    if not estimate.complete:
        return f", sizes unknown for {len(estimate.unknown)} package(s)"
    return (
        f", download {format_size(estimate.download)}, installed ~{format_size(estimate.installed)}"
    )


def describe(outcome: LockOutcome) -> str:
    """One line (plus findings and notes) about a cell's lock."""
    notes = "".join(f"\n  note: {note}" for note in outcome.notes)
    if outcome.error:
        return f"{outcome.cell.id}: FAILED\n{outcome.error}"
    sizes = _sizes(outcome.estimate)
    body = "".join(f"\n{finding.render()}" for finding in outcome.findings)
    if any(finding.allowance is None for finding in outcome.findings):
        return (
            f"{outcome.cell.id}: REFUSED ({outcome.packages} packages{sizes}); "
            f"lock not written{body}{notes}"
        )
    return (
        f"{outcome.cell.id}: wrote {outcome.path.name} ({outcome.packages} packages{sizes})"
        f"{body}{notes}"
    )
