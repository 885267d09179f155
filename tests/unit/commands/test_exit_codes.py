"""A run's exit status is the table's (issue 23 §6): 1 when a cell failed a check, else
what stopped the cells: 3 an interpreter not found, 5 the index not reached."""

from __future__ import annotations

from noxgrid.commands.common import failed_exit_code
from noxgrid.model.matrix import Cell
from noxgrid.model.resolution import network_failure, offline_failure
from noxgrid.model.results import CellResult, StageResult, Status

# uv 0.13, UV_OFFLINE=1 and an empty cache: resolving, then installing.
OFFLINE_RESOLVE = """error: No solution found when resolving dependencies
  cause: Because iniconfig was not found in the cache and you require iniconfig, we can \
conclude that your requirements are unsatisfiable.

hint: Packages were unavailable because the network was disabled. When the network is \
disabled, registry packages may only be read from the cache.
"""
OFFLINE_INSTALL = """error: Failed to download `iniconfig==2.3.1`
  cause: Network connectivity is disabled, but the requested data wasn't found in the cache: \
https://files.pythonhosted.org/packages/iniconfig-2.3.1-py3-none-any.whl
"""


def failed(stage: str, code: int) -> CellResult:
    return CellResult(
        cell=Cell(python="3.11", accelerator="cpu", profile="lean"),
        stages=(
            StageResult(name="cell", status=Status.PASSED, duration=0.0),
            StageResult(name=stage, status=Status.FAILED, duration=0.0, exit_code=code),
            StageResult(name="suite", status=Status.SKIPPED, duration=0.0),
        ),
        started_at="2026-12-06T00:00:00Z",
        duration=0.1,
    )


def test_uv_offline_with_an_empty_cache_is_the_index_not_reached():
    for output in (OFFLINE_RESOLVE, OFFLINE_INSTALL):
        assert network_failure(output) and offline_failure(output)
    assert not offline_failure("error: Failed to fetch: `https://pypi.org/simple/x/`")


def test_a_run_exits_with_what_stopped_its_cells_unless_a_check_failed():
    assert failed_exit_code([failed("interpreter", 3)]) == 3
    assert failed_exit_code([failed("install", 5), failed("install", 5)]) == 5
    assert failed_exit_code([failed("interpreter", 3), failed("install", 5)]) == 5
    assert failed_exit_code([failed("interpreter", 3), failed("suite", 1)]) == 1
    assert failed_exit_code([failed("lock", 1)]) == 1
