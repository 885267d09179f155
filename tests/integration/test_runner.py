"""The process runner for real: streaming, timeouts and interrupts stop whole process groups."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from noxgrid.errors import CommandFailed
from noxgrid.tools.runner import Command, Runner

SPAWNER = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
open(sys.argv[1], "w").write(str(child.pid))
print("spawned", flush=True)
time.sleep(60)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it has exited all the same.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[1].split()[0] == "Z")


def wait_gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_output_is_streamed_and_kept_whole(monkeypatch):
    # Past the spool threshold the output lives in a temporary file: still every line.
    monkeypatch.setattr(Runner, "SPOOL_BYTES", 1000)
    lines: list[str] = []
    outcome = Runner().run(
        Command(argv=(sys.executable, "-c", "for i in range(20000): print(i)")), sink=lines.append
    )
    assert outcome.ok and len(lines) == 20000
    assert outcome.output.split() == [str(i) for i in range(20000)]
    assert outcome.tail(3).split() == ["19997", "19998", "19999"]


def test_invalid_utf8_and_control_characters_survive_as_text():
    script = "import sys; sys.stdout.buffer.write(b'ok \\xff\\xfe \\x1b[31mred\\x1b[0m\\x00\\n')"
    outcome = Runner().run(Command(argv=(sys.executable, "-c", script)))
    assert outcome.ok
    assert "\ufffd" in outcome.output and "\x1b[31m" in outcome.output


def test_environment_additions_reach_the_command():
    outcome = Runner().run(
        Command(
            argv=(sys.executable, "-c", "import os; print(os.environ['X'])"),
            env={"X": "from-noxgrid"},
        )
    )
    assert outcome.output.strip() == "from-noxgrid"


def test_timeout_stops_the_whole_process_group(tmp_path):
    pid_file = tmp_path / "child.pid"
    outcome = Runner().run(Command(argv=(sys.executable, "-c", SPAWNER, str(pid_file)), timeout=2))
    assert outcome.timed_out and not outcome.ok
    assert outcome.duration < 15
    assert wait_gone(int(pid_file.read_text())), "the grandchild outlived the timeout"
    with pytest.raises(CommandFailed, match="timed out after"):
        outcome.assert_success("spawner")


def test_a_missing_program_is_a_clear_error():
    with pytest.raises(CommandFailed) as info:
        Runner().run(Command(argv=("no-such-program-noxgrid",)))
    assert "could not start 'no-such-program-noxgrid'" in str(info.value)
    assert "fix: install no-such-program-noxgrid or put it on PATH" in str(info.value)


def test_sigterm_stops_a_running_cell_and_its_suite(tiny):
    pid_file = tiny / "suite.pid"
    (tiny / "tests" / "test_slow.py").write_text(
        "import os, time\n\n"
        "def test_slow():\n"
        f"    open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "    time.sleep(120)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "noxgrid", "run", "3.11-cpu-lean"],
        cwd=tiny,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while not pid_file.exists() and time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read().decode()
        time.sleep(0.2)
    suite_pid = int(pid_file.read_text())
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 130, output.decode()
    assert b"interrupted" in output
    assert wait_gone(suite_pid), "pytest kept running after noxgrid was terminated"
