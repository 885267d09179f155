"""Make and check per-cell locks with uv; evaluate policy and size before writing.

``lock_cells`` resolves cells in parallel (``uv pip compile`` with hashes, the
cell's python and platform, the accelerator's torch backend, indexes and
package swaps), sizes each resolution from the index, and writes the lock
only when policy and budget accept it. ``check_locks`` is offline: it
compares each lock's recorded inputs digest with the inputs as they are now.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from packaging.utils import canonicalize_name

from noxgrid.errors import IndexUnavailable, Interrupted, LockRefused, NoxgridError
from noxgrid.files import atomic_write
from noxgrid.lock.inputs import PROJECT_INPUT, check_forms, derive_inputs
from noxgrid.lock.shared import SharedResolutions, resolution_key
from noxgrid.lock.steps import (
    LockContext,
    LockOutcome,
    blocked_by_folder,
    call_uv,
    cell_interpreter,
    copy_uv_settings,
    export_pylock,
    foreign_note,
    header_fields,
    indexed_pylock,
    one_version,
    unchanged_inputs,
    uv_failed,
)
from noxgrid.model.allowances import for_cell
from noxgrid.model.config import Config
from noxgrid.model.foreign_locks import ForeignLock, preferred_pins, read_foreign_lock
from noxgrid.model.inputs import (
    dynamic_dependencies,
    inputs_digest,
)
from noxgrid.model.lockfile import (
    Lock,
    current_lock,
    legacy_lock_path,
    lock_path,
    lock_title,
    parse_lock,
    pin_changes,
    preferences,
    seal,
)
from noxgrid.model.matrix import Cell
from noxgrid.model.policy import evaluate, refusing
from noxgrid.model.pylock import render_pylock
from noxgrid.model.resolution import (
    cell_indexes,
    compile_args,
    drop_package,
)
from noxgrid.model.sizes import SizeEstimate
from noxgrid.model.uvsettings import PYPI, uv_settings
from noxgrid.tools.index import PackageIndex
from noxgrid.tools.metadata import egg_info_kept
from noxgrid.tools.orphans import owned_folder, remove_dead_folders
from noxgrid.tools.runner import Outcome, Runner, in_parallel
from noxgrid.tools.uv import Uv


def lock_cell(
    config: Config,
    cell: Cell,
    *,
    uv: Uv,
    index: PackageIndex,
    uv_version: str,
    allow_unsized: bool = False,
    upgrade: bool = False,
    refresh: bool = False,
    default_index: str | None = None,
    shared: SharedResolutions | None = None,
    foreign: ForeignLock | None = None,
) -> LockOutcome:
    """Resolve, size, check and (when clean) write one cell's lock. Without ``upgrade``
    the pins of the current lock are uv's preferences, so a relock changes only what its
    inputs require; a cell whose inputs did not change is resolved from uv's cache first
    (unless ``refresh``). Packages that cannot be sized (the index did not answer) refuse
    the lock unless ``allow_unsized``: then the lock says its sizes are unknown and its
    budget unchecked. A first lock prefers ``foreign``'s pins (poetry.lock, uv.lock)."""
    context = LockContext(
        config=config,
        cell=cell,
        uv=uv,
        index=index,
        uv_version=uv_version,
        allow_unsized=allow_unsized,
        upgrade=upgrade,
        refresh=refresh,
        default_index=default_index,
        shared=shared,
        previous=(previous := current_lock(config, cell)),
        python=cell_interpreter(config, cell),
        foreign=foreign if previous is None else None,
    )
    outcome = LockOutcome(cell=cell, path=lock_path(config, cell))
    if blocked_by_folder(config, outcome):
        return outcome
    try:
        digest, names, body = _resolve(context, outcome)
        again = lambda pins: _resolve(context, outcome, constraints=pins)[2]  # noqa: E731
        body, lock = one_version(context, outcome, body, again)
        outcome.packages = len(lock.packages)
        estimate = _size(context, outcome, lock)
        body, lock, estimate = _prefer_wheels(context, outcome, body, lock, estimate)
        foreign_note(context, outcome, lock)
        source_only = _judge(context, outcome, lock, estimate)
        exported = indexed_pylock(context, lock, estimate) or export_pylock(context, outcome, body)
    except LockRefused:
        return outcome
    text = render_pylock(
        title=lock_title(cell),
        python=cell.python,
        exported=exported,
        indexes={key: p.index for key, p in lock.packages.items() if p.index},
        via={key: p.via for key, p in lock.packages.items()},
        header=header_fields(context, digest, names, body, estimate, source_only, outcome),
    )
    _write(context, outcome, lock, text)
    return outcome


