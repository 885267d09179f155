"""The stages of one cell, in order, and the result they add up to.

interpreter -> lock -> venv -> install -> doctor -> image -> smoke -> suite.
The environment is proved first (the venv's libraries and imports, then the
image's), so a missing system library stops the cell before the suite runs.
A failed stage stops the cell; the stages after it are recorded as skipped,
with the reason. Every stage's output goes to its own log file in the
reports folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from packaging.utils import canonicalize_name

from noxgrid.cell.progress import Progress, SilentProgress
from noxgrid.cell.report import atomic_write, directory_size, log_path, write_cell_report
from noxgrid.errors import NoxgridError
from noxgrid.model.config import Config, relative_path
from noxgrid.model.diagnose import install_failure, suite_failure
from noxgrid.model.doctor import (
    Diagnosis,
    ImportReport,
    audit_image,
    audit_venv,
    direct_dependencies,
    import_smoke_image,
    import_smoke_venv,
    lookup_packages,
    missing_report,
    render,
)
from noxgrid.model.gpu import deselect_marker, detect_gpu, is_pytest, marker_declared
from noxgrid.model.installed import prove, read_installed, read_manifest, write_manifest
from noxgrid.model.lockfile import Lock, inputs_digest, lock_path
from noxgrid.model.matrix import Cell
from noxgrid.model.policy import evaluate
from noxgrid.model.results import CellResult, StageResult, Status, format_size
from noxgrid.render.annotations import failed_test_annotations
from noxgrid.render.text import clean_text
from noxgrid.resolve import STATE_DETAILS, read_lock
from noxgrid.tools.docker import (
    DOCKERIGNORE,
    Docker,
    base_image,
    build_args,
    default_dockerignore,
    git_revision,
    image_problems,
    image_tag,
    revision_label,
)
from noxgrid.tools.interpreters import Interpreter, find_interpreter, pyvenv_cfg
from noxgrid.tools.runner import Command, Outcome, Runner, in_parallel
from noxgrid.tools.uv import Uv

STAMP = "noxgrid-venv.json"
INSTALL_STAMP = "noxgrid-install.sha256"
DOCTOR_STAMP = "noxgrid-doctor.json"
PROJECT_METADATA = ("pyproject.toml", "setup.cfg", "setup.py")


class StageFailure(Exception):
    """Raised inside a stage: ends it as failed with this detail (and GitHub annotations)."""

    def __init__(self, detail: str, *, annotations: Sequence[str] = ()) -> None:
        super().__init__(detail)
        self.annotations = tuple(annotations)


class StageSkipped(Exception):
    """Raised inside a stage: ends it as skipped, with this reason."""


@dataclass
class CellRun:
    """The state one cell's stages share while they run."""

    config: Config
    cell: Cell
    runner: Runner
    progress: Progress
    env: Mapping[str, str]
    uv: Uv | None = None
    interpreter: Interpreter | None = None
    notes: list[str] = field(default_factory=list)
    logs: dict[str, Path] = field(default_factory=dict)
    lock: Lock | None = None
    docker_enabled: bool = True
    in_image: bool = False
    docker: Docker | None = None
    image_size: int | None = None
    install_stamp: str | None = None
    doctor: dict[str, object] = field(default_factory=dict)

    @property
    def venv(self) -> Path:
        """This cell's virtual environment."""
        return self.config.venvs_dir / self.cell.id

    @property
    def venv_bin(self) -> Path:
        """The venv's scripts folder."""
        return self.venv / ("Scripts" if os.name == "nt" else "bin")

    @property
    def venv_python(self) -> Path:
        """The venv's interpreter."""
        return self.venv_bin / ("python.exe" if os.name == "nt" else "python")

    def note(self, text: str) -> None:
        """Record a remark in the report and show it."""
        self.notes.append(text)
        self.progress.note(self.cell, text)

    def get_uv(self) -> Uv:
        """The uv wrapper, created on first use."""
        if self.uv is None:
            self.uv = Uv(self.runner)
        return self.uv

    @contextlib.contextmanager
    def log(self, stage: str) -> Iterator[Callable[[str], None]]:
        """A line sink writing to the stage's log file and to the progress view."""
        path = log_path(self.config.reports_dir, self.cell.id, stage)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.logs[stage] = path
        stream: IO[str]
        with path.open("w", encoding="utf-8") as stream:

            def sink(line: str) -> None:
                stream.write(line)
                self.progress.output(self.cell, line)

            yield sink


