"""Interrupts for real: signals to a real ``python -m noxgrid`` on a small project.

An interrupt stops the run: no stage starts after it, the cells it stopped are
recorded as interrupted (not failed), the output says "interrupted" once and
nothing after it, and a noxgrid killed outright leaves no command running and
no work folder behind for long.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import lock
from tests.integration.test_runner import wait_gone

NO_DOCKER = {"NOXGRID_NO_DOCKER": "1", "NOXGRID_GPU": "0", "PYTHONUNBUFFERED": "1"}


def start(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``python -m noxgrid ARGS`` in ``root``, in a session of its own (so its group can
    be killed), output merged."""
    merged = {**os.environ, **NO_DOCKER, **(env or {})}
    merged.pop("NOX_CURRENT_SESSION", None)
    return subprocess.Popen(
        [sys.executable, "-m", "noxgrid", *args],
        cwd=root,
        env=merged,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_for(path: Path, process: subprocess.Popen[str], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not (path.exists() and path.read_text()):
        if process.poll() is not None:
            raise AssertionError(process.communicate()[0])
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


SLOW_TEST = """
import os, pathlib, time

def test_slow():
    cell = os.environ["NOXGRID_CELL"]
    pathlib.Path({folder!r}, cell + ".started").write_text(str(os.getpid()))
    time.sleep(120)
"""


@pytest.mark.parametrize("released", [True, False], ids=["lock-released", "lock-held"])
def test_sigterm_during_a_parallel_run_starts_nothing_and_records_interrupted(
    tiny, tmp_path, released
):
    marks = tmp_path / "marks"
    marks.mkdir()
    (tiny / "tests" / "test_tiny.py").unlink()
    (tiny / "tests" / "test_slow.py").write_text(
        textwrap.dedent(SLOW_TEST.format(folder=str(marks)))
    )
    # 3.10 waits for its cell lock (held here, by "another run") while 3.11 runs its
    # suite: when the signal comes, 3.10 runs no command. Released a second after the
    # signal, 3.10 must start nothing; held to the end, 3.10 must stop waiting.
    venvs = tiny / ".noxgrid" / "venvs"
    venvs.mkdir(parents=True, exist_ok=True)
    with (venvs / ".3.10-cpu-lean.lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        process = start(tiny, "run", "3.10-cpu-lean", "3.11-cpu-lean", "-j", "2")
        wait_for(marks / "3.11-cpu-lean.started", process)
        suite_pid = int((marks / "3.11-cpu-lean.started").read_text())
        process.send_signal(signal.SIGTERM)
        if released:
            time.sleep(1.0)
            fcntl.flock(held, fcntl.LOCK_UN)
        try:
            output, _ = process.communicate(timeout=45)
        except subprocess.TimeoutExpired:  # work went on after the interrupt
            os.killpg(process.pid, signal.SIGKILL)
            output = process.communicate()[0] + "\n(killed: still running 45s after SIGTERM)"
    late = marks / "3.10-cpu-lean.started"
    if late.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.killpg(int(late.read_text() or 0), signal.SIGKILL)
    assert not late.exists(), f"a suite started after the interrupt:\n{output}"
    assert process.returncode == 130, output
    assert wait_gone(suite_pid), "pytest kept running after noxgrid was terminated"
    assert output.count("interrupted") >= 1 and output.rstrip().endswith("noxgrid: interrupted")
    assert output.count("noxgrid: interrupted") == 1, output
    reports = tiny / ".noxgrid" / "reports"
    stopped = json.loads((reports / "3.11-cpu-lean.json").read_text())
    assert stopped["status"] == "interrupted", stopped
    suite = next(stage for stage in stopped["stages"] if stage["name"] == "suite")
    assert suite["status"] == "interrupted" and "exited with -15" not in suite["detail"]
    waiting = json.loads((reports / "3.10-cpu-lean.json").read_text())
    assert waiting["status"] == "interrupted", waiting
    assert {stage["status"] for stage in waiting["stages"]} == {"interrupted"}
    junit = ET.parse(reports / "3.11-cpu-lean.xml").getroot()
    errors = [case for case in junit.iter("testcase") if case.find("error") is not None]
    assert [case.get("name") for case in errors] == ["suite"]
    assert junit.find(".//failure") is None


@pytest.fixture
def stalling_index() -> Iterator[str]:
    """An index that accepts connections and never answers: uv waits on it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/simple"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


def stalled_project(tmp_path: Path, index: str | None) -> Path:
    """Two cells whose index is ``index`` (None: the default index)."""
    root = tmp_path / "proj"
    (root / "requirements").mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""
            [project]
            name = "stalled"
            version = "0.1.0"

            [tool.noxgrid]
            python = ["3.10", "3.11"]
            accelerators = ["cpu"]
            {f'index-url = "{index}"' if index else ""}

            [tool.noxgrid.profile.lean]
            requirements = ["requirements/lean.in"]
            """
        )
    )
    (root / "requirements" / "lean.in").write_text("six\n")
    return root


def uv_processes(marker: str) -> list[int]:
    """Pids of the processes whose command line holds ``marker`` (the stalling index)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(marker.encode() in word for word in words) and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found


def wait_uv(marker: str, process: subprocess.Popen[str], count: int) -> list[int]:
    deadline = time.monotonic() + 60
    while len(pids := uv_processes(marker)) < count:
        if process.poll() is not None:
            raise AssertionError(process.communicate()[0])
        assert time.monotonic() < deadline, "uv never started"
        time.sleep(0.1)
    time.sleep(0.5)  # uv under way, waiting on the index
    return pids


def test_sigint_during_lock_says_interrupted_once_and_writes_nothing(tmp_path, stalling_index):
    root = stalled_project(tmp_path, None)
    lock(root)
    locks = root / "requirements" / "locks"
    before = {path.name: path.read_bytes() for path in locks.iterdir()}
    assert len(before) == 2
    stalled_project(tmp_path, stalling_index)
    process = start(root, "lock", "--refresh")  # to the index, not from uv's cache
    # The first cell's resolution asks the index alone; the other waits for it to end.
    pids = wait_uv(stalling_index, process, 1)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    assert all(wait_gone(pid) for pid in pids), "uv kept running after the interrupt"
    assert output.count("interrupted") == 1, output
    assert output.rstrip().endswith("noxgrid: interrupted"), output
    for word in ("crashed", "could not resolve", "wrote", "bug"):
        assert word not in output, output
    assert {path.name: path.read_bytes() for path in locks.iterdir()} == before, "locks intact"


def test_sigkill_leaves_no_command_running_and_the_next_run_removes_its_folders(
    tmp_path, stalling_index
):
    root = stalled_project(tmp_path, stalling_index)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {"TMPDIR": str(temporary)}
    process = start(root, "lock", env=env)
    pids = wait_uv(stalling_index, process, 1)
    left = sorted(path.name for path in temporary.iterdir() if path.name.startswith("noxgrid-"))
    assert left, "locking works in temporary folders"
    os.killpg(process.pid, signal.SIGKILL)  # noxgrid's group: its commands have their own
    process.communicate(timeout=30)
    assert all(wait_gone(pid) for pid in pids), "uv kept running after noxgrid was killed"
    assert all((temporary / name).is_dir() for name in left), "SIGKILL runs no cleanup"
    # The next run removes the folders of the run that died before it starts its own.
    again = start(root, "lock", env=env)
    wait_uv(stalling_index, again, 1)
    assert not any((temporary / name).exists() for name in left), sorted(temporary.iterdir())
    again.send_signal(signal.SIGINT)
    again.communicate(timeout=60)