def _write(context: LockContext, outcome: LockOutcome, resolved: Lock, text: str) -> None:
    """Write ``text`` when it pins what uv resolved; an older .txt lock is migrated."""
    config, cell = context.config, context.cell
    written = parse_lock(text)
    differ = pin_changes(resolved, written)
    if differ:  # uv's export must pin exactly what it resolved
        outcome.error = (
            f"uv's pylock export of {cell.id} does not pin what uv resolved "
            f"({', '.join(differ)}); no lock was written; "
            "fix: this is a bug in noxgrid or uv, please report it"
        )
        return
    context.uv.runner.check()  # interrupted: no lock is written after it
    atomic_write(outcome.path, seal(text))
    outcome.written = True
    legacy = legacy_lock_path(config, cell)
    if legacy.is_file():
        moved = pin_changes(parse_lock(legacy.read_text(encoding="utf-8")), written)
        what = f"{len(moved)} pin(s) moved: {', '.join(moved)}" if moved else "the same pins"
        outcome.notes.append(
            f"migrated {legacy.name} (an older noxgrid's .txt lock) to PEP 751: {what}; removed it"
        )
        legacy.unlink()
        outcome.migrated = legacy


def _prefer_wheels(
    context: LockContext, outcome: LockOutcome, body: str, lock: Lock, estimate: SizeEstimate
) -> tuple[str, Lock, SizeEstimate]:
    """The resolution again, when it took versions that only an sdist has for the cell
    (and the profile does not allow building them): with uv told to take the newest
    version with a wheel. Where none has one, the first resolution stands (and the
    policy names the source build)."""
    profile = context.config.profiles[context.cell.profile]
    wanted = [p for p in estimate.source_only() if not profile.allows_source_build(p.name)]
    if not wanted:
        return body, lock, estimate
    try:
        _, _, again = _resolve(context, outcome, only_binary=[p.name for p in wanted])
    except LockRefused:
        # No version has a wheel: judged below; uv's reason, where it is the Python, said.
        fix = (outcome.error or "").partition("\n  fix: ")[2]
        outcome.error, outcome.exit_code = None, 1
        if fix:
            outcome.notes.append(f"no allowed version has a wheel for {context.cell.id}: {fix}")
        return body, lock, estimate
    relocked = parse_lock(again)
    for package in wanted:
        now = relocked.packages.get(canonicalize_name(package.name))
        outcome.notes.append(
            f"{package.name} {package.version} has no wheel for {context.cell.id}: locked "
            f"{now.version if now else 'without it'}, the newest version with one"
        )
    outcome.packages = len(relocked.packages)
    return again, relocked, _size(context, outcome, relocked)


