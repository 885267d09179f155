"""The doctor stage: the venv's ELF audit and import smoke (``image_doctor`` checks the image)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from noxgrid.cell.app import SMOKE_THEN_LOAD, app_args, app_env, app_of, load_app
from noxgrid.cell.install import install_stamp
from noxgrid.cell.state import DOCTOR_STAMP, CellRun, Stage
from noxgrid.errors import StageFailure
from noxgrid.files import atomic_write, read_json
from noxgrid.model.allowances import for_cell, kept_in
from noxgrid.model.app import AppTarget
from noxgrid.model.bytecode import bytecode_env
from noxgrid.model.config import Config, relative_path
from noxgrid.model.direct import direct_dependencies, nothing_imported
from noxgrid.model.doctor import (
    IMPORT_SMOKE,
    Diagnosis,
    ImportFailure,
    ImportReport,
    audit_venv,
    missing_report,
    parse_imports,
    render,
)
from noxgrid.model.doctor_allowed import allow_doctor
from noxgrid.model.freshness import read_lock
from noxgrid.model.gpu import detect_gpu
from noxgrid.model.installed import not_kept, read_installed
from noxgrid.model.kept import not_kept_failure
from noxgrid.model.lockfile import Lock, lock_path
from noxgrid.model.matrix import Cell
from noxgrid.model.reach import classify
from noxgrid.model.sonames import debian_package
from noxgrid.tools.runner import Command, Outcome, Runner

T = TypeVar("T")
U = TypeVar("U")


def doctor_path(config: Config, cell: Cell) -> Path:
    """Where the doctor's findings for one cell are kept (JSON)."""
    return config.reports_dir / "doctor" / f"{cell.id}.json"


def _save_doctor(
    state: CellRun,
    key: str,
    diagnosis: Diagnosis,
    text: str,
    allowed: Sequence[str] = (),
    allowed_by: Sequence[str] = (),
) -> None:
    # allowed_by: where each allowance that allowed a finding is declared (for check).
    state.doctor[key] = {
        **diagnosis.as_dict(),
        "text": text,
        "allowed": list(allowed),
        "allowed_by": list(allowed_by),
    }
    document = {"cell": state.cell.id, **state.doctor}
    atomic_write(doctor_path(state.config, state.cell), json.dumps(document, indent=2) + "\n")


def _cuda_needed(state: CellRun) -> bool:
    """CUDA libraries must be there when the cell wants a GPU and this machine has one."""
    accelerator = state.config.accelerators[state.cell.accelerator]
    return accelerator.needs_gpu and detect_gpu(state.env)[0]


def diagnose(state: CellRun, diagnosis: Diagnosis, *, host: bool, key: str) -> str:
    """Record and judge one diagnosis: its text, or StageFailure with it (its first line
    the first cause and its fix). What the cell's allowances allow (missing libraries,
    failed imports) is shown, and fails nothing."""
    apt = state.config.profiles[state.cell.profile].apt
    diagnosis.audit = classify(
        diagnosis.audit,
        diagnosis.imports.loaded if diagnosis.imports else None,
        project=state.config.project_name,
        named=[soname for soname, package in diagnosis.packages.items() if package in apt],
    )
    allowances = for_cell(state.config.allowances, state.cell)
    diagnosis, allowed, used = allow_doctor(diagnosis, allowances)
    problems, notes = missing_report(diagnosis, state.config, state.cell, host=host)
    if _cuda_needed(state):
        cuda = [
            item.soname
            for item in diagnosis.audit.missing
            if item.cuda and item.reachable is not False
        ]
        if cuda:
            problems.append(f"this machine has a GPU and the CUDA libraries are missing: {cuda}")
    text = render(diagnosis, problems, notes) + "".join(f"\n{line}" for line in allowed)
    _save_doctor(state, key, diagnosis, text, allowed, [a.where for a in used])
    with state.log(f"doctor-{key}") as sink:
        sink(text + "\n")
    for note in notes:
        state.note(note)
    for line in allowed:
        state.allow(line)
    failures = diagnosis.imports.failures if diagnosis.imports else ()
    if problems or failures:
        raise StageFailure(cause_line(problems, failures) + "\n" + text)
    imported = len(diagnosis.imports.imported) if diagnosis.imports else 0
    nothing = ""
    if diagnosis.imports is not None and not imported:  # a check with nothing to check says so
        why = nothing_imported(state.lock or read_lock(lock_path(state.config, state.cell)))
        state.note(why)
        nothing = f" (nothing to import: {why.split(': ', 1)[1]})"
    unreached = [item for item in diagnosis.audit.missing if item.reachable is False]
    found = (
        f"every library found but {len(unreached)} only optional plugins need"
        if unreached
        else "every library found"
    )
    return (
        f"{diagnosis.audit.files} ELF files, {found} ({diagnosis.audit.seconds:.2f}s); "
        f"imported {imported} module{'' if imported == 1 else 's'}{nothing}"
        + "".join(f"; {line}" for line in allowed)
    )


