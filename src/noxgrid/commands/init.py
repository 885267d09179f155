"""``noxgrid init``: adopt noxgrid in an existing repository."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib
from noxgrid.commands.common import Subparsers
from noxgrid.errors import (
    CellFailed,
    ConfigError,
    NoxgridError,
)
from noxgrid.model.config import relative_path

if TYPE_CHECKING:
    from noxgrid.init.axis import Cut
    from noxgrid.init.plan import Plan, Written
    from noxgrid.lock.steps import LockOutcome
    from noxgrid.model.config import Config
    from noxgrid.model.poetryapp import PoetryApp


def register_init(commands: Subparsers) -> None:
    """``noxgrid init``: its parser and its handler."""
    init = commands.add_parser(
        "init",
        help="scaffold noxgrid in an existing repository",
        description="Add [tool.noxgrid] to the project's pyproject.toml (the python axis from "
        "requires-python and the version classifiers, or the interpreters found here where "
        "the project states none; a lean profile from the project's test requirements; a "
        "full profile from its other extras), and write what is missing: the lean "
        "requirements file, noxfile.py, docker/Dockerfile (a root Dockerfile where a docker/ "
        "folder would stop a setuptools flat layout's build), .dockerignore and the GitHub "
        "workflow. Then lock every cell and run `noxgrid check`. An existing file is never "
        "replaced unless --force is given; an existing [tool.noxgrid] is never touched.",
    )
    init.add_argument(
        "-C", "--project", metavar="DIR", default=None, help="the project's folder (default: here)"
    )
    init.add_argument("--force", action="store_true", help="replace files that exist")
    init.add_argument(
        "--no-lock", action="store_true", help="write the files only (no locks, no check)"
    )
    init.set_defaults(handler=cmd_init)


def has_interpreter(version: str) -> bool:
    from noxgrid.tools.interpreters import find_interpreter

    try:
        find_interpreter(version)
    except NoxgridError:
        return False
    return True


def cmd_init(args: argparse.Namespace) -> int:
    """``noxgrid init``: the declaration and files, then every lock and the drift check."""
    from noxgrid.files import atomic_write
    from noxgrid.init.plan import (
        declaration_text,
        scaffold_files,
        summary,
        workflow_choice,
    )
    from noxgrid.model.declaration import load_config

    root = Path(args.project or ".").resolve()
    if root.is_file():
        root = root.parent
    from noxgrid.init.services import services_repository

    if services_repository(root):
        # Requirement files and Dockerfiles only: every service folder of the repository.
        from noxgrid.commands.init_services import adopt_services

        return adopt_services(
            root, force=args.force, no_lock=args.no_lock, available=has_interpreter
        )
    text, plan = _plan(root)
    workflow_path = workflow_choice(root, args.force)
    fates, files = scaffold_files(
        root, plan, force=args.force, pyproject_text=text, workflow_path=workflow_path
    )
    for path, content in files.items():
        atomic_write(path, content)
    for note in plan.notes:
        print(f"init: {note}")
    config = load_config(root)
    write_workflows = not config.workflow_file.exists() or args.force
    fates += _workflow_fates(config, write=write_workflows, no_lock=args.no_lock)
    print(summary(fates))
    if args.no_lock:
        print("\nnext: noxgrid lock, noxgrid workflow, noxgrid check, then nox -s ci-lean")
        return 0

    def redeclare(cut: Cut) -> Config:
        """[tool.noxgrid] again, without what locking showed cannot work."""
        plan.left_out += cut.left_out
        plan.torch = plan.torch or cut.torch
        plan.pythons = [python for python in plan.pythons if python not in cut.pythons]
        atomic_write(root / "pyproject.toml", declaration_text(plan, text, workflow_path))
        return load_config(root)

    return _lock_and_check(config, write_workflows=write_workflows, redeclare=redeclare)


def _plan(root: Path) -> tuple[str, Plan]:
    """(pyproject.toml's text, init's plan) for the project at ``root``."""
    from noxgrid.init.declare import declare_application
    from noxgrid.init.plan import plan_init

    _, text, document, project = read_project(root)
    plan = plan_init(
        project,
        root,
        available=has_interpreter,
        dependency_groups=document.get("dependency-groups"),
        document=document,
    )
    app = _poetry_app(root, document)
    if app is not None:
        declare_application(plan, app)
    _read_application(plan, root, project)
    return text, plan


def _workflow_fates(config: Config, *, write: bool, no_lock: bool) -> list[Written]:
    """What becomes of the CI workflow and the release one, each a line of init's list."""
    from noxgrid.init.plan import Written
    from noxgrid.render.workflow import render_workflows

    fates = []
    for path in render_workflows(config):
        if not write:
            action = "kept (exists; --force replaces it)"
        elif no_lock:
            action = "not written (--no-lock; noxgrid workflow writes it)"
        else:
            action = "written after the locks" if not path.exists() else "replaced"
        fates.append(Written(relative_path(path, config.repo_root), action))
    return fates


def _read_application(plan: Plan, root: Path, project: dict[str, Any]) -> None:
    """The application and its health route from the code, into the plan (said only
    where there is an application: a library has none)."""
    from noxgrid.init.application import project_application

    files = [plan.lean_requirements] if plan.lean_text is None else []
    plan.application = project_application(root, project, files)
    if plan.application.app is not None:
        plan.notes += list(plan.application.notes)


def _poetry_app(root: Path, document: dict[str, Any]) -> PoetryApp | None:
    from noxgrid.model.poetryapp import poetry_application

    return poetry_application(document, lambda relative: (root / relative).exists())