def _utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def run_cell(
    config: Config,
    cell: Cell,
    *,
    runner: Runner | None = None,
    progress: Progress | None = None,
    env: Mapping[str, str] | None = None,
    uv: Uv | None = None,
    docker: bool = True,
    in_image: bool = False,
    only: Sequence[str] | None = None,
) -> CellResult:
    """Run the stages of ``cell`` and write its report; never raises for a failed stage.

    ``docker=False`` skips the image and smoke stages (saying so in the report);
    ``only`` runs just the named stages (``noxgrid image`` runs lock, image, smoke);
    ``in_image`` also runs the suite inside the image once it is healthy.
    """
    state = CellRun(
        config=config,
        cell=cell,
        runner=runner or Runner(),
        progress=progress or SilentProgress(),
        env=os.environ if env is None else env,
        uv=uv,
        docker_enabled=docker,
        in_image=in_image,
    )
    stages: list[tuple[str, str, Callable[[CellRun], str]]] = [
        ("interpreter", f"find Python {cell.python}", _stage_interpreter),
        (
            "lock",
            f"{relative_path(lock_path(config, cell), config.root)}: fresh, policy, budget",
            _stage_lock,
        ),
        ("venv", f"virtual environment {relative_path(state.venv, config.root)}", _stage_venv),
        ("install", "the lock (hashes required) and the project", _stage_install),
        ("doctor", "ELF audit and import smoke of the venv", _stage_doctor),
        (
            "image",
            f"build target '{cell.profile}' of {config.docker.dockerfile}, check, audit",
            _stage_image,
        ),
        ("smoke", f"start the image, wait for {config.docker.health.path}", _stage_smoke),
        ("suite", " ".join(config.suite.command), _stage_suite),
    ]
    if only is not None:
        stages = [stage for stage in stages if stage[0] in only]
    with _cell_lock(config.venvs_dir / f".{cell.id}.lock", state):
        if any(name in ("doctor", "image") for name, _, _ in stages):
            # Findings from an earlier run must not pass for this one's.
            doctor_path(config, cell).unlink(missing_ok=True)
        return _run_stages(state, stages)


def run_cells(
    config: Config,
    cells: Sequence[Cell],
    *,
    jobs: int = 1,
    progress: Progress | None = None,
    runner: Runner | None = None,
    docker: bool = True,
    in_image: bool = False,
    only: Sequence[str] | None = None,
    on_done: Callable[[CellResult], None] | None = None,
) -> list[CellResult]:
    """Run ``cells``, ``jobs`` at a time; every cell ends with a result, crashed or not.

    Cells run in worker threads (one at a time with ``jobs=1``) so that the
    main thread stays free to take Ctrl-C or SIGTERM and stop every running
    command. A cell whose run raises is that cell's FAILED result (the
    traceback in its log); the others run on.
    """
    runner = runner or Runner()

    def one(cell: Cell) -> CellResult:
        try:
            result = run_cell(
                config,
                cell,
                progress=progress,
                runner=runner,
                docker=docker,
                in_image=in_image,
                only=only,
            )
        except Exception as exc:  # a bug outside any stage: the cell fails, the run goes on
            result = crashed_result(config, cell, exc)
        if on_done is not None:
            on_done(result)
        return result

    return in_parallel(runner, one, cells, jobs=jobs, name="cell")


