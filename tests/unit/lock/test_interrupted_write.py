"""No lock is written after an interrupt, even by a cell whose resolution had ended."""

from __future__ import annotations

import pytest

from noxgrid.errors import Interrupted
from noxgrid.lock.resolve import _write
from noxgrid.lock.steps import LockContext, LockOutcome
from noxgrid.model.declaration import load_config
from noxgrid.model.lockfile import parse_lock
from noxgrid.model.matrix import expand
from noxgrid.tools.runner import Runner
from noxgrid.tools.uv import Uv
from tests.unit.lock.test_steps import TORCH

LOCK = """lock-version = "1.0"
created-by = "noxgrid"

[[packages]]
name = "six"
version = "1.17.0"
"""


@pytest.mark.parametrize("interrupted", [False, True])
def test_the_write_checks_for_an_interrupt_first(make_project, interrupted):
    root = make_project(TORCH, {"requirements/lean.in": "six\n"})
    config = load_config(root)
    cell = next(iter(expand(config)))
    runner = Runner()
    if interrupted:
        runner.stop_all()
    uv = Uv(runner, binary="uv")
    context = LockContext(config=config, cell=cell, uv=uv, index=None, uv_version="0.13.9")
    outcome = LockOutcome(cell=cell, path=root / "lock.toml")
    if interrupted:
        with pytest.raises(Interrupted):
            _write(context, outcome, parse_lock(LOCK), LOCK)
        assert not outcome.path.exists() and not outcome.written
    else:
        _write(context, outcome, parse_lock(LOCK), LOCK)
        assert outcome.path.is_file() and outcome.written
