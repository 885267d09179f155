"""Register nox sessions from the matrix: ``ci-<profile>``, one parametrized session per cell.

``nox -s ci-lean`` runs every lean cell and ``nox -s "ci-lean-3.10(cpu)"`` one.
Each cell session is a pass-through nox session: noxgrid makes and checks the
venv itself (interpreter discovery, uv, the cell's requirements), so nox
neither looks for interpreters nor creates environments of its own.

Nox names a session ``<name>-<python>(<param id>)`` only when ``python`` is
a list, and expands every python with the same parameters. Two small
adjustments give each python its own accelerators (so excluded cells are not
listed) and a pass-through backend once expanded; both live in
:class:`_CellSessions` and are covered by tests that list sessions through
``nox -l --json``.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import nox
from nox._decorators import Func

from noxgrid.errors import NoxgridError, SelectionError

if TYPE_CHECKING:
    from noxgrid.model.config import Config
    from noxgrid.model.matrix import Cell, Matrix


class _CellSessions(Func):
    """A ``ci-<profile>`` session whose per-python copies carry only their own cells."""

    params_by_python: dict[str, list[Any]]

    def copy(self, name: str | None = None) -> Func:
        """Nox copies the session once per python, then sets ``python`` on the copy."""
        single = super().copy(name)
        single.__class__ = _CellSessionsOfOnePython
        single.params_by_python = self.params_by_python  # type: ignore[attr-defined]
        single.venv_backend = "none"
        return single


class _CellSessionsOfOnePython(Func):
    params_by_python: dict[str, list[Any]]

    @property
    def parametrize(self) -> list[Any]:
        """Only the accelerators of this python's cells."""
        return self.params_by_python.get(str(self.python), [])


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


def requested_sessions(argv: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """The session names given to nox (``-s a b``, ``--sessions=a``, NOXSESSION=a,b)."""
    names: list[str] = []
    taking = False
    for arg in argv:
        if arg == "--":
            break
        flag, equals, value = arg.partition("=")
        if flag in _SESSION_FLAGS and equals:
            names.append(value)
            taking = False
        elif arg in _SESSION_FLAGS:
            taking = True
        elif arg.startswith("-"):
            taking = False
        elif taking:
            names.append(arg)
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


def _run_cells(session: nox.Session, config: Config, chosen: Sequence[Cell]) -> None:
    """The cells of one session, one after the other; the session fails naming each failure."""
    # Imported when a cell runs, not when nox lists the sessions.
    from noxgrid.cell.progress import PlainProgress
    from noxgrid.cell.run import run_cell
    from noxgrid.model.results import Status, first_line
    from noxgrid.tools.runner import sigterm_as_interrupt

    own, suite_args = split_posargs(session.posargs)
    docker = "--no-docker" not in own and os.environ.get("NOXGRID_NO_DOCKER", "") not in (
        "1",
        "true",
        "yes",
    )
    failed = []
    with sigterm_as_interrupt():
        for cell in chosen:
            result = run_cell(
                config,
                cell,
                progress=PlainProgress(),
                docker=docker,
                in_image="--in-image" in own,
                suite_args=suite_args,
            )
            if result.status is Status.FAILED:
                failed.append(f"cell {cell.id} failed at {first_line(result.first_error or '')}")
    if failed:
        session.error("; ".join(failed))


def _register_profile(config: Config, profile: str, cells: Sequence[Cell]) -> str:
    """``ci-<profile>``: one nox session per cell of the profile, named as nox names them."""

    pythons: list[str] = []
    params: dict[str, list[Any]] = {}
    for cell in cells:
        if cell.python not in params:
            pythons.append(cell.python)
            params[cell.python] = []
        params[cell.python].append(
            nox.param(cell.accelerator, id=cell.accelerator, tags=[cell.id, cell.accelerator])
        )
        params[cell.python][-1].arg_names = ("accelerator",)

    def cell_session(session: nox.Session, accelerator: str | None = None) -> None:
        if accelerator is None:
            # `nox --no-venv` (or a forced "none" backend) folds the python list
            # into one unparametrized session: run every cell of the profile.
            chosen = list(cells)
        else:
            chosen = [
                c for c in cells if (c.python, c.accelerator) == (session.python, accelerator)
            ]
        _run_cells(session, config, chosen)

    name = f"ci-{profile}"
    cell_session.__doc__ = (
        f"noxgrid cell of profile '{profile}': lock, venv, install, doctor, image, smoke, suite"
    )
    registered = nox.session(
        name=name,
        python=pythons,
        venv_backend="uv",
        tags=["ci", profile],
        allow_parallel=True,
    )(cell_session)
    registered.__class__ = _CellSessions
    cast("_CellSessions", registered).params_by_python = params
    return name