@contextlib.contextmanager
def _cell_lock(path: Path, state: CellRun) -> Iterator[None]:
    """One run of a cell at a time on this machine: two would share one venv."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory locks here
            yield
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            state.note(f"another run of {state.cell.id} holds {path}; waiting for it")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_stages(
    state: CellRun, stages: list[tuple[str, str, Callable[[CellRun], str]]]
) -> CellResult:
    config, cell = state.config, state.cell
    started_at = _utc_now()
    start = time.perf_counter()
    state.progress.cell_start(cell)
    results: list[StageResult] = []
    failed = False
    for name, what, stage in stages:
        if failed:
            results.append(
                StageResult(
                    name=name,
                    status=Status.SKIPPED,
                    duration=0.0,
                    detail="not run: an earlier stage failed",
                )
            )
            continue
        state.progress.stage_start(cell, name, what)
        stage_start = time.perf_counter()
        annotations: tuple[str, ...] = ()
        try:
            detail = stage(state)
            status = Status.PASSED
        except StageSkipped as exc:
            detail = str(exc)
            status = Status.SKIPPED
        except (StageFailure, NoxgridError) as exc:
            detail = str(exc)
            status = Status.FAILED
            failed = True
            annotations = getattr(exc, "annotations", ())
        except OSError as exc:  # a full disk, a read-only folder: the cell fails, not noxgrid
            detail = f"{exc.__class__.__name__}: {exc}"
            status = Status.FAILED
            failed = True
        except Exception as exc:  # a bug: this cell fails, the others go on
            detail = _crash(state, name, exc)
            status = Status.FAILED
            failed = True
        detail = clean_text(detail)
        log = state.logs.get(name)
        result = StageResult(
            name=name,
            status=status,
            duration=time.perf_counter() - stage_start,
            detail=detail,
            log=str(log) if log else None,
            annotations=annotations,
        )
        results.append(result)
        state.progress.stage_end(cell, result)
    venv_size = directory_size(state.venv) if state.venv.is_dir() else None
    cell_result = CellResult(
        cell=cell,
        stages=tuple(results),
        started_at=started_at,
        duration=time.perf_counter() - start,
        interpreter=str(state.interpreter.path) if state.interpreter else None,
        venv_size=venv_size,
        size_estimate=state.lock.header_bytes("installed-bytes") if state.lock else None,
        image_size=state.image_size,
        notes=tuple(state.notes),
    )
    write_cell_report(cell_result, config.reports_dir)
    state.progress.cell_end(cell_result)
    return cell_result


def _crash(state: CellRun, stage: str, exc: BaseException) -> str:
    """Save the traceback of a crash in the stage's log; the stage's one-paragraph detail."""
    path = log_path(state.config.reports_dir, state.cell.id, stage)
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as stream:
            stream.write(f"\nnoxgrid crashed in the {stage} stage:\n{text}")
        state.logs[stage] = path
        where = f"the traceback is in {path}"
    except OSError:
        where = f"traceback:\n{text}"
    return (
        f"noxgrid crashed in the {stage} stage ({type(exc).__name__}: {exc}); {where}; "
        "fix: this is a bug in noxgrid, please report it with that traceback"
    )


def crashed_result(config: Config, cell: Cell, exc: BaseException) -> CellResult:
    """A FAILED result for a cell whose run crashed outside any stage (traceback in its log)."""
    path = log_path(config.reports_dir, cell.id, "crash")
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    with contextlib.suppress(OSError):
        atomic_write(path, text)
    stage = StageResult(
        name="run",
        status=Status.FAILED,
        duration=0.0,
        detail=clean_text(
            f"noxgrid crashed running {cell.id} ({type(exc).__name__}: {exc}); the traceback "
            f"is in {path}; fix: this is a bug in noxgrid, please report it with that traceback"
        ),
        log=str(path),
    )
    result = CellResult(cell=cell, stages=(stage,), started_at=_utc_now(), duration=0.0)
    with contextlib.suppress(OSError):
        write_cell_report(result, config.reports_dir)
    return result


def _stage_interpreter(state: CellRun) -> str:
    found = find_interpreter(state.cell.python, overrides=state.config.interpreters, env=state.env)
    state.interpreter = found
    return f"Python {found.version} at {found.path} (from {found.source})"


# Bumped when what noxgrid puts in a venv changes (2: bytecode compiled at install),
# so venvs made by an older noxgrid are made again rather than patched.
VENV_LAYOUT = "2"


def _venv_stamp(state: CellRun) -> dict[str, str]:
    assert state.interpreter is not None
    return {
        "interpreter": str(state.interpreter.path),
        "python": state.cell.python,
        "layout": VENV_LAYOUT,
    }


def _venv_version(venv: Path) -> str | None:
    settings = pyvenv_cfg(venv)
    return settings.get("version_info") or settings.get("version")


def _stage_venv(state: CellRun) -> str:
    stamp_path = state.venv / STAMP
    wanted = _venv_stamp(state)
    if state.venv_python.exists() and stamp_path.is_file():
        try:
            current = json.loads(stamp_path.read_text(encoding="utf-8"))
        except ValueError:
            current = None
        if current == wanted:
            return f"reused {state.venv} (same interpreter; install verifies its contents)"
    assert state.interpreter is not None
    with state.log("venv") as sink:
        outcome = state.get_uv().create_venv(state.venv, state.interpreter.path, sink=sink)
    if not outcome.ok:
        raise StageFailure(_failure("uv venv", outcome.returncode, outcome.output))
    version = _venv_version(state.venv)
    if version is None or not (
        version == state.cell.python or version.startswith(state.cell.python + ".")
    ):
        raise StageFailure(
            f"{state.interpreter.path} made a Python {version} venv, not {state.cell.python}; "
            f"fix: point {'NOXGRID_PYTHON_' + state.cell.python.replace('.', '_')} "
            f"at a Python {state.cell.python} interpreter"
        )
    stamp_path.write_text(json.dumps(wanted) + "\n", encoding="utf-8")
    return f"created with Python {version}"


def _stage_lock(state: CellRun) -> str:
    config, cell = state.config, state.cell
    path = lock_path(config, cell)
    shown = relative_path(path, config.root)
    if not path.is_file():
        raise StageFailure(
            f"no lock for {cell.id} ({shown} does not exist); fix: noxgrid lock {cell.id}, "
            "then commit the file"
        )
    lock = read_lock(path)
    if lock.body_state != "sealed":
        raise StageFailure(
            f"the lock {shown} is refused: {STATE_DETAILS[lock.body_state]}; "
            f"fix: noxgrid lock {cell.id} (it is made again from its inputs), then commit it"
        )
    digest, _ = inputs_digest(config, cell)
    if lock.digest != digest:
        raise StageFailure(
            f"the lock {shown} is stale: its inputs (requirement files, project dependencies, "
            f"python, platform or accelerator rules) changed since it was written; "
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
    findings = evaluate(
        lock,
        accelerator=config.accelerators[cell.accelerator],
        policy=config.policy,
        profile=config.profiles[cell.profile],
        installed_estimate=installed,
        largest=lock.largest(),
    )
    if findings:
        raise StageFailure(
            f"the lock {shown} is refused before anything is installed:\n"
            + "\n".join(finding.render() for finding in findings)
        )
    state.lock = lock
    download = lock.header_bytes("download-bytes")
    sizes = (
        f"download {format_size(download)}, installed ~{format_size(installed)}"
        if download is not None and installed is not None
        else "sizes unknown (locked with --allow-unsized)"
    )
    return f"{shown}: fresh, {len(lock.packages)} packages, policy clean, {sizes}"


def _install_stamp(state: CellRun) -> str:
    """A hash of everything the install depends on."""
    profile = state.config.profiles[state.cell.profile]
    digest = hashlib.sha256()
    digest.update(json.dumps(_venv_stamp(state), sort_keys=True).encode())
    digest.update(json.dumps([profile.install_project, list(profile.extras)]).encode())
    digest.update(lock_path(state.config, state.cell).read_bytes())
    if profile.install_project:
        for name in PROJECT_METADATA:
            path = state.config.root / name
            if path.is_file():
                digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _project_from_tree(venv: Path, name: str, root: Path) -> bool:
    """True when the project is installed editable from ``root`` (its direct_url.json)."""
    dist = read_installed(venv).get(canonicalize_name(name))
    if dist is None:
        return False
    try:
        direct = json.loads((dist.dist_info / "direct_url.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    url = str(direct.get("url", ""))
    editable = bool((direct.get("dir_info") or {}).get("editable"))
    return editable and url.removeprefix("file://").rstrip("/") == str(root.resolve())


# Run with the venv's interpreter: where each of the project's top-level modules is found.
_WHERE_SCRIPT = """
import importlib.util, json, sys
found = {}
for name in sys.argv[1:]:
    try:
        spec = importlib.util.find_spec(name)
    except Exception as exc:
        found[name] = "error: %s" % exc
        continue
    if spec is None:
        continue
    places = list(spec.submodule_search_locations or []) or [spec.origin or ""]
    found[name] = places[0]
