"""The suite stage's environment for a project whose code is its tree."""

from __future__ import annotations

from noxgrid.cell.progress import SilentProgress
from noxgrid.cell.state import CellRun
from noxgrid.cell.suite import code_path
from noxgrid.model.declaration import load_config
from noxgrid.model.matrix import Cell
from noxgrid.tools.runner import Runner

SERVICE = """
[tool.noxgrid]
python = ["3.11"]
[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
install-project = false
[tool.noxgrid.profile.full]
requirements = ["requirements/full.in"]
"""


def state(config, profile: str) -> CellRun:
    cell = Cell(python="3.11", accelerator="cpu", profile=profile)
    return CellRun(config=config, cell=cell, runner=Runner(), progress=SilentProgress(), env={})


def test_an_uninstalled_project_is_first_on_the_import_path(make_project):
    config = load_config(make_project(SERVICE))
    assert code_path(state(config, "lean"), "/srv", {}) == {"PYTHONPATH": "/srv"}
    assert code_path(state(config, "lean"), "/srv", {"PYTHONPATH": "/x"}) == {
        "PYTHONPATH": "/srv:/x"
    }
    assert code_path(state(config, "full"), "/srv", {}) == {}, "installed: nothing added"
