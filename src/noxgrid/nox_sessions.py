"""Register nox sessions from the matrix: one session per cell, and the groups that run them.

``nox -s "ci-lean-3.10(cpu)"`` runs one cell, ``nox -s ci-lean-3.10`` the lean
cells of 3.10, and ``nox -s ci-lean`` every lean cell. Each cell is a nox
session of its own with a pass-through backend: noxgrid makes and checks the
venv itself (interpreter discovery, uv, the cell's requirements), so nox
neither looks for interpreters nor creates environments. A group runs its
cells itself, ``nox -j N`` of them at a time in one process (threads, as
``noxgrid run -j N`` does), and fails naming each failed cell: nox would
otherwise start a process per cell, each importing nox and the noxfile
again, and one more for the group after them. Only nox's public API is used
(``nox.session``, ``session.posargs``); the lowest nox it needs is declared
in pyproject.toml and tested in CI.
"""

from __future__ import annotations

import ast
import inspect
import logging
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nox

from noxgrid.errors import NoxgridError, SelectionError

if TYPE_CHECKING:
    from noxgrid.model.config import Config
    from noxgrid.model.matrix import Cell, Matrix


def _parallel_options() -> dict[str, Any]:
    """``allow_parallel=True`` where this nox can run sessions side by side (2026.8.10+)."""
    if "allow_parallel" in inspect.signature(nox.session).parameters:
        return {"allow_parallel": True}
    return {}


def _not_parallel() -> dict[str, Any]:
    """``allow_parallel=False`` where this nox knows the option."""
    return {"allow_parallel": False} if _parallel_options() else {}


def _fail(error: NoxgridError) -> None:
    sys.stderr.write(f"noxgrid: {error}\n")
    raise SystemExit(error.exit_code)


def register(project: str | Path | None = None) -> list[str]:
    """Register the sessions of the project at ``project`` (default: the noxfile's folder).

    Nox imports the noxfile from its own folder, so the current directory is
    the project unless ``project`` says otherwise.
    """
    from noxgrid.model.declaration import load_config
    from noxgrid.model.matrix import expand

    try:
        config = load_config(Path(project) if project is not None else Path.cwd())
    except NoxgridError as error:
        _fail(error)
        raise  # unreachable: _fail exits
    try:
        matrix = expand(config)
    except NoxgridError as error:
        _fail(error)
        raise  # unreachable: _fail exits
    wrong = not_cell_names(requested_sessions(sys.argv[1:], os.environ), matrix)
    if wrong:
        _fail(
            SelectionError(
                f"{', '.join(repr(name) for name in wrong)} is not the name of a cell session "
                "(nox reads 3.1 and 3.10 as one number and would run another cell); nothing runs",
                fix="use an exact name: " + ", ".join(cell.session for cell in matrix),
            )
        )
    jobs = nox_jobs(sys.argv[1:], os.environ)
    if jobs > 1:
        os.environ[JOBS_VARIABLE] = str(jobs)  # for a child nox runs a group in
        logging.getLogger("nox").addFilter(_GroupsRunInParallel())
    names = []
    for profile in config.profile_names:
        cells = list(matrix.by_profile(profile))
        if not cells:
            names.append(_register_empty_profile(config, profile))
            continue
        names.append(_register_profile(config, profile, cells))
    names.append(_register_lock(config))
    names.append(_register_release(config))
    return names


_SESSION_FLAGS = ("-s", "-e", "--session", "--sessions")


def _option_values(
    argv: Sequence[str], flags: Sequence[str], *, many: bool = False, attached: bool = False
) -> list[str]:
    """The values nox's command line gives one option, in order, up to ``--``:
    ``--flag=value``, ``-f value`` (``many``: every word up to the next option),
    and with ``attached`` the short form ``-fvalue``."""
    values: list[str] = []
    taking = False
    for arg in argv:
        if arg == "--":
            break
        flag, equals, value = arg.partition("=")
        if flag in flags and equals:
            values.append(value)
            taking = False
        elif arg in flags:
            taking = True
        elif attached and any(len(f) == 2 and arg.startswith(f) for f in flags):
            values.append(arg[2:])
            taking = False
        elif arg.startswith("-"):
            taking = False
        elif taking:
            values.append(arg)
            taking = many
    return values