print(json.dumps(found))
"""


def _project_modules(venv: Path, name: str, root: Path) -> list[str]:
    """The project's top-level module names: its top_level.txt, else its name and the
    packages at the root or under src/."""
    dist = read_installed(venv).get(canonicalize_name(name))
    if dist is not None and (dist.dist_info / "top_level.txt").is_file():
        listed = (dist.dist_info / "top_level.txt").read_text(encoding="utf-8").split()
        if listed:
            return listed
    candidates = [name.replace("-", "_").replace(".", "_").lower()]
    for folder in (root / "src", root):
        if folder.is_dir():
            candidates += sorted(
                child.name
                for child in folder.iterdir()
                if (child / "__init__.py").is_file() and child.name not in ("tests", "test")
            )
    return list(dict.fromkeys(candidates))


def _prove_project(state: CellRun, sink: Callable[[str], None]) -> str:
    """Prove that importing the project in the venv loads the working tree, not a copy."""
    config = state.config
    name = config.project_name
    if name is None:
        return ""
    root = config.root.resolve()
    modules = _project_modules(state.venv, name, root)
    outcome = state.runner.run(
        Command(
            argv=(str(state.venv_python), "-c", _WHERE_SCRIPT, *modules),
            cwd=state.venv,  # not the project: python -c puts the folder it runs in on sys.path
            timeout=60,
        ),
        sink=sink,
    )
    try:
        found: dict[str, str] = json.loads(outcome.output.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise StageFailure(
            f"could not ask the venv where {name} is imported from: {outcome.tail(5)}"
        ) from None
    if not found:
        return f"; {name}: no importable module found to prove ({', '.join(modules)})"
    foreign = {module: place for module, place in found.items() if not _inside(place, root)}
    if foreign:
        module, place = next(iter(foreign.items()))
        raise StageFailure(
            f"importing {module} in the venv loads {place}, not the working tree {root}: the "
            f"suite would test another copy of {name}; fix: make sure no requirement pins "
            f"{name} itself (noxgrid lock {state.cell.id} leaves it out), then rerun"
        )
    return f"; import {', '.join(sorted(found))} -> the working tree"


def _inside(place: str, root: Path) -> bool:
    try:
        return Path(place).resolve().is_relative_to(root)
    except (OSError, ValueError):
        return False


def _uv_cache_dir(env: Mapping[str, str]) -> Path:
    if env.get("UV_CACHE_DIR"):
        return Path(env["UV_CACHE_DIR"])
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "uv"


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
        (_uv_cache_dir(state.env), download + installed, "uv's cache"),
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


def _requirements_shown(state: CellRun) -> str:
    files = state.config.profiles[state.cell.profile].requirements
    return relative_path(files[-1], state.config.root) if files else "the requirement files"


def _install_failure(state: CellRun, outcome: Outcome) -> str:
    return install_failure(
        outcome.output,
        outcome.returncode,
        cell=state.cell.id,
        requirements=_requirements_shown(state),
    )


def _only_binary(lock: Lock) -> list[str]:
    """``--only-binary`` for every package the lock does not record as built from source."""
    allowed = {canonicalize_name(pin.split("==")[0]) for pin in lock.source_builds()}
    if not allowed:
        return [":all:"]
    return sorted(p.name for key, p in lock.packages.items() if key not in allowed)


def _stage_install(state: CellRun) -> str:
    """Prove the venv equal to the lock (names, versions, the hashes uv verified, every
    file of every RECORD); sync only what differs; then the project from the working tree."""
    config, cell = state.config, state.cell
    profile = config.profiles[cell.profile]
    root = config.root
    lock_file = lock_path(config, cell)
    lock = state.lock or read_lock(lock_file)
    stamp_path = state.venv / INSTALL_STAMP
    stamp = _install_stamp(state)
    extras = f"[{','.join(profile.extras)}]" if profile.extras else ""
    name = config.project_name if profile.install_project else None
    proof = prove(
        lock,
        read_installed(state.venv),
        read_manifest(state.venv),
        ignore=[name] if name else [],
    )
    project_ok = (
        stamp_path.is_file()
        and stamp_path.read_text(encoding="utf-8").strip() == stamp
        and (name is None or _project_from_tree(state.venv, name, root))
    )
    stamp_path.unlink(missing_ok=True)
    uv = state.get_uv()
    space = ""
    with state.log("install") as sink:
        if not proof.equal:
            sink(f"the venv differs from the lock: {proof.summary()}\n")
            space = preflight(
                state,
                installed=lock.header_bytes("installed-bytes"),
                download=lock.header_bytes("download-bytes"),
            )
            outcome = uv.sync(
                state.venv_python,
                lock_file,
                cwd=root,
                sink=sink,
                reinstall=proof.changed,
                only_binary=_only_binary(lock),
            )
            if not outcome.ok:
                raise StageFailure(_install_failure(state, outcome))
            write_manifest(state.venv, lock)
            project_ok = False  # sync removes what the lock does not list: the project too
        if name is not None and not project_ok:
            outcome = uv.install(
                state.venv_python,
                requirements=[],
                editable=f"{root}{extras}",
                cwd=root,
                exact=False,
                no_deps=True,
                sink=sink,
            )
            if not outcome.ok:
                raise StageFailure(_install_failure(state, outcome))
        where = _prove_project(state, sink) if name is not None else ""
    stamp_path.write_text(stamp + "\n", encoding="utf-8")
    state.install_stamp = stamp
    project = " + the project (editable, no deps)" if name is not None else ""
    shown = relative_path(lock_file, root)
    if proof.equal:
        return (
            f"proved equal to {shown}: {len(lock.packages)} packages, versions, hashes and "
            f"files{project}{where}"
        )
    again = f", {len(proof.changed)} installed again" if proof.changed else ""
    return f"synced {shown} (hashes checked{again}){project}{where}; disk: {space}"


def doctor_path(config: Config, cell: Cell) -> Path:
    """Where the doctor's findings for one cell are kept (JSON)."""
    return config.reports_dir / "doctor" / f"{cell.id}.json"


