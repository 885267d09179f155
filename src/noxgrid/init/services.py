"""``noxgrid init`` in a repository of requirement-file services (no pyproject.toml).

A service is a folder with a ``requirements.txt`` (or a CI one such as
``requirements-ci.txt``) and neither ``pyproject.toml`` nor ``setup.py``: the
repository's root itself, or folders one or two levels below it (``backend/``,
``services/workers/``). Each gets a plan of its own (pure):

- lean profile: the CI requirement file where there is one, else
  ``requirements.txt``; plus the test requirement files beside it
  (``requirements-dev.txt``, ``requirements-test*.txt``, ``requirements*test*.txt``,
  ``requirements/dev.txt``...) and those the hand-written CI installs for it;
- full profile (only beside a CI file): the production ``requirements.txt`` and
  the same test files;
- the project is not installed (``install-project = false``): the code is the tree;
- the python axis: what the service's Dockerfiles build and what the workflow
  jobs that concern it set up, intersected with this machine's interpreters,
  each value with where it was written;
- the application and its health route from the source (``model.app_source``).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from noxgrid.init.application import Application, read_application
from noxgrid.init.axis import LeftOut
from noxgrid.init.repository import read_builds
from noxgrid.model.ci_jobs import Job, Stated
from noxgrid.model.ci_testjob import SuiteJob
from noxgrid.model.ci_variants import CI_REQUIREMENTS, read_pins, variants
from noxgrid.model.config import relative_path
from noxgrid.model.drift import Statement, file_statements, walk_files
from noxgrid.model.gpufiles import GpuEvidence, gpu_evidence, gpu_swaps, is_requirement_file
from noxgrid.model.matrix import version_key

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PROJECT_FILES = ("pyproject.toml", "setup.py")
SERVICE_FILES = ("requirements.txt", *CI_REQUIREMENTS)
CANDIDATES = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
DEFAULT_PYTHONS = ("3.9", "3.10", "3.11")
_SKIPPED = {"docs", "doc", "tests", "test", "node_modules", "site-packages", "build", "dist"}
_TEST_STEM = re.compile(r"(?:^|[-_.])(?:dev|develop|test|tests|testing)(?:[-_.]|$)")


@dataclass
class ServicePlan:
    """What init declares for one requirement-file service."""

    folder: Path
    directory: str  # the folder relative to the repository's root ("." for the root)
    name: str
    pythons: list[str]
    lean: list[str]
    full: list[str] = field(default_factory=list)
    application: Application = field(default_factory=Application)
    notes: list[str] = field(default_factory=list)
    # What the repository already declares (init.service_ci): the suite's pytest
    # arguments, each profile's Debian packages, files to write beside the service's own.
    suite_args: list[str] = field(default_factory=list)
    apt: dict[str, list[str]] = field(default_factory=dict)
    extra_files: dict[str, str] = field(default_factory=dict)
    # As a project's plan (init.declare): values and cells left out after locking, the
    # signs of a GPU build, uv's torch backend; a profile's local packages (its folders).
    left_out: list[LeftOut] = field(default_factory=list)
    gpu: list[GpuEvidence] = field(default_factory=list)
    torch: bool = False
    local_packages: list[str] = field(default_factory=list)
    # The gpu accelerator's swaps read from the service's GPU requirement file; None: none.
    gpu_replace: dict[str, str] | None = None


def is_service(folder: Path) -> bool:
    """True for a folder with a requirement file and no project metadata of its own."""
    return any((folder / n).is_file() for n in SERVICE_FILES) and not any(
        (folder / n).is_file() for n in PROJECT_FILES
    )


def services_repository(root: Path) -> bool:
    """True where ``init`` adopts services rather than a project: no ``setup.py``, and no
    ``pyproject.toml`` or one that declares no project (only other tools' settings, as at
    the root of a repository of services), with a service at or below ``root``."""
    if (root / "setup.py").is_file():
        return False
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return False  # the project path reports what is wrong with it
        tools = document.get("tool", {})
        declared = {"project", "build-system"} & set(document)
        if declared or "noxgrid" in tools or "poetry" in tools:
            return False
        return bool(find_services(root))
    return True


def find_services(root: Path, depth: int = 2) -> list[Path]:
    """The requirement-file services of a repository: its root, or folders below it."""
    found: list[Path] = []

    def visit(folder: Path, level: int) -> None:
        if is_service(folder):
            found.append(folder)
            if folder != root:
                return  # a service's own subfolders are its code
        nested = folder != root and any((folder / n).is_file() for n in PROJECT_FILES)
        if level == depth or nested:
            return  # a project of its own below: `noxgrid init -C` there
        for child in sorted(p for p in folder.iterdir() if p.is_dir()):
            if child.name.startswith((".", "_")) or child.name in _SKIPPED:
                continue
            if child.name in ("venv", "env") or (child / "pyvenv.cfg").is_file():
                continue
            visit(child, level + 1)

    visit(root, 0)
    return found


def dev_requirement_files(folder: Path) -> list[str]:
    """The test/dev requirement files of a service, relative to it (``.txt`` before ``.in``)."""
    found: list[str] = []
    for where in (folder, folder / "requirements"):
        if not where.is_dir():
            continue
        for path in sorted(where.iterdir()):
            name = path.name.lower()
            in_folder = where != folder or "requirements" in name
            if not path.is_file() or not in_folder or path.suffix not in (".txt", ".in"):
                continue
            if not _TEST_STEM.search(path.stem.lower().replace("requirements", "")):
                continue
            if path.suffix == ".in" and path.with_suffix(".txt").is_file():
                continue  # pip-compiled: the .txt is what the project tests with
            found.append(path.relative_to(folder).as_posix())
    return found


def relevant_jobs(jobs: Sequence[Job], directory: str, others: Sequence[str]) -> list[Job]:
    """The workflow jobs that concern the service at ``directory``: those that name its
    folder, else (the root service, or none names it) those that name no other service."""
    if directory != ".":
        named = [job for job in jobs if job.mentions(directory)]
        if named:
            return named
    return [job for job in jobs if not any(job.mentions(other) for other in others)]


def _ci_installs(jobs: Sequence[Job], folder: Path, repo_root: Path, notes: list[str]) -> list[str]:
    """Requirement files of the service that the CI jobs install (``pip install -r``)."""
    found: list[str] = []
    for job in jobs:
        for stated in job.requirements:
            for base in (folder, repo_root):
                path = (base / stated.value).resolve()
                if path.is_file() and folder.resolve() in path.parents:
                    relative = path.relative_to(folder.resolve()).as_posix()
                    if relative not in found:
                        found.append(relative)
                        notes.append(
                            f"{relative}: installed by the CI job '{job.name}' "
                            f"({stated.where(repo_root)})"
                        )
                    break
    return found


def _profiles(
    folder: Path, jobs: Sequence[Job], repo_root: Path, notes: list[str]
) -> tuple[list[str], list[str]]:
    """(lean, full) requirement files; full is empty without a CI-only file."""
    found = variants(folder)
    tests = dev_requirement_files(folder)
    ci_files = _ci_installs(jobs, folder, repo_root, notes)
    production = found.requirements.relative_to(folder).as_posix() if found.requirements else None
    ci = found.ci_requirements.relative_to(folder).as_posix() if found.ci_requirements else None
    bases = {production, ci}
    tests = _unique([*tests, *(name for name in ci_files if name not in bases)])
    if ci is not None:
        lean = _unique([ci, *tests])
        full = _unique([production, *tests]) if production else []
        notes.append(f"lean profile: {', '.join(lean)} (the CI requirements)")
        if full:
            notes.append(f"full profile: {', '.join(full)} (what production installs)")
        if full and not tests:
            notes.append(
                "no test requirement file beside them: the full cells' suite has no test runner "
                "unless the production file brings one (add a requirements-dev.txt to both)"
            )
        return lean, full
    lean = _unique([production, *tests])
    notes.append(
        f"lean profile: {', '.join(lean)}"
        + ("" if tests else " (no test requirement file found: add pytest to one)")
    )
    return lean, []


def _unique(names: Sequence[str | None]) -> list[str]:
    return list(dict.fromkeys(name for name in names if name))


def _python_axis(
    folder: Path,
    repo_root: Path,
    jobs: Sequence[Job | SuiteJob],
    available: Callable[[str], bool],
    notes: list[str],
) -> list[str]:
    """What the Dockerfiles build and the CI sets up, with an interpreter here."""
    statements: list[Statement | Stated] = [
        s
        for path in sorted(folder.iterdir())
        if path.is_file()
        for s in file_statements(path)
        if s.kind == "Dockerfile"
    ]
    statements += [s for job in jobs for s in job.pythons]
    stated: dict[str, list[str]] = {}
    for s in statements:
        value = s.version if isinstance(s, Statement) else s.value
        if value in CANDIDATES:
            stated.setdefault(value, []).append(s.where(repo_root))
    if not stated:
        pythons = [v for v in DEFAULT_PYTHONS if available(v)] or list(DEFAULT_PYTHONS[-1:])
        notes.append(
            f"python axis: {', '.join(pythons)} (no Dockerfile or workflow states a version; "
            "the interpreters this machine has)"
        )
        return pythons
    pythons = [v for v in sorted(stated, key=version_key) if available(v)]
    for version in sorted(stated, key=version_key):
        where = ", ".join(stated[version][:3]) + (" ..." if len(stated[version]) > 3 else "")
        kept = "kept" if version in pythons else "left out: no interpreter on this machine"
        notes.append(f"python {version}: {where} ({kept})")
    if not pythons:
        pythons = [v for v in DEFAULT_PYTHONS if available(v)][-1:] or ["3.11"]
        notes.append(f"python axis: {pythons[0]} (no stated version has an interpreter here)")
    return pythons


def plan_service(
    folder: Path,
    repo_root: Path,
    *,
    jobs: Sequence[Job],
    others: Sequence[str],
    available: Callable[[str], bool],
    test_job: SuiteJob | None = None,
) -> ServicePlan:
    """The plan of one requirement-file service (pure: reads files only). The python
    axis takes the test job's versions where it states any, else every job's."""
    directory = Path(os.path.relpath(folder, repo_root)).as_posix()
    notes: list[str] = [
        "a requirement-file service: its code is taken from the tree "
        "(install-project = false; no [project] is written)"
    ]
    mine = relevant_jobs(jobs, directory, [o for o in others if o != directory])
    axis_jobs: Sequence[Job | SuiteJob] = mine
    if test_job is not None and test_job.pythons:
        axis_jobs = [test_job]
    pythons = _python_axis(folder, repo_root, axis_jobs, available, notes)
    lean, full = _profiles(folder, mine, repo_root, notes)
    files = [p for p in walk_files(folder) if not _inside_any(p, folder, others, repo_root)]
    names = {n for name in {*lean, *full} for n in read_pins(folder / name)}
    application = read_application(folder, files, names)
    notes += application.notes
    name = folder.name if directory != "." else repo_root.name
    plan = ServicePlan(
        folder=folder,
        directory=directory,
        name=name,
        pythons=pythons,
        lean=lean,
        full=full,
        application=application,
        notes=notes,
    )
    read_builds(plan, service_gpu(folder, repo_root, others), names)  # read_pins: canonical
    carry_gpu_files(plan, repo_root, names)
    return plan


def service_gpu(folder: Path, repo_root: Path, others: Sequence[str]) -> list[GpuEvidence]:
    """The signs of a GPU build in the service's folder (not in a service nested below
    it), each where it is from the repository's root."""
    prefix = "" if folder == repo_root else relative_path(folder, repo_root) + "/"
    found = [replace(item, where=prefix + item.where) for item in gpu_evidence(folder)]
    nested = [other.strip("/") + "/" for other in others if other not in (".", prefix[:-1])]
    return [item for item in found if not item.where.startswith(tuple(nested))]


