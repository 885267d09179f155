"""The install stage: prove the venv equal to the lock, sync only what differs, then the
project from the working tree, proven to be what importing it loads.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from packaging.utils import canonicalize_name

from noxgrid.cell.fileproof import (
    FileProof,
    prove_files,
    refresh_stats,
    tamper_failure,
    write_manifest,
)
from noxgrid.cell.local import install_local, local_digests
from noxgrid.cell.project import (
    editable_name,
    project_build_inputs,
    prove_project,
    record_build,
    stale_build,
)
from noxgrid.cell.state import (
    INSTALL_STAMP,
    PROJECT_METADATA,
    CellRun,
    Stage,
    requirements_shown,
)
from noxgrid.cell.venv import venv_stamp
from noxgrid.errors import IndexUnavailable, StageFailure
from noxgrid.model.allowances import for_cell, kept_in
from noxgrid.model.bytecode import PYCACHE
from noxgrid.model.config import relative_path
from noxgrid.model.diagnose import install_failure
from noxgrid.model.flatlayout import existing_places
from noxgrid.model.freshness import read_lock
from noxgrid.model.installed import (
    Installed,
    Proof,
    find_local,
    prove,
    read_installed,
    read_manifest,
)
from noxgrid.model.lockfile import Lock, lock_path
from noxgrid.model.resolution import network_failure
from noxgrid.model.results import format_size
from noxgrid.model.screen import sync_reason
from noxgrid.tools.metadata import egg_info_kept
from noxgrid.tools.runner import Outcome


def install_stamp(state: CellRun) -> str:
    """A hash of everything the install depends on."""
    profile = state.config.profiles[state.cell.profile]
    digest = hashlib.sha256()
    digest.update(json.dumps(venv_stamp(state), sort_keys=True).encode())
    digest.update(json.dumps([profile.install_project, list(profile.extras)]).encode())
    digest.update(lock_path(state.config, state.cell).read_bytes())
    if profile.local_packages:  # a new source of one: the import smoke runs again
        digest.update(json.dumps(local_digests(state), sort_keys=True).encode())
    if profile.install_project:
        built = project_build_inputs(state)  # its compiled code's sources (none: pure Python)
        if built:  # a new build of them, a new import smoke
            digest.update(json.dumps(built, sort_keys=True).encode())
        for name in PROJECT_METADATA:
            path = state.config.root / name
            if path.is_file():
                digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def preflight(state: CellRun, *, installed: int | None, download: int | None) -> str:
    """Refuse an install the disks cannot hold, before it starts.

    The venv needs the installed size, uv's cache the download (uv keeps the
    unpacked wheels there too, so count the installed size again), with a
    10% margin; where both live on one file system, the needs add up. A lock
    whose sizes are unknown cannot be checked, and the detail says so.
    """
    if installed is None or download is None:
        return "sizes unknown (the lock records them so): free space not checked"
    needs = [
        (state.config.venvs_dir, installed, "the venvs"),
        (
            state.get_uv().cache_dir(state.env, state.config.root),
            download + installed,
            "uv's cache",
        ),
    ]
    by_device: dict[int, tuple[Path, int, list[str]]] = {}
    for path, need, what in needs:
        existing = path
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        device = existing.stat().st_dev
        folder, total, whats = by_device.get(device, (existing, 0, []))
        by_device[device] = (folder, total + need, [*whats, f"{what} ({path})"])
    report = []
    for folder, total, whats in by_device.values():
        wanted = int(total * 1.1)
        free = shutil.disk_usage(folder).free
        if free < wanted:
            raise StageFailure(
                f"not enough free space for {state.cell.id}: about {format_size(wanted)} is "
                f"needed on the file system of {' and '.join(whats)}, which has "
                f"{format_size(free)} free; fix: free space there, or move them: "
                'UV_CACHE_DIR=..., venvs = "..." in [tool.noxgrid]'
            )
        report.append(f"{format_size(free)} free for {format_size(wanted)}")
    return "; ".join(report)


def _install_failure(state: CellRun, outcome: Outcome) -> StageFailure:
    """The install's failure; with exit status 5 where uv could not reach the index."""
    failure = StageFailure(
        install_failure(
            outcome.output,
            outcome.returncode,
            cell=state.cell.id,
            requirements=requirements_shown(state),
            dockerfile=state.config.docker.dockerfile,
            places=existing_places(state.config.root),
        )
    )
    if network_failure(outcome.output):
        failure.exit_code = IndexUnavailable.exit_code
    return failure