def _save_doctor(state: CellRun, key: str, diagnosis: Diagnosis, text: str) -> None:
    state.doctor[key] = {**diagnosis.as_dict(), "text": text}
    document = {"cell": state.cell.id, **state.doctor}
    atomic_write(doctor_path(state.config, state.cell), json.dumps(document, indent=2) + "\n")


def _cuda_needed(state: CellRun) -> bool:
    """CUDA libraries must be there when the cell wants a GPU and this machine has one."""
    accelerator = state.config.accelerators[state.cell.accelerator]
    return accelerator.needs_gpu and detect_gpu(state.env)[0]


def _diagnose(state: CellRun, diagnosis: Diagnosis, *, host: bool, key: str) -> str:
    """Record and judge one diagnosis: its text, or StageFailure with it."""
    problems, notes = missing_report(diagnosis, state.config, state.cell, host=host)
    if _cuda_needed(state):
        cuda = [item.soname for item in diagnosis.audit.missing if item.cuda]
        if cuda:
            problems.append(f"this machine has a GPU and the CUDA libraries are missing: {cuda}")
    text = render(diagnosis, problems, notes)
    _save_doctor(state, key, diagnosis, text)
    with state.log(f"doctor-{key}") as sink:
        sink(text + "\n")
    for note in notes:
        state.note(note)
    failures = diagnosis.imports.failures if diagnosis.imports else ()
    if problems or failures:
        raise StageFailure(text)
    imported = len(diagnosis.imports.imported) if diagnosis.imports else 0
    return (
        f"{diagnosis.audit.files} ELF files, every library found "
        f"({diagnosis.audit.seconds:.2f}s); imported {imported} "
        f"module{'' if imported == 1 else 's'}"
    )


