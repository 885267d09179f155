"""The interpreter stage: find the cell's Python (override, PATH, pyenv, uv-managed)."""

from __future__ import annotations

from noxgrid.cell.state import CellRun, Stage
from noxgrid.tools.interpreters import find_interpreter


def stage_interpreter(state: CellRun) -> str:
    found = find_interpreter(state.cell.python, overrides=state.config.interpreters, env=state.env)
    state.interpreter = found
    detail = f"Python {found.version} at {found.path} (from {found.source})"
    active = state.env.get("VIRTUAL_ENV")
    if active:
        # The same cell gets the same interpreter inside a venv and outside one.
        detail += (
            f"; the active virtual environment {active} was not searched (a cell never runs "
            "on a venv's interpreter)"
        )
    return detail


def describe(state: CellRun) -> str:
    """What the interpreter stage says it does when it starts."""
    return f"find Python {state.cell.python}"


STAGE = Stage(
    name="interpreter",
    needs=("cell", "config", "env"),
    adds=("interpreter",),
    run=stage_interpreter,
    describe=describe,
)