def cause_line(problems: Sequence[str], failures: Sequence[ImportFailure]) -> str:
    """The failure in one line: the first cause and every fix (``libvips.so.42 missing
    (Debian package libvips42), needed by pyvips/_libvips.so (pyvips); fix: ...``)."""
    causes = [line for line in problems if not line.startswith("fix: ")]
    fixes = [line.removeprefix("fix: ") for line in problems if line.startswith("fix: ")]
    if causes:
        line = causes[0] + (f" (and {len(causes) - 1} more)" if len(causes) > 1 else "")
    elif failures:
        first = failures[0]
        line = f"import {first.module or first.distribution} ({first.distribution}) failed: "
        line += first.error.rstrip(": ")
        if not first.likely.startswith("nothing noxgrid can name"):
            line += f"; likely missing: {first.likely}"
        fixes = []
    else:
        line = "the doctor found a problem; the stage log has it"
    if len(failures) > (0 if causes else 1):
        line += f"; {len(failures)} import(s) failed"
    if fixes:
        line += "; fix: " + "; ".join(fixes)
    return line.rstrip(":; ")


def packages_for(state: CellRun, diagnosis: Diagnosis, *, host: bool) -> None:
    """The Debian package of each missing library and, on this machine, of each one the
    venv takes from the system (for the note about what a slim image lacks). The host's
    dpkg is never asked about a path that belongs to an image."""
    result = diagnosis.audit
    packages = lookup_packages(state.runner, [item.soname for item in result.missing])
    if host:
        packages.update(lookup_packages(state.runner, result.from_system, result.from_system))
    diagnosis.packages = packages


def stage_doctor(state: CellRun) -> str:
    """The venv's ELF audit (always) and import smoke (unless nothing changed since it passed).

    The import smoke is a process importing every direct dependency; where the
    install is the one it last passed on (same lock, interpreter and project
    metadata, verified by the install stage) and the audit resolved every
    library to the same files, it would see the same thing, so its last result
    stands and the detail says so. A new venv (CI) always runs it.
    """
    config, cell = state.config, state.cell
    lock = state.lock or read_lock(lock_path(config, cell))
    kept = prove_kept(state, lock)
    install = state.install_stamp or install_stamp(state)
    stamp = state.venv / DOCTOR_STAMP
    previous = read_json(stamp)
    target = app_of(state)
    loaded: Outcome | None = None
    imports: ImportReport | None = None
    if previous is None or previous.get("key", {}).get("install") != install:
        # A new install: the smoke runs whatever the audit finds, so both run at once.
        stamp.unlink(missing_ok=True)
        previous = None
        result, (imports, loaded) = alongside(
            lambda: audit_venv(state.venv), lambda: _smoke(state, lock, target)
        )
    else:
        result = audit_venv(state.venv)
    key = {"install": install, "system": dict(sorted(result.from_system.items()))}
    # A passing run with missing libraries stands only where it recorded what it loaded.
    cached = (
        previous is not None
        and previous.get("key") == key
        and (previous.get("loaded") is not None or not result.blocking)
    )
    if cached and previous is not None:
        imports = _last_imports(previous)
    elif imports is None:
        stamp.unlink(missing_ok=True)
        imports, loaded = _smoke(state, lock, target)
    diagnosis = Diagnosis(
        where=f"venv {relative_path(state.venv, config.root)}", audit=result, imports=imports
    )
    packages_for(state, diagnosis, host=True)
    detail = diagnose(state, diagnosis, host=True, key="venv") + kept
    if cached:
        return (
            detail + " (as when last run: same install, same libraries)" + load_app(state, target)
        )
    files = None if imports.loaded is None else list(imports.loaded)
    failed = [dataclasses.asdict(item) for item in imports.failures]  # each one allowed
    document = {
        "key": key,
        "imported": list(imports.imported),
        "loaded": files,
        "failures": failed,
    }
    atomic_write(stamp, json.dumps(document) + "\n")
    return detail + load_app(state, target, loaded)