def _only_binary(lock: Lock) -> list[str]:
    """``--only-binary`` for every package the lock does not record as built from source."""
    allowed = {canonicalize_name(pin.split("==")[0]) for pin in lock.source_builds()}
    if not allowed:
        return [":all:"]
    return sorted(p.name for key, p in lock.packages.items() if key not in allowed)


def stage_install(state: CellRun) -> str:
    """Prove the venv equal to the lock (names, versions, the hashes uv verified, every
    file of every RECORD); sync only what differs; then the project from the working tree."""
    config, cell = state.config, state.cell
    profile = config.profiles[cell.profile]
    lock_file = lock_path(config, cell)
    lock = state.lock or read_lock(lock_file)
    stamp_path = state.venv / INSTALL_STAMP
    stamp = install_stamp(state)
    installs = profile.install_project
    installed = read_installed(state.venv)  # read once; again only after uv changed the venv
    present = editable_name(installed, config.root) if installs else None
    local = find_local(installed, config.root, profile.local_packages)
    own = [n for n in (config.project_name, present) if n] + [d.name for d in local.values()]
    keep = [name for name, _ in kept_in(for_cell(config.allowances, cell), lock.packages)]
    proof, files = _prove_venv(state, lock, installed, own=own, keep=keep)
    rebuild = stale_build(state) if present is not None else ""
    project_ok = (
        stamp_path.is_file()
        and stamp_path.read_text(encoding="utf-8").strip() == stamp
        and (not installs or present is not None)
        and not rebuild
    )
    stamp_path.unlink(missing_ok=True)
    space = ""
    with state.log("install") as sink:
        if not proof.equal:
            space, files = _sync(state, lock, proof, sink, empty=not installed, keep=keep)
            project_ok = False  # sync removes what the lock does not list: the project too
        if installs and not project_ok:
            _install_project(state, sink, again=present if rebuild else None)
            record_build(state)
            stamp = install_stamp(state)  # a build may write sources (Cython's .c)
        if not (proof.equal and project_ok):
            installed = read_installed(state.venv)
        name = editable_name(installed, config.root) if installs else None
        if installs and name is None:
            raise StageFailure(
                f"the project at {config.root} did not install editable (no distribution in "
                "the venv points at the working tree); fix: check its build backend"
            )
        where = prove_project(state, sink, name, installed, stamp=stamp) if name is not None else ""
        where += install_local(state, sink, lock, installed)
    stamp_path.write_text(stamp + "\n", encoding="utf-8")
    state.install_stamp = stamp
    project = " + the project (editable, no deps)" if installs else ""
    if rebuild:
        project = f" + the project rebuilt (editable, no deps): {rebuild}"
    shown = relative_path(lock_file, config.root)
    if proof.equal:
        return (
            f"proved equal to {shown}: {len(lock.packages)} packages, versions, hashes and "
            f"files ({files.detail()}){project}{where}"
        )
    again = f", {len(proof.changed)} installed again" if proof.changed else ""
    return (
        f"synced {shown} (hashes checked{again}; files: {files.detail()}){project}{where}; "
        f"disk: {space}"
    )


def _prove_venv(
    state: CellRun,
    lock: Lock,
    installed: Mapping[str, Installed],
    *,
    own: list[str],
    keep: list[str],
) -> tuple[Proof, FileProof]:
    """The venv against the lock: names, versions, the hashes uv verified, each RECORD,
    and the content of every file whose stats moved since it was last hashed (a file
    that differs from its RECORD is installed again)."""
    manifest = read_manifest(state.venv)
    proof = prove(lock, installed, manifest, ignore=own, keep=keep)
    files = prove_files(installed, lock, manifest, keep=keep, skip=proof.changed)
    if files.tampered:
        bad = tuple(canonicalize_name(item.name) for item in files.tampered)
        reasons = tuple(item.message(after_sync=False) for item in files.tampered)
        proof = dataclasses.replace(
            proof, changed=proof.changed + bad, reasons=proof.reasons + reasons
        )
    elif files.hashed and proof.equal:
        refresh_stats(state.venv, files.stats)  # proved again: not hashed next time
    return proof, files