def _packages_for(state: CellRun, diagnosis: Diagnosis, *, host: bool) -> None:
    """The Debian package of each missing library and, on this machine, of each one the
    venv takes from the system (for the note about what a slim image lacks). The host's
    dpkg is never asked about a path that belongs to an image."""
    result = diagnosis.audit
    packages = lookup_packages(state.runner, [item.soname for item in result.missing])
    if host:
        packages.update(lookup_packages(state.runner, result.from_system, result.from_system))
    diagnosis.packages = packages


def _stage_doctor(state: CellRun) -> str:
    """The venv's ELF audit (always) and import smoke (unless nothing changed since it passed).

    The import smoke is a process importing every direct dependency; where the
    install is the one it last passed on (same lock, interpreter and project
    metadata, verified by the install stage) and the audit resolved every
    library to the same files, it would see the same thing, so its last result
    stands and the detail says so. A new venv (CI) always runs it.
    """
    config, cell = state.config, state.cell
    lock = state.lock or read_lock(lock_path(config, cell))
    result = audit_venv(state.venv)
    install = state.install_stamp or _install_stamp(state)
    key = {"install": install, "system": dict(sorted(result.from_system.items()))}
    stamp = state.venv / DOCTOR_STAMP
    previous = _read_json(stamp)
    cached = previous is not None and previous.get("key") == key and not result.blocking
    if cached and previous is not None:
        imports = ImportReport(imported=tuple(previous.get("imported", ())), failures=())
    else:
        stamp.unlink(missing_ok=True)
        imports = import_smoke_venv(
            state.runner,
            state.venv_python,
            direct_dependencies(lock),
            cwd=config.root,
            timeout=min(config.suite.timeout, 600),
        )
    diagnosis = Diagnosis(
        where=f"venv {relative_path(state.venv, config.root)}", audit=result, imports=imports
    )
    _packages_for(state, diagnosis, host=True)
    detail = _diagnose(state, diagnosis, host=True, key="venv")
    if cached:
        return detail + " (as when last run: same install, same libraries)"
    atomic_write(stamp, json.dumps({"key": key, "imported": list(imports.imported)}) + "\n")
    return detail


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _doctor_image(state: CellRun, docker: Docker, tag: str, lock: Lock) -> str:
    """The ELF audit and the import smoke inside the built image."""
    timeout = min(state.config.suite.timeout, 600)
    result = audit_image(docker, tag, timeout=timeout)
    imports = import_smoke_image(docker, tag, direct_dependencies(lock), timeout=timeout)
    diagnosis = Diagnosis(where=f"image {tag}", audit=result, imports=imports)
    _packages_for(state, diagnosis, host=False)
    return _diagnose(state, diagnosis, host=False, key="image")


def suite_command(state: CellRun, *, in_image: bool = False) -> tuple[list[str], str | None]:
    """The suite argv for this cell and, when GPU tests are deselected, why.

    ``in_image``: for a run inside the cell's image (no junit file on the host,
    no pytest cache in the read-only-for-the-user /app, the image's own PATH).
    """
    suite = state.config.suite
    argv = list(suite.command)
    reason = None
    accelerator = state.config.accelerators.get(state.cell.accelerator)
    if is_pytest(argv):
        needs_gpu = accelerator.needs_gpu if accelerator else False
        present, why = detect_gpu(state.env)
        if not needs_gpu:
            reason = f"{state.cell.accelerator} cell"
        elif not present:
            reason = f"no GPU on this machine: {why}"
        if reason is not None and not marker_declared(state.config.root, suite.gpu_marker):
            reason = None  # no such marker in the project: no test can carry it
        if reason is not None:
            argv = deselect_marker(argv, suite.gpu_marker)
        if in_image:
            return [*argv, "-p", "no:cacheprovider"], reason
        # xunit1 keeps each test's file and line: the annotations need them.
        argv += [f"--junitxml={junit_path(state)}", "-o", "junit_family=xunit1"]
    if in_image:
        return argv, reason
    candidate = state.venv_bin / argv[0]
    if not Path(argv[0]).is_absolute() and candidate.exists():
        argv[0] = str(candidate)
    elif is_pytest(argv) and not Path(argv[0]).is_absolute():
        # Another pytest would import another interpreter's packages: the cell would
        # pass without its venv having been tested.
        raise StageFailure(
            f"{argv[0]} is not installed in the cell's venv (it is not in the lock), so the "
            f"suite would run outside the cell; fix: add {argv[0]} to "
            f"{_requirements_shown(state)}, then noxgrid lock {state.cell.id}"
        )
    return argv, reason


