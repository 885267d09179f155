"""Unit tests cover the pure core: any attempt to start a process fails the test."""

from __future__ import annotations

import os
import subprocess

import pytest


class ProcessStarted(AssertionError):
    """A unit test tried to start a process."""


def _tripwire(*args: object, **kwargs: object) -> None:
    argv = [arg for arg in args if not isinstance(arg, subprocess.Popen)]
    raise ProcessStarted(f"a unit test started a process: {argv[:1]!r}")


@pytest.fixture(autouse=True)
def no_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every way of starting a process raise."""
    monkeypatch.setattr(subprocess.Popen, "__init__", _tripwire)
    monkeypatch.setattr(os, "system", _tripwire)
    for name in ("execv", "execve", "execvp", "execvpe", "posix_spawn", "posix_spawnp", "fork"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, _tripwire)