def requested_sessions(argv: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """The session names given to nox (``-s a b``, ``--sessions=a``, NOXSESSION=a,b)."""
    names = _option_values(argv, _SESSION_FLAGS, many=True)
    if not names and env.get("NOXSESSION"):
        names = [name for name in env["NOXSESSION"].split(",") if name]
    return names


def _normal(name: str) -> str:
    """A session name as nox compares it: parsed as a Python expression where it can be."""
    try:
        return ast.dump(ast.parse(name))
    except SyntaxError:
        return name


_VERSION_IN_NAME = re.compile(r"^ci-[a-z][a-z0-9_]*-(\d+\.\d+)")


def not_cell_names(requested: Sequence[str], matrix: Matrix) -> list[str]:
    """Requested names that nox would match to a cell session they do not name.

    nox compares names as parsed Python, where ``3.1`` and ``3.10`` are one
    number: ``ci-lean-3.1(cpu)`` would run the 3.10 cell. Such a name is refused.
    """
    pythons = {cell.python for cell in matrix}
    ours = {cell.session for cell in matrix} | {
        f"ci-{cell.profile}-{cell.python}" for cell in matrix
    }
    normal = {_normal(name) for name in ours}
    wrong = []
    for name in requested:
        version = _VERSION_IN_NAME.match(name)
        if name in ours or version is None or version.group(1) in pythons:
            continue
        if _normal(name) in normal:
            wrong.append(name)
    return wrong


# The flags a cell session takes for itself; everything else after `--` is the suite's.
OWN_FLAGS = ("--no-docker", "--in-image")


def split_posargs(posargs: Sequence[str]) -> tuple[list[str], list[str]]:
    """(noxgrid's own flags, the suite's arguments) of a cell session's arguments.

    ``nox -s ci-lean -- --no-docker -k slow``: ``--no-docker`` is noxgrid's (wherever it
    stands), ``-k slow`` reaches pytest. After a second ``--`` everything is the suite's,
    for a suite argument spelled like one of noxgrid's flags.
    """
    own: list[str] = []
    suite: list[str] = []
    for index, arg in enumerate(posargs):
        if arg == "--":
            return own, [*suite, *posargs[index + 1 :]]
        (own if arg in OWN_FLAGS else suite).append(arg)
    return own, suite


def _register_empty_profile(config: Config, profile: str) -> str:
    """``ci-<profile>`` for a profile whose every cell is excluded: it fails, saying why."""
    from noxgrid.model.matrix import emptied_by

    def empty(session: nox.Session) -> None:
        session.error(
            f"{config.pyproject}: tool.noxgrid.exclude: every cell of profile '{profile}' is "
            f"excluded, so this session would check nothing: {emptied_by(config, profile)}; "
            "fix: narrow those exclude entries, or drop the profile from profiles = [...]"
        )

    empty.__doc__ = f"profile '{profile}': every cell is excluded (fails, naming the excludes)"
    nox.session(name=f"ci-{profile}", python=False, tags=["ci", profile])(empty)
    return f"ci-{profile}"


def _register_release(config: Config) -> str:
    def release(session: nox.Session) -> None:
        """noxgrid check, then every cell with its image and smoke test (in parallel), one
        report (JSON, Markdown, JUnit, HTML) in <reports>/release."""
        from noxgrid.cli import main

        code = main(["release", "-C", str(config.pyproject), *session.posargs])
        if code:
            session.error(f"noxgrid release exited with {code}")

    nox.session(name="release", python=False, default=False, tags=["release"])(release)
    return "release"


def _register_lock(config: Config) -> str:
    def lock(session: nox.Session) -> None:
        """Write every cell's lock (`nox -s lock -- PATTERN` for some); `-- --check` checks."""
        from noxgrid.cli import main

        code = main(["lock", "-C", str(config.pyproject), *session.posargs])
        if code:
            session.error(f"noxgrid lock exited with {code}")

    nox.session(name="lock", python=False, default=False, tags=["lock"])(lock)
    return "lock"


JOBS_VARIABLE = "NOXGRID_NOX_JOBS"


class _GroupsRunInParallel(logging.Filter):
    """nox says it ignores ``-j`` when only groups are selected (they are not nox's
    parallel sessions); a group runs its cells ``-j`` at a time itself, so that warning
    would mislead, and the group's own first line says what happens instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("No selected session allows parallel")


def nox_jobs(argv: Sequence[str], env: Mapping[str, str]) -> int:
    """How many cells a group runs at once: nox's ``-j``/``--parallel`` (or NOX_PARALLEL),
    ``auto`` being one per core; 1 when nox was given none.

    nox hands a session to a child process with ``--parallel 1``, so the value nox
    was first given travels to it in NOXGRID_NOX_JOBS, set when the noxfile loads.
    """
    if env.get(JOBS_VARIABLE, "").isdigit():
        return max(1, int(env[JOBS_VARIABLE]))
    given = _option_values(argv, ("-j", "--parallel"), attached=True)
    value = given[-1] if given else env.get("NOX_PARALLEL", "")
    if value.strip() == "auto":
        return os.cpu_count() or 1
    try:
        return max(1, int(value))
    except ValueError:
        return 1


def _run_cells(
    session: nox.Session, config: Config, chosen: Sequence[Cell], *, jobs: int = 1
) -> None:
    """The cells of one session, ``jobs`` at a time; the session fails naming each failure."""
    # Imported when a cell runs, not when nox lists the sessions.
    from noxgrid.cell.progress import PlainProgress
    from noxgrid.cell.run import run_cells
    from noxgrid.model.reason import failure_line
    from noxgrid.model.results import Status, interruption
    from noxgrid.tools.runner import sigterm_as_interrupt

    own, suite_args = split_posargs(session.posargs)
    if len(chosen) > 1:
        at_once = min(jobs, len(chosen))
        session.log(
            f"{len(chosen)} cells, {at_once} at a time (nox -j), in this process"
            if at_once > 1
            else f"{len(chosen)} cells, one at a time (nox -j N runs N side by side)"
        )
    docker = "--no-docker" not in own and os.environ.get("NOXGRID_NO_DOCKER", "") not in (
        "1",
        "true",
        "yes",
    )
    with sigterm_as_interrupt():
        results = run_cells(
            config,
            chosen,
            jobs=jobs,
            # Cells side by side: each output line says its cell, one table at the end.
            progress=PlainProgress(prefix_output=jobs > 1 and len(chosen) > 1),
            docker=docker,
            in_image="--in-image" in own,
            suite_args=suite_args,
        )
    if len(chosen) > 1:
        from noxgrid.render.table import timings_table

        sys.stdout.write("\n" + timings_table(results) + "\n")
        sys.stdout.flush()
    failed = [
        f"cell {result.cell.id} failed at {failure_line(result.first_error or '')}"
        for result in results
        if result.status is Status.FAILED
    ]
    failed += [
        f"cell {result.cell.id} interrupted at {interruption(result)}"
        for result in results
        if result.status is Status.INTERRUPTED
    ]
    if failed:
        session.error("; ".join(failed))
    if len(chosen) > 1:
        session.log(f"{len(chosen)} cells passed: {', '.join(c.session for c in chosen)}")


def _register_profile(config: Config, profile: str, cells: Sequence[Cell]) -> str:
    """``ci-<profile>``: a session per cell, one per python of the profile, one for all."""
    parallel = _parallel_options()
    by_python: dict[str, list[Cell]] = {}
    for cell in cells:
        _register_cell(config, cell, parallel)
        by_python.setdefault(cell.python, []).append(cell)
    for python, group in by_python.items():
        _register_group(
            config,
            f"ci-{profile}-{python}",
            profile,
            group,
            f"the {profile} cells of Python {python}",
        )
    name = f"ci-{profile}"
    _register_group(
        config, name, profile, cells, f"every cell of profile '{profile}'", default=True
    )
    return name


def _register_cell(config: Config, cell: Cell, parallel: Mapping[str, Any]) -> None:
    def cell_session(session: nox.Session) -> None:
        _run_cells(session, config, [cell])

    cell_session.__doc__ = (
        f"noxgrid cell {cell.id}: lock, venv, install, doctor, image, smoke, suite"
    )
    nox.session(
        name=cell.session,
        python=cell.python,  # listed (nox -l --json); the backend is none: noxgrid makes the venv
        venv_backend="none",
        default=False,
        tags=["ci", cell.profile, cell.id, cell.accelerator],
        **parallel,
    )(cell_session)


def _register_group(
    config: Config,
    name: str,
    profile: str,
    cells: Sequence[Cell],
    what: str,
    *,
    default: bool = False,
) -> None:
    """A session that runs ``cells`` itself, nox's ``-j`` of them at a time."""
    jobs = nox_jobs(sys.argv[1:], os.environ)

    def group(session: nox.Session) -> None:
        _run_cells(session, config, cells, jobs=jobs)

    names = [cell.session for cell in cells]
    group.__doc__ = f"{what} ({len(names)}: {', '.join(names)})"
    nox.session(
        name=name,
        python=False,
        default=default,
        tags=["ci", profile],
        # Not one of nox's parallel sessions: nox runs it in its own process (a child
        # would import nox and the noxfile again), and the group runs its cells
        # side by side itself.
        **_not_parallel(),
    )(group)