def junit_path(state: CellRun) -> Path:
    """Where pytest writes this cell's JUnit XML."""
    return state.config.reports_dir / f"{state.cell.id}.pytest.xml"


def _test_annotations(state: CellRun) -> list[str]:
    try:
        junit = junit_path(state).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return failed_test_annotations(junit, state.config.root, cell=state.cell.id)


def _stage_suite(state: CellRun) -> str:
    argv, reason = suite_command(state)
    marker = state.config.suite.gpu_marker
    if reason is not None:
        state.note(f"tests marked '{marker}' deselected (-m 'not {marker}'): {reason}")
    path = f"{state.venv_bin}{os.pathsep}{state.env.get('PATH', '')}"
    env = {
        "PATH": path,
        "VIRTUAL_ENV": str(state.venv),
        "NOXGRID_CELL": state.cell.id,
        "NOXGRID_PYTHON": state.cell.python,
        "NOXGRID_ACCELERATOR": state.cell.accelerator,
        "NOXGRID_PROFILE": state.cell.profile,
        **dict(state.config.suite.env),
    }
    command = Command(
        argv=tuple(argv), cwd=state.config.root, env=env, timeout=state.config.suite.timeout
    )
    with state.log("suite") as sink:
        outcome = state.runner.run(command, sink=sink)
    if outcome.timed_out:
        raise StageFailure(f"the suite timed out after {outcome.duration:.0f}s")
    if outcome.returncode == 5 and is_pytest(argv):
        raise StageFailure("pytest collected no tests (exit 5)")
    summary = _last_line(clean_text(outcome.output))
    if not outcome.ok:
        raise StageFailure(
            suite_failure(
                outcome.output,
                outcome.returncode,
                cell=state.cell.id,
                profile=state.cell.profile,
                requirements=_requirements_shown(state),
                project=state.config.project_name,
                project_modules=tuple(
                    _project_modules(state.venv, state.config.project_name, state.config.root)
                )
                if state.config.project_name
                else (),
            )
            + f"\n(command: {command.display()})",
            annotations=_test_annotations(state),
        )
    return summary or "passed"