def carry_gpu_files(plan: ServicePlan, repo_root: Path, names: set[str]) -> None:
    """What becomes of the service's GPU requirement files: a declaration has one
    requirement set per profile and one Dockerfile, so gpu cells install the profiles'
    files with the gpu accelerator's ``replace``, read from how the GPU file differs
    (``onnxruntime-gpu`` for ``onnxruntime``); its names with no CPU counterpart are said."""
    files = [item.where for item in plan.gpu if item.what == "a GPU build's file"]
    requirements = [where for where in files if is_requirement_file(Path(where))]
    if not files:
        return
    said = f"gpu accelerator: proposed for {', '.join(files)}"
    if not requirements:
        plan.notes.append(f"{said}; its cells install the profiles' requirement files")
        return
    plan.gpu_replace = {}
    unmatched: list[str] = []
    for where in requirements:
        pins = read_pins(repo_root / where)
        swaps = gpu_swaps(names, {name: pin.line for name, pin in pins.items()})
        plan.gpu_replace.update(swaps.replace)
        unmatched += [f"{name} ({where}:{line})" for name, line in swaps.unmatched]
    swapped = ", ".join(f"{old} -> {new}" for old, new in plan.gpu_replace.items())
    plan.notes.append(
        f"{said}; its cells install the profiles' requirement files (a declaration has "
        "no requirement file or Dockerfile per accelerator)"
        + (f" with replace: {swapped}" if swapped else "")
        + (
            f"; not in them: {', '.join(unmatched)} (add to a profile, or write a "
            "[tool.noxgrid.accelerator.gpu] replace)"
            if unmatched
            else ""
        )
    )


def _inside_any(path: Path, folder: Path, others: Sequence[str], repo_root: Path) -> bool:
    """True for a file of another service nested below this one."""
    for other in others:
        nested = repo_root / other
        if nested != folder and folder in nested.parents and nested in path.parents:
            return True
    return False