def read_project(root: Path) -> tuple[Path, str, dict[str, Any], dict[str, Any]]:
    """(pyproject.toml, its text, the document, what init reads of the project), or why
    init cannot. What ``[project]`` does not state (no such table, a setup.cfg or
    setup.py project, or fields it marks dynamic) comes from the build backend."""
    from noxgrid.init.projectmeta import merged_project, needs_backend
    from noxgrid.tools.metadata import prepare_metadata

    pyproject = root / "pyproject.toml"
    if not pyproject.is_file() and not (root / "setup.py").is_file():
        raise ConfigError(
            f"{root}: neither pyproject.toml nor setup.py: not a Python project",
            fix="run init in the project's folder (or pass it with -C)",
        )
    text = pyproject.read_text(encoding="utf-8") if pyproject.is_file() else ""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{pyproject}: not valid TOML: {exc}", fix="fix the file") from exc
    if "noxgrid" in document.get("tool", {}):
        raise ConfigError(
            f"{pyproject}: [tool.noxgrid] is already there; init only adds it",
            fix="edit it by hand (noxgrid's docs/reference.md), or remove it and rerun",
        )
    project = document.get("project")
    project = dict(project) if isinstance(project, dict) else {}
    app = _poetry_app(root, document)
    if app is not None:  # nothing for its backend to build: [tool.poetry] is read
        project = {**app.project(), **project}
    elif needs_backend(project):
        print("init: reading the project's metadata from its build backend (PEP 517)...")
        project = merged_project(project, prepare_metadata(root))
    return pyproject, text, document, project


def _lock_and_check(
    config: Config,
    *,
    write_workflows: bool,
    redeclare: Callable[[Cut], Config] | None = None,
) -> int:
    """Every cell's lock, the workflows, then ``noxgrid check``: exit 1 if any is not clean.
    With ``redeclare``, the python values (or cells) that cannot be locked for their
    Python are left out of the declaration first, each with its reason."""
    from noxgrid.check.findings import check_findings
    from noxgrid.commands.lock import describe
    from noxgrid.files import atomic_write
    from noxgrid.lock.resolve import lock_cells
    from noxgrid.model.matrix import expand
    from noxgrid.render.workflow import render_workflows

    matrix = expand(config)
    print(f"\nlocking {len(matrix)} cell(s)...", flush=True)
    outcomes = lock_cells(
        config, list(matrix), on_done=lambda outcome: print(describe(outcome), flush=True)
    )
    failed = [outcome.cell.id for outcome in outcomes if not outcome.written]
    if redeclare is not None:
        config, failed = _adjust(config, outcomes, redeclare)
        matrix = expand(config)
    if write_workflows:
        for path, text in render_workflows(config).items():
            atomic_write(path, text)
    findings = check_findings(config, matrix)
    # Versions the project's own older files state (tox.ini, a hand-written workflow) are
    # for the team to align: shown, not a failure of the adoption init just made.
    theirs = [f for f in findings if f["kind"] == "python"]
    for finding in theirs:
        print(f"drift to look at: {finding['where']}: {finding['message']}")
    if theirs:
        print(f"({len(theirs)} version statement(s) outside the matrix: noxgrid check lists them)")
    findings = [f for f in findings if f["kind"] != "python"]
    for finding in findings:
        print(f"check: {finding['where']}: {finding['message']}\n  fix: {finding['fix']}")
    parts = []
    if failed:
        parts.append(f"no lock for {', '.join(failed)}")
    if findings:
        parts.append(f"noxgrid check has {len(findings)} finding(s)")
    if parts:
        raise CellFailed(
            "init wrote the files, but " + "; ".join(parts),
            fix="apply the fixes above, then run noxgrid check",
        )
    print(
        "\nnoxgrid check: locks, policy and workflows clean. "
        "Next: nox -s ci-lean (and commit the files above)"
    )
    return 0


def _adjust(
    config: Config, outcomes: list[LockOutcome], redeclare: Callable[[Cut], Config]
) -> tuple[Config, list[str]]:
    """The declaration again where locking showed what init could not know: torch that
    arrives through another package needs uv's torch backend (those cells are locked
    again); the python values or cells that cannot be locked for their Python are left
    out. (the declaration, the cells that still failed)."""
    from noxgrid.commands.lock import describe
    from noxgrid.init.axis import Cut, cut_matrix, torch_refused
    from noxgrid.lock.resolve import lock_cells

    refused = torch_refused(outcomes)
    if refused and config.accelerators["cpu"].torch_backend is None:
        print(
            "\ninit: torch arrives through the project's requirements and PyPI's build is "
            'the CUDA one: torch-backend = "cpu" written; locking those cells again'
        )
        config = redeclare(Cut(torch=True))
        again = {
            outcome.cell.id: outcome
            for outcome in lock_cells(
                config, refused, on_done=lambda outcome: print(describe(outcome), flush=True)
            )
        }
        outcomes = [again.get(outcome.cell.id, outcome) for outcome in outcomes]
    cut = cut_matrix(config.pythons, outcomes)
    if cut.left_out:
        _leave_out(config, cut, outcomes)
        config = redeclare(cut)
    return config, cut.failed


def _leave_out(config: Config, cut: Cut, outcomes: Sequence[LockOutcome]) -> None:
    """Say what is left out and why; remove the locks init wrote for those cells."""
    print()
    for item in cut.left_out:
        print(f"init: left out {item.what}: {item.reason}")
    for outcome in outcomes:
        if outcome.written and cut.leaves_out(outcome.cell) and outcome.path.is_file():
            outcome.path.unlink()
            print(
                f"init: removed {relative_path(outcome.path, config.root)} (its cell is left out)"
            )
