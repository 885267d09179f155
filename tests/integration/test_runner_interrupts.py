"""The runner after an interrupt, for real: nothing starts, what runs is stopped and raises
Interrupted, the work under way records itself, and commands die with noxgrid."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from noxgrid.errors import Interrupted
from noxgrid.tools import orphans
from noxgrid.tools.runner import Command, Runner, in_parallel

SLEEP = (sys.executable, "-c", "import time; time.sleep(30)")
TRUE = (sys.executable, "-c", "pass")


def test_after_stop_all_nothing_starts_but_cleanup():
    runner = Runner()
    assert runner.run(Command(argv=TRUE)).ok
    runner.stop_all()
    assert runner.interrupted
    with pytest.raises(Interrupted, match="not started"):
        runner.run(Command(argv=TRUE))
    assert runner.run(Command(argv=TRUE, cleanup=True)).ok, "removing a container still runs"


def test_a_command_stopped_by_an_interrupt_raises_interrupted_not_an_exit_code():
    runner = Runner()
    caught: list[BaseException] = []

    def work() -> None:
        try:
            runner.run(Command(argv=SLEEP))
        except BaseException as exc:
            caught.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    while not runner._live:
        time.sleep(0.02)
    start = time.monotonic()
    runner.stop_all()
    thread.join(15)
    assert time.monotonic() - start < 10
    assert len(caught) == 1 and isinstance(caught[0], Interrupted), caught
    assert "interrupted after" in str(caught[0])


def test_in_parallel_waits_for_the_work_under_way_before_the_interrupt_goes_on():
    runner = Runner()
    ended: list[str] = []

    def work(item: int) -> int:
        if item == 0:
            raise KeyboardInterrupt  # stands for Ctrl-C reaching the main thread
        try:
            runner.run(Command(argv=SLEEP))
        except Interrupted:
            time.sleep(0.3)  # records itself as interrupted
            ended.append("recorded")
            raise
        return item

    def first_fails(item: int) -> int:
        if item == 0:
            while not runner._live:
                time.sleep(0.02)
        return work(item)

    with pytest.raises(KeyboardInterrupt):
        in_parallel(runner, first_fails, [0, 1], jobs=2, name="t")
    assert ended == ["recorded"], "the interrupt went on before the work recorded itself"


def test_children_get_sigterm_when_noxgrid_dies(tmp_path):
    """A parent that is SIGKILLed takes its runner's command with it (PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("Linux only")
    pid_file = tmp_path / "child.pid"
    child_code = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); " + (
        "time.sleep(60)"
    )
    script = (
        "import sys\n"
        "from noxgrid.tools.runner import Command, Runner\n"
        f"Runner().run(Command(argv=(sys.executable, '-c', {child_code!r})))\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 30
    while not (pid_file.exists() and pid_file.read_text()):
        assert time.monotonic() < deadline and parent.poll() is None
        time.sleep(0.05)
    child = int(pid_file.read_text())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while orphans.alive(child) and not _zombie(child):
        assert time.monotonic() < deadline, "the command outlived noxgrid"
        time.sleep(0.05)


def _zombie(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[1].split()[0] == "Z"