def _sync(
    state: CellRun,
    lock: Lock,
    proof: Proof,
    sink: Callable[[str], None],
    *,
    empty: bool,
    keep: list[str],
) -> tuple[str, FileProof]:
    """Make the venv the lock (what differs installed again), then prove every file uv
    changed against its RECORD; the disk preflight's words and the proof. StageFailure
    naming the distribution and the file where uv installed an altered copy."""
    sink(sync_reason(len(lock.packages), proof.summary(), empty=empty) + "\n")
    space = preflight(
        state,
        installed=lock.header_bytes("installed-bytes"),
        download=lock.header_bytes("download-bytes"),
    )
    outcome = state.get_uv().sync(
        state.venv_python,
        lock_path(state.config, state.cell),
        cwd=state.config.root,
        sink=sink,
        reinstall=proof.changed,
        only_binary=_only_binary(lock),
    )
    if not outcome.ok:
        raise _install_failure(state, outcome)
    # uv changed the venv: bytecode of the files it replaced goes too (a new file of the
    # same size and time would otherwise be read from an old .pyc)
    shutil.rmtree(state.venv / PYCACHE, ignore_errors=True)
    _install_kept_last(state, lock, sink)
    installed = read_installed(state.venv)
    files = prove_files(installed, lock, read_manifest(state.venv), keep=keep)
    write_manifest(state.venv, lock, files.stats)  # an altered one is installed again next run
    if files.tampered:
        raise StageFailure(tamper_failure(files))
    sink(f"files proved against their RECORD: {files.detail()}\n")  # only once it passed
    return space, files


def _install_kept_last(state: CellRun, lock: Lock, sink: Callable[[str], None]) -> None:
    """Each exclusive allowance's ``keep`` installed again after the sync, from its locked
    line (hashes required): uv installs in parallel, so which of the distributions that
    write the same files wins varies; installed last, keep's copy is on disk every time."""
    allowances = for_cell(state.config.allowances, state.cell)
    for keep, others in kept_in(allowances, lock.packages):
        package = lock.packages[keep]
        head = (
            f"{package.name} @ {package.url}"
            if package.url
            else f"{package.name}=={package.version}"
        )
        line = " ".join([head, *(f"--hash={h}" for h in package.hashes)])
        requirements = state.venv / f"noxgrid-keep-{keep}.txt"
        requirements.write_text(line + "\n", encoding="utf-8")
        sink(f"{package.name} installed last, over {', '.join(others)} (exclusive allowance)\n")
        outcome = state.get_uv().reinstall_last(
            state.venv_python, requirements, package.name, cwd=state.config.root, sink=sink
        )
        requirements.unlink(missing_ok=True)
        if not outcome.ok:
            raise _install_failure(state, outcome)


def _install_project(state: CellRun, sink: Callable[[str], None], *, again: str | None) -> None:
    """The project itself, editable from the working tree, without dependencies (``again``:
    its name, where its compiled code must be built again)."""
    profile = state.config.profiles[state.cell.profile]
    extras = f"[{','.join(profile.extras)}]" if profile.extras else ""
    # setuptools builds the editable wheel's metadata in the tree (*.egg-info), which a
    # project may track; the venv needs none of it once installed.
    with egg_info_kept(state.config.root):
        outcome = state.get_uv().install(
            state.venv_python,
            requirements=[],
            editable=f"{state.config.root}{extras}",
            cwd=state.config.root,
            exact=False,
            no_deps=True,
            reinstall=[again] if again else [],
            sink=sink,
        )
    if not outcome.ok:
        raise _install_failure(state, outcome)


def describe(state: CellRun) -> str:
    """What the install stage says it does when it starts."""
    local = state.config.profiles[state.cell.profile].local_packages
    return "the lock (hashes required) and the project" + (
        f", {len(local)} local package(s) (no deps)" if local else ""
    )


STAGE = Stage(
    name="install",
    needs=("interpreter", "lock"),
    adds=("install_stamp",),
    run=stage_install,
    describe=describe,
)
