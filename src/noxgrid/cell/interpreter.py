"""The interpreter stage: find the cell's Python (override, PATH, pyenv, uv-managed)."""

from __future__ import annotations

from noxgrid.cell.state import CellRun, Stage
from noxgrid.tools.interpreters import find_interpreter


def stage_interpreter(state: CellRun) -> str:
    found = find_interpreter(state.cell.python, overrides=state.config.interpreters, env=state.env)
    state.interpreter = found
    return f"Python {found.version} at {found.path} (from {found.source})"


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
