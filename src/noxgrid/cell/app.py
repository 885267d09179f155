"""The application the image will start, imported and loaded in the cell's venv.

Part of the doctor stage: an app that cannot start (a module the profile does
not install, a bad setting read at import) is found before an image is built,
and named with the fix.
"""

from __future__ import annotations

import os

from noxgrid.cell.state import CellRun, requirements_shown
from noxgrid.errors import StageFailure
from noxgrid.model.app import LOAD_SCRIPT, app_target, load_failure
from noxgrid.model.text import json_objects
from noxgrid.tools.runner import Command


def load_app(state: CellRun) -> str:
    """``; loaded <app> (<kind>)`` when the application loads, "" when the project names
    none; StageFailure (with the fix) when it does not load."""
    config, cell = state.config, state.cell
    dockerfile = config.root / config.docker.dockerfile
    text = dockerfile.read_text(encoding="utf-8") if dockerfile.is_file() else None
    target = app_target(config.docker.command, text, cell.profile, config.docker.dockerfile)
    if target is None:
        return ""
    env = {
        **dict(config.docker.env),
        "PYTHONDONTWRITEBYTECODE": "1",
        "NOXGRID_CELL": cell.id,
        "PATH": f"{state.venv_bin}{os.pathsep}{state.env.get('PATH', os.defpath)}",
    }
    outcome = state.runner.run(
        Command(
            argv=(
                str(state.venv_python),
                "-c",
                LOAD_SCRIPT,
                target.module,
                target.attribute or "",
                "1" if target.factory else "0",
            ),
            cwd=config.root,
            env=env,
            timeout=min(config.suite.timeout, 300),
        )
    )
    objects = json_objects(outcome.output)
    result: dict[str, object] = objects[-1] if objects else {}
    with state.log("doctor-app") as sink:
        sink(outcome.output)
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
