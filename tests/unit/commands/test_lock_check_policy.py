"""``noxgrid lock --check`` judges fresh locks by policy as ``noxgrid check`` does, and
names the removal of a folder standing in a lock's place as its fix."""

from __future__ import annotations

from noxgrid.check.findings import lock_findings
from noxgrid.cli import main
from noxgrid.model.declaration import load_config
from noxgrid.model.freshness import DIGESTS_KEY, format_input_digests
from noxgrid.model.inputs import input_digests, inputs_digest
from noxgrid.model.lockfile import lock_path, seal
from noxgrid.model.matrix import expand
from tests.unit.cell.test_run import pylock_text
from tests.unit.model.test_freshness import STATIC, _write_lock

BUDGET = STATIC.replace(
    "[tool.noxgrid.profile.lean]\n", '[tool.noxgrid.profile.lean]\nsize-budget = "1MB"\n'
)


def _write_sized_lock(config, cell, installed):
    header = [
        ("inputs-sha256", inputs_digest(config, cell)[0]),
        (DIGESTS_KEY, format_input_digests(input_digests(config, cell))),
        ("installed-bytes", str(installed)),
        ("largest", f"pytest==8.0.0={installed}"),
    ]
    path = lock_path(config, cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(seal(pylock_text(cell, "pytest==8.0.0\n", header)))


def rows_path(cell):
    return f"requirements/locks/pylock.py{cell.python.replace('.', '')}-cpu-lean.toml"


def test_lock_check_refuses_a_fresh_lock_over_its_budget_with_the_policys_fix(make_project, capsys):
    root = make_project(BUDGET, {"requirements/lean.in": "pytest\n"})
    config = load_config(root)
    over, under = list(expand(config))
    _write_sized_lock(config, over, 5_000_000)
    _write_sized_lock(config, under, 500_000)
    assert main(["lock", "-C", str(root), "--check"]) == 1
    captured = capsys.readouterr()
    rows = {line.split()[0]: line.split()[1] for line in captured.out.splitlines()[2:4]}
    assert rows == {over.id: "refused", under.id: "fresh"}
    assert "[budget]" in captured.out and "over the 1.0 MB budget" in captured.out
    fix = "drop or replace the largest packages, or raise size-budget"
    assert f"fix: {fix}" in captured.out
    assert f"fix: {fix}" in captured.err
    assert f"noxgrid lock {over.id}" not in captured.err  # locking again refuses again
    # noxgrid check finds the same, with the same fix.
    found = [f for f in lock_findings(config, expand(config)) if f["kind"] == "policy"]
    assert [f["where"] for f in found] == [rows_path(over)]
    assert found[0]["fix"].startswith(fix)


def test_lock_check_passes_a_lock_within_its_budget(make_project, capsys):
    root = make_project(BUDGET, {"requirements/lean.in": "pytest\n"})
    config = load_config(root)
    for cell in expand(config):
        _write_sized_lock(config, cell, 500_000)
    assert main(["lock", "-C", str(root), "--check"]) == 0
    assert "all 2 locks are fresh" in capsys.readouterr().out


def test_lock_check_gives_rm_r_as_the_fix_for_a_folder_in_a_locks_place(make_project, capsys):
    root = make_project(STATIC, {"requirements/lean.in": "pytest\n"})
    config = load_config(root)
    folder_cell, cell = list(expand(config))
    _write_lock(config, cell)
    lock_path(config, folder_cell).mkdir(parents=True)
    assert main(["lock", "-C", str(root), "--check"]) == 1
    captured = capsys.readouterr()
    shown = rows_path(folder_cell)
    assert (
        f"{shown}: unreadable: it is a folder, not a lock file; fix: rm -r {shown} "
        f"(then noxgrid lock {folder_cell.id})" in captured.out
    )
    assert f"fix: rm -r {shown}, then noxgrid lock {folder_cell.id} " in captured.err


def test_check_gives_rm_r_as_the_fix_for_a_folder_in_a_locks_place(make_project):
    root = make_project(STATIC, {"requirements/lean.in": "pytest\n"})
    config = load_config(root)
    folder_cell, cell = list(expand(config))
    _write_lock(config, cell)
    lock_path(config, folder_cell).mkdir(parents=True)
    (found,) = lock_findings(config, expand(config))
    shown = rows_path(folder_cell)
    assert found["fix"] == f"rm -r {shown} (then noxgrid lock {folder_cell.id})"
