"""The parts of locking one cell that are not the resolution itself: what a lock
outcome records, what locking works with, the PEP 751 export by uv, the
``[tool.noxgrid]`` fields, and uv's failures told apart (an unreachable index is
exit 5).
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from noxgrid._version import __version__
from noxgrid.errors import IndexUnavailable, InterpreterNotFound, LockRefused, NoxgridError
from noxgrid.lock.shared import SharedResolutions
from noxgrid.model.allowances import allowed_text, for_cell, kept_in
from noxgrid.model.config import Config, relative_path
from noxgrid.model.flatlayout import existing_places, flat_layout_failure
from noxgrid.model.foreign_locks import ForeignLock, kept_pins, preferred_pins
from noxgrid.model.freshness import DIGESTS_KEY, format_input_digests
from noxgrid.model.inputs import input_digests, local_package_names
from noxgrid.model.lockfile import Lock, parse_lock
from noxgrid.model.matrix import Cell
from noxgrid.model.policy import Finding
from noxgrid.model.resolution import (
    OFFLINE_FIX,
    cell_indexes,
    export_args,
    network_failure,
    offline_failure,
)
from noxgrid.model.sizes import DistFile, SizeEstimate, platform_tags
from noxgrid.model.uvfailures import (
    git_requirement,
    host,
    python_excluded,
    python_fix,
    unreachable_url,
)
from noxgrid.tools.index import PackageIndex
from noxgrid.tools.interpreters import find_interpreter
from noxgrid.tools.orphans import owned_folder
from noxgrid.tools.runner import Command, Outcome
from noxgrid.tools.uv import Uv, uv_environment

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(kw_only=True)
class LockOutcome:
    """What locking one cell did."""

    cell: Cell
    path: Path
    written: bool = False
    migrated: Path | None = None  # the older .txt lock this one replaced
    error: str | None = None
    exit_code: int = 1
    findings: list[Finding] = field(default_factory=list)
    estimate: SizeEstimate | None = None
    packages: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class LockContext:
    """What locking one cell works with: the cell, uv, the index, the user's choices."""

    config: Config
    cell: Cell
    uv: Uv
    index: PackageIndex
    uv_version: str
    allow_unsized: bool = False
    upgrade: bool = False
    # Ask the index even where the inputs did not change (else uv's cache answers first).
    refresh: bool = False
    default_index: str | None = None
    shared: SharedResolutions | None = None
    # The cell's lock as it was before this run (its pins preferred, its sizes compared).
    previous: Lock | None = None
    # The cell's interpreter, where one is found (uv builds sdists' metadata with it).
    python: str | None = None
    # Another tool's lock in the project (poetry.lock, uv.lock, ...): its pins are
    # preferred where the cell has no lock of its own yet.
    foreign: ForeignLock | None = None


def foreign_note(context: LockContext, outcome: LockOutcome, lock: Lock) -> None:
    """Say which file's pins the first lock preferred, and which of them it moved."""
    foreign = context.foreign
    if foreign is None or context.upgrade:
        return
    preferred = preferred_pins(foreign, context.cell.python, context.config.platform)
    resolved = {key: package.version for key, package in lock.packages.items() if package.version}
    kept, moved = kept_pins(preferred, resolved)
    text = (
        f"no lock yet: preferred the pins of {foreign.file} (the versions the project "
        f"tests with): {kept} kept"
    )
    if moved:
        text += f", {len(moved)} moved: {', '.join(moved[:5])}" + (" ..." if len(moved) > 5 else "")
    outcome.notes.append(text)


def indexed_pylock(
    context: LockContext, lock: Lock, estimate: SizeEstimate
) -> dict[str, Any] | None:
    """The lock's PEP 751 packages from what sizing already read of the index: each pin's
    files that carry the lock's hashes (URL, size, hash). None when a pin's files are not
    known there (a package sized by a guess, an index that would not list it): uv then
    exports the lock instead (``export_pylock``)."""
    sized: dict[str, int] = {canonicalize_name(p.name): p.download for p in estimate.packages}
    tags = set(platform_tags(context.cell.python, context.config.platform))
    packages: list[dict[str, Any]] = []
    for key, package in lock.packages.items():
        hashes = dict(h.split(":", 1) for h in package.hashes if ":" in h)
        if package.url is not None:
            archive: dict[str, Any] = {"url": package.url, "hashes": hashes}
            if key in sized:
                archive["size"] = sized[key]
            packages.append({"name": key, "archive": archive})
            continue
        try:
            files = context.index.for_url(package.index).release_files(
                package.name, package.version
            )
        except NoxgridError:
            return None
        wanted = {h.removeprefix("sha256:") for h in package.hashes}
        chosen = [f for f in files if f.sha256 in wanted]
        if not chosen:
            return None
        entry: dict[str, Any] = {"name": key, "version": package.version}
        sdists = [f for f in chosen if not f.filename.endswith(".whl")]
        # The wheels this cell can install (as uv's own export lists them), not every
        # platform's: a lock of the cell, not of the release.
        wheels = [f for f in chosen if f.filename.endswith(".whl") and _fits(f, tags)]
        if not sdists and not wheels:
            return None  # nothing this cell can install from: let uv say what it exports
        if sdists:
            entry["sdist"] = _file(sdists[0])
        if wheels:
            entry["wheels"] = [_file(f) for f in wheels]
        packages.append(entry)
    return {"packages": packages}


