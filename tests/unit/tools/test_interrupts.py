"""What an interrupt is, and what a killed run leaves behind: its folders and containers
are found by their owner and removed when the owner is dead."""

from __future__ import annotations

import os
import socket

from noxgrid.errors import Interrupted, NoxgridError
from noxgrid.tools import orphans
from noxgrid.tools.docker import Client, Docker
from noxgrid.tools.runner import Command, Outcome, Runner

# Above Linux's PID_MAX_LIMIT (and any other system's): no process has it.
DEAD = 4_194_305


def test_an_interrupt_is_no_failure_any_handler_takes():
    assert issubclass(Interrupted, KeyboardInterrupt)
    assert not issubclass(Interrupted, (NoxgridError, Exception))


def test_folders_of_dead_runs_are_removed_and_others_kept(tmp_path):
    gone = tmp_path / f"noxgrid-lock-{DEAD}-3.11-cpu-lean-abc"
    mine = tmp_path / f"{orphans.folder_prefix('lock', '3.11-cpu-lean')}xyz"
    other = tmp_path / "noxgrid-lock-3.11-cpu-lean-abc"  # no owner recorded: not ours to judge
    unrelated = tmp_path / f"pip-{DEAD}-x"
    for folder in (gone, mine, other, unrelated):
        (folder / "sub").mkdir(parents=True)
    assert orphans.remove_dead_folders(tmp_path) == [gone]
    assert not gone.exists() and mine.is_dir() and other.is_dir() and unrelated.is_dir()


def test_owned_folder_names_this_run():
    with orphans.owned_folder("lock", "3.11-cpu-lean") as folder:
        assert folder.name.startswith(f"noxgrid-lock-{os.getpid()}-3.11-cpu-lean-")
        assert folder.is_dir()
    assert not folder.exists()


def test_dead_owner_only_on_this_host():
    host = socket.gethostname()
    assert orphans.dead_owner(f"{host}:{DEAD}")
    assert not orphans.dead_owner(orphans.owner())
    assert not orphans.dead_owner(f"elsewhere.example:{DEAD}"), "another host's run"
    assert not orphans.dead_owner("garbage")


class Recording(Runner):
    def __init__(self, output: str = "") -> None:
        super().__init__()
        self.commands: list[Command] = []
        self.output = output

    def run(self, command: Command, *, sink=None) -> Outcome:  # type: ignore[no-untyped-def]
        self.commands.append(command)
        return Outcome(command=command, returncode=0, duration=0.0, output=self.output)


def test_containers_carry_their_owner_and_dead_owners_are_removed():
    host = socket.gethostname()
    listing = f"noxgrid-a {host}:{DEAD}\nnoxgrid-b {orphans.owner()}\nnoxgrid-c elsewhere:{DEAD}\n"
    runner = Recording(listing)
    docker = Docker(runner, Client(path="docker", buildx=True))
    docker.run_detached("img", name="n", port=80, env={}, labels={"io.noxgrid.smoke": "c"})
    assert f"io.noxgrid.owner={orphans.owner()}" in runner.commands[-1].argv
    assert docker.remove_orphans() == ["noxgrid-a"]
    removal = runner.commands[-1]
    assert removal.argv[1:] == ("rm", "-f", "noxgrid-a") and removal.cleanup