def _last_line(output: str) -> str:
    lines = [line.strip().strip("=").strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _failure(what: str, returncode: int, output: str) -> str:
    tail = "\n".join(output.strip().splitlines()[-15:])
    return f"{what} exited with {returncode}" + (f"\n{tail}" if tail else "")


def _docker_for(state: CellRun) -> Docker:
    if not state.docker_enabled:
        raise StageSkipped("skipped: --no-docker")
    if state.config.docker.image is None:
        raise StageSkipped("skipped: no image declared ([tool.noxgrid.docker] image)")
    if state.docker is None:
        state.docker = Docker.find(state.runner, state.env)
    return state.docker


def _stage_image(state: CellRun) -> str:
    docker = _docker_for(state)
    config, cell = state.config, state.cell
    dockerfile = config.root / config.docker.dockerfile
    if not dockerfile.is_file():
        raise StageFailure(
            f"{dockerfile} does not exist; fix: `noxgrid dockerfile > {config.docker.dockerfile}`"
            " writes noxgrid's template, or set dockerfile in [tool.noxgrid.docker]"
        )
    ignore = config.root / ".dockerignore"
    if not ignore.exists():
        ignore.write_text(default_dockerignore(), encoding="utf-8")
        state.note(
            f"wrote {ignore.name} (there was none): it keeps out git, caches, venvs and "
            f"secrets ({len(DOCKERIGNORE)} patterns)"
        )
    lock = state.lock or read_lock(lock_path(config, cell))
    _docker_preflight(state, docker, lock)
    base = base_image(config, cell, state.env)
    tag = image_tag(config, cell)
    revision = revision_label(git_revision(config.root), _tree_dirty(state))
    args = build_args(config, cell, base=base, lock_sha256=lock.digest or "", revision=revision)
    with state.log("image") as sink:
        outcome = docker.build(
            config.root,
            dockerfile=dockerfile,
            target=cell.profile,
            tag=tag,
            args=args,
            sink=sink,
            timeout=config.suite.timeout,
            cache=state.env.get("NOXGRID_BUILD_CACHE"),
            scope=f"noxgrid-{cell.id}",
        )
    if not outcome.ok:
        raise StageFailure(_failure("docker build", outcome.returncode, outcome.output))
    inspect = docker.inspect_image(tag)
    state.image_size = int(inspect.get("Size", 0))
    problems = image_problems(
        inspect,
        cell=cell,
        budget=config.profiles[cell.profile].size_budget,
        tree=docker.app_tree(tag, str((inspect.get("Config") or {}).get("User") or "")),
        revision=revision,
    )
    if problems:
        raise StageFailure(f"the image {tag} fails its checks:\n- " + "\n- ".join(problems))
    try:
        doctor = _doctor_image(state, docker, tag, lock)
    except StageFailure as exc:
        raise StageFailure(f"the image {tag} fails the doctor's audit:\n{exc}") from None
    return (
        f"{tag} from {base}: {format_size(state.image_size)}, non-root, labelled, "
        f"built in {outcome.duration:.1f}s; {doctor}"
    )


def _tree_dirty(state: CellRun) -> bool:
    """True when the git checkout has changes, tracked or new (git says; False without git)."""
    try:
        outcome = state.runner.run(
            Command(
                argv=("git", "status", "--porcelain", "--untracked-files=normal"),
                cwd=state.config.root,
                timeout=60,
            )
        )
    except NoxgridError:
        return False  # no git here: the revision label is left as read from .git
    return outcome.ok and bool(outcome.output.strip())


def _docker_preflight(state: CellRun, docker: Docker, lock: Lock) -> None:
    """Refuse a build the engine's disk cannot hold: the venv layer plus the wheels."""
    root = Path(docker.client.root_dir) if docker.client.root_dir else None
    if root is None or not root.exists():
        return  # a remote engine, or one whose data root this process cannot see
    need = int(
        ((lock.header_bytes("installed-bytes") or 0) + (lock.header_bytes("download-bytes") or 0))
        * 1.1
    )
    free = shutil.disk_usage(root).free
    if free < need:
        raise StageFailure(
            f"not enough free space to build {state.cell.id}: about {format_size(need)} is "
            f"needed where Docker keeps images ({root}), which has {format_size(free)} free; "
            "fix: free space there (`docker system prune`), or move Docker's data-root"
        )


def _stage_smoke(state: CellRun) -> str:
    docker = _docker_for(state)
    config, cell = state.config, state.cell
    health = config.docker.health
    tag = image_tag(config, cell)
    accelerator = config.accelerators[cell.accelerator]
    extra = list(accelerator.run_args)
    present, why = detect_gpu(state.env)
    if extra and not present:
        state.note(f"started without {' '.join(extra)}: no GPU on this machine ({why})")
        extra = []
    name = f"noxgrid-{cell.id}-{os.getpid()}"
    container = docker.run_detached(
        tag,
        name=name,
        port=health.port,
        env=dict(config.docker.env),
        labels={"io.noxgrid.smoke": cell.id},
        extra=extra,
    )
    try:
        port = docker.host_port(container, health.port)
        url = f"http://127.0.0.1:{port}{health.path}"
        start = time.monotonic()
        last = "no answer yet"
        while time.monotonic() - start < health.timeout:
            status, code = docker.state(container)
            if status in ("exited", "dead"):
                raise StageFailure(
                    _smoke_failure(
                        state,
                        docker,
                        container,
                        f"the container exited with {code} after {time.monotonic() - start:.1f}s",
                    )
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        healthy = (
                            f"{url} answered 200 after {time.monotonic() - start:.1f}s "
                            f"(container {name}, removed)"
                        )
                        break
                    last = f"HTTP {response.status}"
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError) as exc:
                last = str(getattr(exc, "reason", exc))
            time.sleep(0.5)
        else:
            healthy = ""
        if healthy:
            if state.in_image:
                healthy += "; " + _suite_in_image(state, docker, tag)
            return healthy
        raise StageFailure(
            _smoke_failure(
                state,
                docker,
                container,
                f"{url} did not answer 200 within {health.timeout:.0f}s (last: {last})",
            )
        )
    finally:
        docker.remove(container)


def _suite_in_image(state: CellRun, docker: Docker, tag: str) -> str:
    """The suite command run in a fresh container of the image, from /app."""
    argv, reason = suite_command(state, in_image=True)
    if reason is not None:
        state.note(
            f"in the image too, tests marked '{state.config.suite.gpu_marker}' are "
            f"deselected: {reason}"
        )
    env = {
        **dict(state.config.docker.env),
        **dict(state.config.suite.env),
        "NOXGRID_CELL": state.cell.id,
    }
    with state.log("suite-in-image") as sink:
        outcome = docker.run_once(
            tag, argv, env=env, workdir="/app", sink=sink, timeout=state.config.suite.timeout
        )
    summary = _last_line(outcome.output)
    if not outcome.ok:
        raise StageFailure(
            f"the suite failed inside the image (exit {outcome.returncode}): {summary}"
        )
    return f"suite in the image: {summary}"


def _smoke_failure(state: CellRun, docker: Docker, container: str, what: str) -> str:
    logs = docker.logs(container)
    path = log_path(state.config.reports_dir, state.cell.id, "smoke")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(logs, encoding="utf-8")
    state.logs["smoke"] = path
    tail = "\n".join(logs.strip().splitlines()[-15:])
    return f"{what}; the container's log is in {path}:\n{tail}"
