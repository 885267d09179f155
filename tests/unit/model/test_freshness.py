"""A lock goes stale only on what it depends on, says which input moved, and a lock whose
cell left the matrix is named (model.freshness)."""

from __future__ import annotations

from noxgrid.model.declaration import load_config
from noxgrid.model.freshness import (
    DIGESTS_KEY,
    STATE_DETAILS,
    changed_inputs,
    format_input_digests,
    lock_state,
    orphaned_locks,
    parse_input_digests,
)
from noxgrid.model.inputs import input_digests, inputs_digest
from noxgrid.model.lockfile import lock_path, seal
from noxgrid.model.matrix import Cell, expand
from tests.unit.cell.test_run import pylock_text

BACKEND = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[tool.noxgrid]
python = ["3.10", "3.11"]
accelerators = ["cpu"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]

[tool.noxgrid.docker]
dockerfile = "Dockerfile"
"""

SETUP_CFG = """[metadata]
name = svc

[options]
install_requires =
    fastapi
"""

STATIC = """
[project]
name = "svc"
version = "0.1.0"
description = "a service"
dependencies = ["fastapi"]

[tool.noxgrid]
python = ["3.10", "3.11"]
accelerators = ["cpu"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]

[tool.noxgrid.docker]
dockerfile = "Dockerfile"
"""


def _write_lock(config, cell, *, with_digests=True):
    known = cell.profile in config.profiles
    digest = inputs_digest(config, cell)[0] if known else "0" * 64
    header = [("inputs-sha256", digest)]
    if with_digests and known:
        header.append((DIGESTS_KEY, format_input_digests(input_digests(config, cell))))
    path = lock_path(config, cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(seal(pylock_text(cell, "pytest==8.0.0\n", header)))
    return path


def _cell(config):
    return next(iter(expand(config)))


def _edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_backend_project_lock_stays_fresh_on_docker_and_comment_edits(make_project):
    root = make_project(BACKEND, {"requirements/lean.in": "pytest\n", "setup.cfg": SETUP_CFG})
    config = load_config(root)
    cell = _cell(config)
    _write_lock(config, cell)
    _edit(root / "pyproject.toml", '"Dockerfile"', '"docker/Dockerfile"')
    _edit(root / "pyproject.toml", "[tool.noxgrid.docker]", "# the image\n[tool.noxgrid.docker]")
    _edit(root / "setup.cfg", "[options]", "# what it needs\n[options]")
    assert lock_state(load_config(root), cell).state == "fresh"
    _edit(root / "setup.cfg", "    fastapi", "    fastapi<1")
    state = lock_state(load_config(root), cell)
    assert state.state == "stale"
    assert state.detail == "its inputs changed since it was written: setup.cfg (build metadata)"


def test_static_project_counts_its_dependencies_only(make_project):
    root = make_project(STATIC, {"requirements/lean.in": "pytest\n"})
    config = load_config(root)
    cell = _cell(config)
    _write_lock(config, cell)
    _edit(root / "pyproject.toml", '"Dockerfile"', '"docker/Dockerfile"')
    _edit(root / "pyproject.toml", '"a service"', '"an API"  # shown on PyPI')
    assert lock_state(load_config(root), cell).state == "fresh"
    _edit(root / "pyproject.toml", '["fastapi"]', '["fastapi", "numpy"]')
    _edit(root / "requirements/lean.in", "pytest", "pytest<9")
    state = lock_state(load_config(root), cell)
    assert state.state == "stale"
    assert state.detail.endswith(": requirements/lean.in, [project] dependencies and extras")


def test_an_older_lock_without_digests_reads_as_before(make_project):
    root = make_project(STATIC, {"requirements/lean.in": "pytest\n"})
    config = load_config(root)
    cell = _cell(config)
    _write_lock(config, cell, with_digests=False)
    _edit(root / "requirements/lean.in", "pytest", "pytest<9")
    state = lock_state(load_config(root), cell)
    assert (state.state, state.detail) == ("stale", STATE_DETAILS["stale"])


def test_input_digests_round_trip_and_name_new_and_dropped_inputs():
    parts = {"python": "ab12", "requirements/a=b.in": "cd34", "setup.py (build metadata)": "ef"}
    assert parse_input_digests(format_input_digests(parts)) == parts
    now = {"python": "ab12", "requirements/new.in": "99"}
    assert changed_inputs(parts, now) == [
        "requirements/new.in (new)",
        "requirements/a=b.in (no longer an input)",
        "setup.py (build metadata) (no longer an input)",
    ]


def test_a_lock_whose_python_left_the_axis_is_named_with_its_removal(make_project):
    root = make_project(STATIC, {"requirements/lean.in": "pytest\n"})
    config = load_config(root)
    old = Cell(python="3.9", accelerator="cpu", profile="lean")
    path = _write_lock(config, old)
    _write_lock(config, Cell(python="3.10", accelerator="cpu", profile="lean"))
    (path.parent / "pylock.other.toml").write_text('lock-version = "1.0"\n')  # not noxgrid's
    (path.parent / "notes.txt").write_text("kept\n")
    orphans = orphaned_locks(config)
    assert [(o.cell, o.reason) for o in orphans] == [
        ("3.9-cpu-lean", "python 3.9 is no longer on the python axis")
    ]
    assert orphans[0].fix(root) == (
        "rm requirements/locks/pylock.py39-cpu-lean.toml (or noxgrid lock --prune)"
    )


def test_an_excluded_cell_or_a_removed_profile_is_said_so(make_project):
    root = make_project(
        STATIC.replace('["cpu"]', '["cpu"]\nexclude = [{python = "3.10"}]'),
        {"requirements/lean.in": "pytest\n"},
    )
    config = load_config(root)
    _write_lock(config, Cell(python="3.10", accelerator="cpu", profile="lean"))
    _write_lock(config, Cell(python="3.11", accelerator="cpu", profile="full"))
    reasons = {o.cell: o.reason for o in orphaned_locks(config)}
    assert reasons == {
        "3.10-cpu-lean": "the cell is excluded ([tool.noxgrid] exclude)",
        "3.11-cpu-full": "profile 'full' is no longer declared",
    }


def test_a_backend_lock_from_before_input_digests_stays_fresh_until_its_files_change(
    make_project,
):
    root = make_project(BACKEND, {"requirements/lean.in": "pytest\n", "setup.cfg": SETUP_CFG})
    config = load_config(root)
    cell = _cell(config)
    path = lock_path(config, cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = [("inputs-sha256", inputs_digest(config, cell, legacy=True)[0])]
    path.write_text(seal(pylock_text(cell, "pytest==8.0.0\n", header)))
    assert inputs_digest(config, cell, legacy=True) != inputs_digest(config, cell)
    assert lock_state(config, cell).state == "fresh"
    _edit(root / "setup.cfg", "[options]", "# what it needs\n[options]")
    state = lock_state(load_config(root), cell)
    assert (state.state, state.detail) == ("stale", STATE_DETAILS["stale"])


def test_files_setuptools_reads_dependencies_from_are_inputs(make_project):
    dynamic = BACKEND.replace(
        "[tool.noxgrid]",
        '[project]\nname = "svc"\nversion = "0.1"\ndynamic = ["dependencies"]\n\n'
        '[tool.setuptools.dynamic]\ndependencies = { file = ["deps/base.txt"] }\n\n'
        "[tool.noxgrid]",
    )
    root = make_project(dynamic, {"requirements/lean.in": "pytest\n", "deps/base.txt": "six\n"})
    config = load_config(root)
    cell = _cell(config)
    _write_lock(config, cell)
    (root / "deps/base.txt").write_text("six>=1.16\n")
    state = lock_state(load_config(root), cell)
    assert state.detail.endswith(": deps/base.txt (build metadata)")