def _uv_run(
    context: LockContext,
    outcome: LockOutcome,
    args: list[str],
    output: Path,
    *,
    cache_first: bool,
) -> Callable[[], str]:
    """The resolution as a call (run once, or shared by cells of the same inputs): uv's
    ``output``. ``cache_first``: uv's cache is asked before the index (``--offline``)."""
    preferred = output.read_text(encoding="utf-8") if output.exists() else None

    def run_uv() -> str:
        if cache_first:
            # The lock's inputs did not change: its pins are the answer unless uv's
            # cache cannot confirm them; then the index is asked, as for any cell.
            result = call_uv(context, [*args, "--offline"], output.parent)
            if result.ok:
                outcome.notes.append(
                    "inputs unchanged: resolved from uv's cache (--refresh asks the index)"
                )
                return output.read_text(encoding="utf-8")
            if preferred is not None:
                output.write_text(preferred, encoding="utf-8")

        def ask_index() -> Outcome:
            return call_uv(context, args, output.parent)

        result = ask_index() if context.shared is None else context.shared.to_index(ask_index)
        if not result.ok:
            uv_failed(context, outcome, result.output, result.tail(20))
        return output.read_text(encoding="utf-8")

    return run_uv


def _resolve(
    context: LockContext,
    outcome: LockOutcome,
    only_binary: Sequence[str] = (),
    constraints: Sequence[str] = (),
) -> tuple[str, list[str], str]:
    """uv's resolution of the cell: (inputs digest, input names, lock body);
    ``constraints``: pins uv must keep (``-c``)."""
    config, cell = context.config, context.cell
    try:
        check_forms(config, cell)
        digest, names = inputs_digest(config, cell)
        with owned_folder("lock", cell.id) as workdir:
            inputs = derive_inputs(config, cell, workdir)
            copy_uv_settings(config, workdir)
            output = workdir / "lock.txt"
            if context.previous is not None and not context.upgrade:
                output.write_text(preferences(context.previous), encoding="utf-8")
            elif context.foreign is not None and not context.upgrade:
                preferred = preferred_pins(context.foreign, cell.python, config.platform)
                output.write_text(preferred, encoding="utf-8")
            args = compile_args(config, cell, inputs, str(output), only_binary, context.python)
            if constraints:
                (workdir / "constraints.txt").write_text("\n".join(constraints), encoding="utf-8")
                args += ["-c", str(workdir / "constraints.txt")]
            cached = unchanged_inputs(context, digest)
            run_uv = _uv_run(context, outcome, args, output, cache_first=cached)
            if context.shared is None:
                raw = run_uv()
            else:
                key, backend = resolution_key(args, workdir)
                raw, reused = context.shared.resolve(key, backend, run_uv)
                if reused:
                    outcome.notes.append("resolved once with a cell of the same inputs")
            body = raw.replace(f"-r {PROJECT_INPUT}", "-r pyproject.toml")
    except LockRefused:
        raise  # the outcome already says why, with its exit code
    except NoxgridError as error:
        outcome.error = str(error)
        outcome.exit_code = error.exit_code
        raise LockRefused(outcome.error) from error
    if dynamic_dependencies(config, cell):
        body = drop_package(body, config.project_name or "", config.root.resolve())
    if config.project_name and canonicalize_name(config.project_name) in parse_lock(body).packages:
        body = drop_package(body, config.project_name)
        outcome.notes.append(
            f"{config.project_name} itself is left out of the lock (a dependency asks for it); "
            "the cell installs it from the working tree"
        )
    return digest, names, body


def _size(context: LockContext, outcome: LockOutcome, lock: Lock) -> SizeEstimate:
    """The lock's sizes from the index; unknown sizes refuse it unless allowed."""
    estimate = context.index.estimate(lock, context.cell.python, context.config.platform)
    outcome.estimate = estimate
    if estimate.complete or context.allow_unsized:
        return estimate
    why = f" ({estimate.errors[0]})" if estimate.errors else ""
    outcome.exit_code = IndexUnavailable.exit_code if estimate.unreachable else 1
    outcome.error = (
        f"{len(estimate.unknown)} of {len(lock.packages)} packages of {context.cell.id} could "
        f"not be sized{why}: {', '.join(estimate.unknown[:5])}"
        + (" ..." if len(estimate.unknown) > 5 else "")
        + "; the size budget and the disk preflight cannot be checked, so no lock was "
        "written\n  fix: make the index reachable and run noxgrid lock again, or run "
        "noxgrid lock --allow-unsized (the lock then records that its sizes are unknown)"
    )
    raise LockRefused(outcome.error or "refused")


