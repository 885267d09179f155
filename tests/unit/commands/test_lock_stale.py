"""``noxgrid lock --check`` names locks whose cell left the matrix; ``--prune`` removes them."""

from __future__ import annotations

from noxgrid.cli import main
from noxgrid.model.declaration import load_config
from noxgrid.model.matrix import Cell, expand
from tests.unit.model.test_freshness import STATIC, _write_lock


def test_lock_check_names_an_orphaned_lock_and_prune_removes_it(make_project, capsys):
    root = make_project(STATIC, {"requirements/lean.in": "pytest\n"})
    config = load_config(root)
    for cell in expand(config):
        _write_lock(config, cell)
    orphan = _write_lock(config, Cell(python="3.9", accelerator="cpu", profile="lean"))
    assert main(["lock", "-C", str(root), "--check"]) == 1
    captured = capsys.readouterr()
    row = next(line for line in captured.out.splitlines() if line.startswith("3.9-cpu-lean"))
    assert row.split() == [
        "3.9-cpu-lean",
        "orphaned",
        "requirements/locks/pylock.py39-cpu-lean.toml",
    ]
    assert (
        "the lock of 3.9-cpu-lean, a cell no longer in the matrix (python 3.9 is no longer on "
        "the python axis); fix: rm requirements/locks/pylock.py39-cpu-lean.toml" in captured.out
    )
    assert "fix: noxgrid lock --prune" in captured.err
    assert main(["lock", "-C", str(root), "--prune"]) == 0
    assert not orphan.exists()
    assert "removed requirements/locks/pylock.py39-cpu-lean.toml" in capsys.readouterr().out
    assert main(["lock", "-C", str(root), "--check"]) == 0