def _last_imports(previous: Mapping[str, Any]) -> ImportReport:
    """The import smoke's result as its stamp kept it. Failures kept are those allowed on
    purpose: judged again against the allowances."""
    failures = tuple(ImportFailure(**item) for item in previous.get("failures", ()))
    return ImportReport(
        imported=tuple(previous.get("imported", ())),
        failures=failures,
        loaded=tuple(previous["loaded"]) if previous.get("loaded") is not None else None,
    )


def alongside(first: Callable[[], T], second: Callable[[], U]) -> tuple[T, U]:
    """``first()`` in a thread while ``second()`` runs here (the import smoke waits on its
    process: the audit reads files meanwhile); both results, or the first error raised."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="noxgrid-audit")
    future = pool.submit(first)
    try:
        other = second()
    except BaseException:
        # An interrupt or a failed smoke does not wait for the audit (minutes on a large
        # venv): its thread ends on its own, its result unread.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    try:
        return future.result(), other
    finally:
        pool.shutdown(wait=False)


def prove_kept(state: CellRun, lock: Lock) -> str:
    """Each exclusive allowance's shared files are its keep's (their RECORD hashes), or
    StageFailure naming the distribution whose copy is on disk."""
    found = []
    installed = read_installed(state.venv)
    for keep, others in kept_in(for_cell(state.config.allowances, state.cell), lock.packages):
        wrong = not_kept(installed, keep, others)
        if wrong:
            fix = (
                f"delete the venv ({relative_path(state.venv, state.config.root)}) and "
                f"run the cell again (the install puts {keep} last)"
            )
            raise StageFailure(not_kept_failure(keep, others, wrong, fix))
        found.append(keep)
    return "".join(f"; {keep}'s files are the ones on disk (installed last)" for keep in found)


def _smoke(
    state: CellRun, lock: Lock, target: AppTarget | None
) -> tuple[ImportReport, Outcome | None]:
    """The venv's import smoke and, in the same process, the application loaded after it
    (its outcome for ``load_app``; None when the project names no application)."""
    timeout = min(state.config.suite.timeout, 600)
    if target is None:
        return import_smoke_venv(
            state.runner,
            state.venv_python,
            direct_dependencies(lock),
            cwd=state.config.root,
            timeout=timeout,
            env=bytecode_env(state.venv, state.env),
        ), None
    outcome = state.runner.run(
        Command(
            argv=(
                str(state.venv_python),
                "-c",
                SMOKE_THEN_LOAD,
                *direct_dependencies(lock),
                "--noxgrid-app",
                *app_args(target),
            ),
            cwd=state.config.root,
            env=app_env(state),
            timeout=timeout,
        )
    )
    return parse_imports(outcome.output), outcome


def import_smoke_venv(
    runner: Runner,
    python: Path,
    distributions: Sequence[str],
    *,
    cwd: Path,
    timeout: float,
    env: Mapping[str, str],
) -> ImportReport:
    """Import the distributions' modules with the venv's interpreter (``env``: where its
    bytecode goes, ``model.bytecode``)."""
    outcome = runner.run(
        Command(
            argv=(str(python), "-c", IMPORT_SMOKE, *distributions),
            cwd=cwd,
            env=env,
            timeout=timeout,
        )
    )
    return parse_imports(outcome.output)


def lookup_packages(
    runner: Runner | None, sonames: Iterable[str], found: Mapping[str, str] | None = None
) -> dict[str, str | None]:
    """The Debian package for each soname: the table, then ``dpkg-query -S`` here."""
    result: dict[str, str | None] = {}
    dpkg = shutil.which("dpkg-query") if runner is not None else None
    for soname in sonames:
        package = debian_package(soname)
        if package is None and dpkg and runner is not None:
            pattern = (found or {}).get(soname) or f"*/{soname}"
            outcome = runner.run(Command(argv=(dpkg, "-S", pattern), timeout=30))
            if outcome.ok and ":" in outcome.output:
                first = outcome.output.strip().splitlines()[0]
                package = first.split(":", 1)[0].split(",")[0].strip() or None
        result[soname] = package
    return result


def describe(state: CellRun) -> str:
    """What the doctor stage says it does when it starts."""
    return "ELF audit and import smoke of the venv"


STAGE = Stage(
    name="doctor",
    needs=("lock", "install_stamp"),
    adds=("doctor",),
    run=stage_doctor,
    describe=describe,
)