def aligned_pins(context: LockContext, outcome: LockOutcome, lock: Lock) -> list[str]:
    """``name==version`` for each member of an allowed exclusive group that the
    resolution put on another version than the group's ``keep``, where that member
    publishes keep's version: resolved again under these constraints, the group is on
    one version (its copies of the shared files from one release)."""
    pins = []
    allowances = for_cell(context.config.allowances, context.cell)
    for keep, others in kept_in(allowances, lock.packages):
        version = lock.packages[keep].version
        for other in others:
            package = lock.packages[other]
            if not version or package.version == version:
                continue
            try:
                published = bool(
                    context.index.for_url(package.index).release_files(package.name, version)
                )
            except NoxgridError:
                published = False
            if published:
                pins.append(f"{package.name}=={version}")
            else:
                outcome.notes.append(
                    f"{package.name} publishes no {version} ({keep}'s version): the exclusive "
                    f"group stays on {package.version} and {version}"
                )
    return pins


_CONSTRAINT_VIA = re.compile(r"^\s*#\s*(?:via\s+)?-c \S*constraints\.txt\s*\n", re.MULTILINE)


def one_version(
    context: LockContext, outcome: LockOutcome, body: str, resolve: Callable[[list[str]], str]
) -> tuple[str, Lock]:
    """The resolution ``body`` again (``resolve``) under the pins of ``aligned_pins``: each
    allowed exclusive group on its keep's version; where uv cannot, ``body`` stands."""
    lock = parse_lock(body)
    pins = aligned_pins(context, outcome, lock)
    if not pins:
        return body, lock
    try:
        # The constraints file is noxgrid's, not an input: no package was asked for by it.
        again = _CONSTRAINT_VIA.sub("", resolve(pins))
    except LockRefused:
        outcome.error, outcome.exit_code = None, 1
        outcome.notes.append(f"could not resolve with {', '.join(pins)}: versions left apart")
        return body, lock
    outcome.notes.append(f"{', '.join(pins)}: the exclusive group on its keep's version")
    return again, parse_lock(again)


def _fits(found: DistFile, tags: set[Tag]) -> bool:
    try:
        return bool(parse_wheel_filename(found.filename)[3] & tags)
    except InvalidWheelFilename:
        return False


def _file(found: DistFile) -> dict[str, Any]:
    return {"url": found.url, "size": found.size, "hashes": {"sha256": found.sha256}}


def copy_uv_settings(config: Config, workdir: Path) -> None:
    """The project's uv settings into a work folder, where uv, run there, reads them."""
    for name in ("uv.toml", "pyproject.toml"):
        if (config.root / name).is_file():
            shutil.copyfile(config.root / name, workdir / name)


def call_uv(context: LockContext, args: Sequence[str], cwd: Path) -> Outcome:
    """One uv command of locking, run in its work folder."""
    return context.uv.runner.run(
        Command(argv=(context.uv.binary, *args), cwd=cwd, env=uv_environment(), timeout=900)
    )


