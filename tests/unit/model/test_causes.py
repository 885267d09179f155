"""The line quoted as a failure's cause is the real one, and a full disk gets a fix."""

from __future__ import annotations

from noxgrid.cell.state import failure
from noxgrid.model.app import AppTarget, container_failure, load_failure
from noxgrid.model.diagnose import install_failure, suite_failure
from noxgrid.model.reason import failure_line

SQLALCHEMY = """\
INFO:     Started server process [1]
INFO:     Waiting for application startup.
ERROR:    Traceback (most recent call last):
  File "/app/.venv/lib/python3.11/site-packages/sqlalchemy/engine/base.py", line 145, in __init__
    self._dbapi_connection = engine.raw_connection()
sqlite3.OperationalError: unable to open database file

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/app/src/svc/db.py", line 12, in startup
    engine.connect()
sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) unable to open database file
(Background on this error at: https://sqlalche.me/e/20/e3q8)
"""
QUOTE = "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) unable to open database file"
FULL = "OSError: [Errno 28] No space left on device"


def test_an_app_that_crashes_at_start_is_quoted_by_its_exception():
    quote, _ = container_failure(SQLALCHEMY)
    assert quote == QUOTE


def test_an_app_that_does_not_load_keeps_its_fix_on_the_line():
    error = "OperationalError: (sqlite3.OperationalError) unable to open database file\n" + (
        "(Background on this error at: https://sqlalche.me/e/20/e3q8)"
    )
    target = AppTarget(module="svc.main", attribute="app", source="command")
    reason = load_failure(target, {"error": error}, profile="lean", requirements="r", cell="c")
    line = failure_line(reason + "\nTraceback ...")
    assert "unable to open database file; fix: read the traceback" in line
    assert "sqlalche.me" not in line


def test_a_full_disk_gets_a_fix_in_every_stage():
    for reason in (
        install_failure(f"error: Failed to install: {FULL}", 2, cell="c", requirements="r"),
        suite_failure(
            f"E   {FULL}\n=== 1 failed in 0.1s ===", 1, cell="c", profile="p", requirements="r"
        ),
        failure("docker build", 1, f"ERROR: write /var/lib/docker/x: {FULL}"),
    ):
        line = failure_line(reason)
        assert "No space left on device" in line, line
        assert "fix: free space on that disk: uv cache prune" in line, line
        assert "docker builder prune" in line
    _, fix = container_failure(f"Traceback ...\n{FULL}\n")
    assert fix.startswith("free space on that disk")


def test_a_stage_that_meets_a_full_disk_says_the_fix():
    import errno
    from types import SimpleNamespace

    from noxgrid.cell.progress import SilentProgress
    from noxgrid.cell.run import _run_stage
    from noxgrid.cell.state import Stage
    from noxgrid.model.matrix import Cell

    def full(_state: object) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    stage = Stage(name="venv", needs=(), adds=(), run=full, describe=lambda _: "venv")
    state = SimpleNamespace(
        cell=Cell(python="3.11", accelerator="cpu", profile="lean"),
        progress=SilentProgress(),
        logs={},
    )
    result = _run_stage(state, stage)  # type: ignore[arg-type]
    line = failure_line(result.detail)
    assert line.startswith("a disk is full (OSError: [Errno 28] No space left on device)")
    assert "; fix: free space on that disk" in line
