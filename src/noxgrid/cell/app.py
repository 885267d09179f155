"""The application the image will start, imported and loaded in the cell's venv.

Part of the doctor stage: an app that cannot start (a module the profile does
not install, a bad setting read at import) is found before an image is built,
and named with the fix.
"""

from __future__ import annotations

import os

from noxgrid.cell.state import CellRun, requirements_shown
from noxgrid.errors import StageFailure
from noxgrid.model.app import LOAD_SCRIPT, AppTarget, app_target, load_failure
from noxgrid.model.bytecode import NO_TREE_BYTECODE, bytecode_env
from noxgrid.model.doctor import IMPORT_SMOKE
from noxgrid.model.reach import LOADED_REPORT
from noxgrid.model.text import json_objects
from noxgrid.tools.runner import Command, Outcome


def app_of(state: CellRun) -> AppTarget | None:
    """The application the image starts, or None when the project names none."""
    config = state.config
    dockerfile = config.root / config.docker.dockerfile
    text = dockerfile.read_text(encoding="utf-8") if dockerfile.is_file() else None
    return app_target(config.docker.command, text, state.cell.profile, config.docker.dockerfile)


def app_env(state: CellRun) -> dict[str, str]:
    """The container's environment, for the process that loads the application."""
    return {
        **bytecode_env(state.venv, state.env),  # the venv's .pyc, for the suite to read
        **dict(state.config.docker.env),
        "NOXGRID_CELL": state.cell.id,
        "PATH": f"{state.venv_bin}{os.pathsep}{state.env.get('PATH', os.defpath)}",
    }


def app_args(target: AppTarget) -> tuple[str, str, str]:
    """LOAD_SCRIPT's arguments."""
    return target.module, target.attribute or "", "1" if target.factory else "0"


# The import smoke, then the application loaded, in one process: the second finds
# the dependencies the first imported (each would import FastAPI and the rest again).
SMOKE_THEN_LOAD = (
    "import sys as _noxgrid_sys\n"
    "_noxgrid_all = _noxgrid_sys.argv[1:]\n"
    "_noxgrid_at = _noxgrid_all.index('--noxgrid-app')\n"
    "_noxgrid_sys.argv = [_noxgrid_sys.argv[0], *_noxgrid_all[:_noxgrid_at]]\n"
    + IMPORT_SMOKE
    + "\n_noxgrid_sys.argv = [_noxgrid_sys.argv[0], *_noxgrid_all[_noxgrid_at + 1:]]\n"
    + NO_TREE_BYTECODE
    + LOAD_SCRIPT
    + LOADED_REPORT  # again: what loading the application loaded counts too (the last wins)
)


def load_app(state: CellRun, target: AppTarget | None, outcome: Outcome | None = None) -> str:
    """``; loaded <app> (<kind>)`` when the application loads, "" when the project names
    none; StageFailure (with the fix) when it does not load. ``outcome``: the process
    that already loaded it (SMOKE_THEN_LOAD), else one is run here."""
    if target is None:
        return ""
    config, cell = state.config, state.cell
    if outcome is None:
        outcome = state.runner.run(
            Command(
                argv=(
                    str(state.venv_python),
                    "-c",
                    NO_TREE_BYTECODE + LOAD_SCRIPT,
                    *app_args(target),
                ),
                cwd=config.root,
                env=app_env(state),
                timeout=min(config.suite.timeout, 300),
            )
        )
    objects = json_objects(outcome.output)
    result: dict[str, object] = objects[-1] if objects else {}
    with state.log("doctor-app") as log:
        log.record(outcome.output)  # the probes' JSON: the stage's result line says it
    if result.get("ok"):
        return f"; loaded {target.spec()} ({result.get('kind', 'app')}, from {target.source})"
    if not result:
        result = {"error": f"the interpreter exited with {outcome.returncode}: {outcome.tail(5)}"}
    raise StageFailure(
        load_failure(
            target,
            result,
            profile=cell.profile,
            requirements=requirements_shown(state),
            cell=cell.id,
        )
        + "\n"
        + str(result.get("traceback") or "").strip()
    )