def export_pylock(context: LockContext, outcome: LockOutcome, body: str) -> dict[str, Any]:
    """uv's PEP 751 export of the resolution ``body``: each pin's files, sizes and hashes."""
    config, cell = context.config, context.cell
    with owned_folder("export", cell.id) as workdir:
        (workdir / "pinned.txt").write_text(body, encoding="utf-8")
        copy_uv_settings(config, workdir)  # the same uv settings as the resolution
        args = export_args(config, cell, "pinned.txt", "pylock.toml", context.python)
        result = call_uv(context, args, workdir)
        if not result.ok:
            uv_failed(context, outcome, result.output, result.tail(20))
        try:
            return tomllib.loads((workdir / "pylock.toml").read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            outcome.error = f"uv's pylock export of {cell.id} could not be read: {error}"
            raise LockRefused(outcome.error) from error


def uv_failed(context: LockContext, outcome: LockOutcome, output: str, tail: str) -> None:
    """Record why uv failed (the index it could not reach, exit 5; a Python no version of a
    package allows, with noxgrid's fix; else uv's words) and refuse the lock."""
    config, cell = context.config, context.cell
    if network_failure(output):
        outcome.exit_code = IndexUnavailable.exit_code
        url = unreachable_url(output)
        where = (
            f"{host(url)} ({url})" if url else cell_indexes(config, cell, context.default_index)[0]
        )
        backend = config.accelerators[cell.accelerator].torch_backend
        why = (
            f' (torch-backend = "{backend}" takes torch from PyTorch\'s index there)'
            if url and backend and host(url) == "download.pytorch.org"
            else ""
        )
        git = git_requirement(output)
        fix = (
            f"or pin a released version instead of `{git}` (a git requirement is fetched "
            "with git, from that host)"
            if git
            else "or the index-url / torch-backend that sends uv there"
        )
        outcome.error = (
            f"uv could not reach {where} for {cell.id}{why}; uv said:\n{tail}\n"
            f"  fix: check the network (or proxy) for {host(url) if url else 'the index'}, "
            f"{fix}, then run noxgrid lock again"
        )
        if offline_failure(output):
            outcome.error = (
                f"uv could not reach {where} for {cell.id}:\n{tail}\n  fix: {OFFLINE_FIX}"
            )
    else:
        excluded = python_excluded(output)
        flat = flat_layout_failure(output, config.docker.dockerfile, existing_places(config.root))
        fix = (
            f"\n  fix: {python_fix(excluded, cell.python, config.project_name)}"
            if excluded
            else (f"\n  {flat}" if flat else "")
        )
        outcome.error = f"uv could not resolve {cell.id}:\n{tail}{fix}"
    raise LockRefused(outcome.error or "refused")


def header_fields(
    context: LockContext,
    digest: str,
    names: list[str],
    body: str,
    estimate: SizeEstimate,
    source_only: list[tuple[str, str]],
    outcome: LockOutcome | None = None,
) -> list[tuple[str, str]]:
    """The lock's ``[tool.noxgrid]`` fields: what made it, from what, its sizes, what it
    builds from source, and (where any) what it holds allowed on purpose."""
    config, cell = context.config, context.cell
    accelerator = config.accelerators[cell.accelerator]
    budgeted = config.profiles[cell.profile].size_budget is not None
    unknown = "unknown" if not estimate.complete else None
    project = ["pyproject.toml"] if "-r pyproject.toml" in body else []
    budget = "none"
    if budgeted:
        budget = "not checked: sizes unknown (--allow-unsized)" if unknown else "checked"
    return [
        ("noxgrid", __version__),
        ("uv", context.uv_version),
        ("python", cell.python),
        ("platform", config.platform),
        (
            "accelerator",
            f"{cell.accelerator} (torch-backend: {accelerator.torch_backend or 'none'})",
        ),
        ("indexes", ", ".join(cell_indexes(config, cell, context.default_index))),
        ("inputs", ", ".join(names + project)),
        ("inputs-sha256", digest),
        (DIGESTS_KEY, format_input_digests(input_digests(config, cell))),
        ("download-bytes", unknown or str(estimate.download)),
        ("installed-bytes", unknown or str(estimate.installed)),
        ("largest", ", ".join(f"{name}={size}" for name, size in estimate.largest(10))),
        ("unsized", ", ".join(estimate.unknown) or "none"),
        ("budget", budget),
        ("source-builds", ", ".join(pin for pin, _ in source_only) or "none"),
        *(
            [("local-packages", ", ".join(local_package_names(config, cell)))]
            if config.profiles[cell.profile].local_packages
            else []
        ),
        *_allowed_fields(outcome),
    ]


def _allowed_fields(outcome: LockOutcome | None) -> list[tuple[str, str]]:
    """``allowed``: each finding allowed on purpose (rule, packages, reason); none when
    nothing is allowed, so that other locks' text does not change."""
    allowed = [f for f in (outcome.findings if outcome else ()) if f.allowance is not None]
    if not allowed:
        return []
    return [
        (
            "allowed",
            "; ".join(
                f"{f.kind} {' '.join(f.packages)}: {allowed_text(f.allowed or '')}" for f in allowed
            ),
        )
    ]


def unchanged_inputs(context: LockContext, digest: str) -> bool:
    """The cell's current lock was made from these very inputs and no upgrade is asked."""
    previous = context.previous
    return (
        previous is not None
        and not context.upgrade
        and not context.refresh
        and previous.header.get("inputs-sha256") == digest
        and previous.body_state == "sealed"
    )


def cell_interpreter(config: Config, cell: Cell) -> str | None:
    """The cell's interpreter for uv, or None (uv then looks for one itself)."""
    try:
        return str(find_interpreter(cell.python, overrides=config.interpreters).path)
    except InterpreterNotFound:
        return None


def blocked_by_folder(config: Config, outcome: LockOutcome) -> bool:
    """True (the outcome says why) when a folder stands where the lock is written."""
    if not outcome.path.is_dir():
        return False
    shown = relative_path(outcome.path, config.root)
    outcome.error = (
        f"{shown} is a folder, where the lock of {outcome.cell.id} is written; no lock was "
        f"written\n  fix: remove that folder (rm -r {shown}), then run noxgrid lock "
        f"{outcome.cell.id}"
    )
    return True
