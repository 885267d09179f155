"""The venv stage: reuse the cell's venv when its interpreter is the same, else make it with uv."""

from __future__ import annotations

import json
from pathlib import Path

from noxgrid.cell.state import STAMP, CellRun, Stage, failure
from noxgrid.errors import InterpreterNotFound, StageFailure
from noxgrid.model.config import relative_path
from noxgrid.model.installed import pyvenv_cfg
from noxgrid.tools.interpreters import verify_override

# Bumped when what noxgrid puts in a venv changes (2: bytecode compiled at install),
# so venvs made by an older noxgrid are made again rather than patched.
VENV_LAYOUT = "2"


def venv_stamp(state: CellRun) -> dict[str, str]:
    assert state.interpreter is not None
    return {
        "interpreter": str(state.interpreter.path),
        "python": state.cell.python,
        "layout": VENV_LAYOUT,
    }


def _venv_version(venv: Path) -> str | None:
    settings = pyvenv_cfg(venv)
    return settings.get("version_info") or settings.get("version")


def stage_venv(state: CellRun) -> str:
    stamp_path = state.venv / STAMP
    wanted = venv_stamp(state)
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
        verify_override(state.interpreter)  # /bin/sh as 3.11: said so, exit 3
        raise StageFailure(failure("uv venv", outcome.returncode, outcome.output))
    version = _venv_version(state.venv)
    if version is None or not (
        version == state.cell.python or version.startswith(state.cell.python + ".")
    ):
        wrong = StageFailure(
            f"{state.interpreter.path} made a Python {version} venv, not {state.cell.python}; "
            f"fix: point {'NOXGRID_PYTHON_' + state.cell.python.replace('.', '_')} "
            f"at a Python {state.cell.python} interpreter"
        )
        wrong.exit_code = InterpreterNotFound.exit_code  # no interpreter of the version
        raise wrong
    stamp_path.write_text(json.dumps(wanted) + "\n", encoding="utf-8")
    return f"created with Python {version}"


def describe(state: CellRun) -> str:
    """What the venv stage says it does when it starts."""
    return f"virtual environment {relative_path(state.venv, state.config.root)}"


STAGE = Stage(
    name="venv",
    needs=("interpreter",),
    adds=(),
    run=stage_venv,
    describe=describe,
)