def _judge(
    context: LockContext, outcome: LockOutcome, lock: Lock, estimate: SizeEstimate
) -> list[tuple[str, str]]:
    """Policy findings (refusing the lock, unless allowed on purpose) and notes; the
    source-only packages."""
    config, cell = context.config, context.cell
    source_only = [
        (
            f"{p.name}=={p.version}",
            context.index.for_url(lock.packages[canonicalize_name(p.name)].index).sdist_needs(
                p.file()
            ),
        )
        for p in estimate.source_only()
    ]
    profile = config.profiles[cell.profile]
    outcome.findings = evaluate(
        lock,
        accelerator=config.accelerators[cell.accelerator],
        policy=config.policy,
        profile=profile,
        installed_estimate=estimate.installed,
        largest=estimate.largest(10),
        source_only=source_only,
        indexes=cell_indexes(config, cell, context.default_index),
        previous=context.previous.largest() if context.previous is not None else None,
        allowances=for_cell(config.allowances, cell),
        pure=estimate.pure_python(),
    )
    for pin, needs in source_only:
        outcome.notes.append(f"{pin} has no wheel for {cell.id}: built from source ({needs})")
    if not estimate.complete:
        outcome.notes.append(
            f"sizes unknown for {len(estimate.unknown)} package(s) (--allow-unsized): "
            + (
                f"the size budget of profile '{profile.name}' was NOT checked"
                if profile.size_budget is not None
                else "the disk preflight cannot check them"
            )
        )
    if refusing(outcome.findings):
        raise LockRefused(outcome.error or "refused")
    return source_only


def lock_cells(
    config: Config,
    cells: Sequence[Cell],
    *,
    jobs: int = 4,
    runner: Runner | None = None,
    index: PackageIndex | None = None,
    on_done: Callable[[LockOutcome], None] | None = None,
    allow_unsized: bool = False,
    upgrade: bool = False,
    refresh: bool = False,
) -> list[LockOutcome]:
    """Lock ``cells`` in parallel; ``on_done`` hears of each as it finishes."""
    runner = runner or Runner()
    remove_dead_folders()  # the work folders of runs that were killed
    uv = Uv(runner)
    version = uv.checked_version()
    # Where uv's own settings send a project without a configured index (a mirror).
    default_index = uv_settings(config.root, os.environ).index
    index = index or PackageIndex(config.index_url or default_index or PYPI)
    shared = SharedResolutions()  # cells of the same inputs resolve once
    # The project's lock for another tool: first locks prefer what it pins.
    foreign = read_foreign_lock(config.root, config.project_name)

    def one(cell: Cell) -> LockOutcome:
        try:
            outcome = lock_cell(
                config,
                cell,
                uv=uv,
                index=index,
                uv_version=version,
                allow_unsized=allow_unsized,
                upgrade=upgrade,
                refresh=refresh,
                default_index=default_index,
                shared=shared,
                foreign=foreign,
            )
        except Exception as exc:  # a bug: this cell's lock fails, the others go on
            if runner.interrupted:  # what the interrupt broke (a pool shut down) is no bug
                raise Interrupted(f"locking {cell.id} interrupted") from exc
            outcome = LockOutcome(
                cell=cell,
                path=lock_path(config, cell),
                error=f"noxgrid crashed locking {cell.id}: {type(exc).__name__}: {exc}; "
                "fix: this is a bug in noxgrid, please report it (rerun with --debug)",
            )
        if on_done is not None:
            on_done(outcome)
        return outcome

    # Interrupted, the resolutions under way stop; no lock is half-written (atomic writes).
    # uv builds a setuptools project's metadata in its source tree (``*.egg-info``), which
    # a project may track: the tree's egg-info is left as it was, around every cell at once.
    with egg_info_kept(config.root):
        return in_parallel(runner, one, cells, jobs=jobs, name="lock")
