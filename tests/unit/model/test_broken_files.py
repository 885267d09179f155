"""A broken lock file is bad input, not a crash: a folder in the lock's place, or bytes that
are not UTF-8, are named as an unreadable lock with the fix (issue 23 §4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from noxgrid.errors import LockUnreadable
from noxgrid.model.declaration import load_config
from noxgrid.model.freshness import lock_state, read_lock
from noxgrid.model.lockfile import current_lock, lock_path
from noxgrid.model.matrix import Cell

PROJECT = """
[tool.noxgrid]
python = ["3.11"]
accelerators = ["cpu"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
install-project = false
"""

CELL = Cell(python="3.11", accelerator="cpu", profile="lean")


def project(tmp_path: Path) -> Path:
    (tmp_path / "requirements" / "locks").mkdir(parents=True)
    (tmp_path / "requirements" / "lean.in").write_text("iniconfig\n")
    (tmp_path / "pyproject.toml").write_text(PROJECT)
    return tmp_path


def test_a_folder_in_the_place_of_a_lock_is_an_unreadable_lock_not_a_missing_one(tmp_path):
    config = load_config(project(tmp_path))
    lock_path(config, CELL).mkdir()
    state = lock_state(config, CELL)
    assert state.state == "unreadable"
    assert "folder" in state.detail
    assert current_lock(config, CELL) is None
    with pytest.raises(LockUnreadable, match="folder"):
        read_lock(lock_path(config, CELL))


def test_a_lock_of_bytes_that_are_not_utf8_is_unreadable_with_the_byte_named(tmp_path):
    config = load_config(project(tmp_path))
    lock_path(config, CELL).write_bytes(b'\xff\xfelock-version = "1.0"\n')
    state = lock_state(config, CELL)
    assert state.state == "unreadable"
    assert "not UTF-8" in state.detail and "0xff" in state.detail
    assert current_lock(config, CELL) is None
    with pytest.raises(LockUnreadable, match="UTF-8"):
        read_lock(lock_path(config, CELL))
