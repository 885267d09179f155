"""uv's failures told apart when a lock is refused (lock.steps.uv_failed)."""

from __future__ import annotations

import pytest

from noxgrid.errors import IndexUnavailable, LockRefused
from noxgrid.lock.steps import LockContext, LockOutcome, uv_failed
from noxgrid.model.declaration import load_config
from noxgrid.model.matrix import expand
from tests.unit.model.test_uvfailures import PINNED, PYTHON_DOWNLOAD, TORCH_INDEX

TORCH = """
[project]
name = "svc"
version = "0.1.0"
dependencies = []

[tool.noxgrid]
python = ["3.10"]
accelerators = ["cpu"]

[tool.noxgrid.accelerator.cpu]
torch-backend = "cpu"

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
"""


def _refused(root, output):
    config = load_config(root)
    cell = next(iter(expand(config)))
    context = LockContext(config=config, cell=cell, uv=None, index=None, uv_version="0.13.9")
    outcome = LockOutcome(cell=cell, path=root / "lock.toml")
    with pytest.raises(LockRefused):
        uv_failed(context, outcome, output, output)
    return outcome


def test_the_index_torch_backend_sends_uv_to_is_the_one_named(make_project):
    outcome = _refused(make_project(TORCH, {"requirements/lean.in": "torch\n"}), TORCH_INDEX)
    assert outcome.exit_code == IndexUnavailable.exit_code
    assert outcome.error.startswith(
        "uv could not reach download.pytorch.org (https://download.pytorch.org/whl/cpu/torch/) "
        'for 3.10-cpu-lean (torch-backend = "cpu" takes torch from PyTorch\'s index there)'
    )
    assert "pypi.org" not in outcome.error


def test_no_solution_for_the_cells_python_gets_noxgrids_fix(make_project):
    outcome = _refused(
        make_project(TORCH, {"requirements/lean.in": "numpy==2.3.0\n"}), PYTHON_DOWNLOAD + PINNED
    )
    assert outcome.exit_code == 1, "a Python download warning is not an unreachable index"
    assert outcome.error.endswith(
        '\n  fix: drop "3.10" from python in [tool.noxgrid] (or exclude its cells), or change '
        "the pin that excludes it: numpy==2.3.0 (numpy needs Python>=3.11)"
    )


def test_a_git_requirement_that_cannot_be_fetched_names_the_host_and_exits_5(make_project):
    from tests.unit.model.test_uvfailures import GIT_FETCH

    outcome = _refused(make_project(TORCH, {"requirements/lean.in": "numpy\n"}), GIT_FETCH)
    assert outcome.exit_code == IndexUnavailable.exit_code == 5
    assert outcome.error.startswith(
        "uv could not reach github.com (https://github.com/mindee/doctr.git/) for 3.10-cpu-lean;"
    )
    assert "torch-backend" not in outcome.error.splitlines()[0]
    assert outcome.error.endswith(
        "  fix: check the network (or proxy) for github.com, or pin a released version instead "
        "of `python-doctr @ git+https://github.com/mindee/doctr.git@main` (a git requirement is "
        "fetched with git, from that host), then run noxgrid lock again"
    )


def test_a_flat_layout_that_stops_the_projects_build_names_noxgrids_folder(make_project):
    from tests.unit.model.test_flatlayout import UV_OUTPUT

    outcome = _refused(make_project(TORCH, {"requirements/lean.in": "numpy\n"}), UV_OUTPUT)
    assert outcome.exit_code == 1
    assert outcome.error.startswith("uv could not resolve 3.10-cpu-lean:\n")
    assert outcome.error.splitlines()[-1].startswith(
        "  setuptools' automatic discovery found several top-level packages (lib3, docker): "
        "docker/ is the folder of noxgrid's Dockerfile (docker/Dockerfile), not a package; "
        "fix: git mv docker/Dockerfile Dockerfile"
    )
