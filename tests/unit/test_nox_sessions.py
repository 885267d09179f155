"""Session names that only look like a cell's select nothing (nox compares them as Python)."""

from __future__ import annotations

from noxgrid.model.declaration import load_config
from noxgrid.model.matrix import expand
from noxgrid.nox_sessions import not_cell_names, requested_sessions


def test_session_names_that_are_not_cells_are_refused(make_project):
    matrix = expand(load_config(make_project()))
    assert requested_sessions(["-s", "ci-lean-3.1(cpu)", "lint", "-j", "2"], {}) == [
        "ci-lean-3.1(cpu)",
        "lint",
    ]
    assert requested_sessions(["--sessions=ci-lean"], {}) == ["ci-lean"]
    assert requested_sessions([], {"NOXSESSION": "a,b"}) == ["a", "b"]
    assert not_cell_names(["ci-lean-3.1(cpu)", "ci-lean-3.1"], matrix) == [
        "ci-lean-3.1(cpu)",
        "ci-lean-3.1",
    ]
    exact = [
        "ci-lean-3.10(cpu)",
        "ci-lean",
        "ci-lean-3.10",
        "lint",
        "ci-lean-3.10(accelerator='cpu')",
    ]
    assert not_cell_names(exact, matrix) == []


def test_noxgrids_flags_are_taken_and_the_rest_reaches_the_suite():
    from noxgrid.nox_sessions import split_posargs

    assert split_posargs(["--no-docker", "-k", "slow"]) == (["--no-docker"], ["-k", "slow"])
    assert split_posargs(["-k", "slow", "--in-image"]) == (["--in-image"], ["-k", "slow"])
    assert split_posargs(["--no-docker", "--", "--no-docker"]) == (["--no-docker"], ["--no-docker"])
    assert split_posargs([]) == ([], [])


def test_a_group_runs_as_many_cells_at_once_as_nox_was_told():
    from noxgrid.nox_sessions import nox_jobs

    assert nox_jobs(["-s", "ci-lean"], {}) == 1
    assert nox_jobs(["-s", "ci-lean", "-j", "3"], {}) == 3
    assert nox_jobs(["--parallel=4", "-s", "ci-lean"], {}) == 4
    assert nox_jobs(["-j2"], {}) == 2
    assert nox_jobs(["-j", "auto"], {}) >= 1
    assert nox_jobs([], {"NOX_PARALLEL": "2"}) == 2
    # After `--` the arguments are the session's, not nox's.
    assert nox_jobs(["-s", "ci-lean", "--", "-j", "5"], {}) == 1
    # nox's child gets --parallel 1; the parent's value reaches it in the variable.
    assert nox_jobs(["--parallel", "1", "--parallel-worker"], {"NOXGRID_NOX_JOBS": "3"}) == 3
