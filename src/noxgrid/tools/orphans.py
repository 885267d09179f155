"""What a killed noxgrid leaves behind, and what keeps it from leaving more.

A noxgrid killed with SIGKILL runs no cleanup. Three things keep that from
leaving work running or lying around:

- every command gets SIGTERM when noxgrid dies (Linux: ``PR_SET_PDEATHSIG``,
  set in the child between fork and exec): its own process group, needed to
  stop it whole on a timeout, is out of reach of a signal to noxgrid's group;
- the temporary folders noxgrid makes carry its pid in their name
  (``noxgrid-lock-<pid>-...``); the next run removes those whose owner is dead;
- the containers noxgrid starts carry the label ``io.noxgrid.owner`` =
  ``<host>:<pid>``; the next run that uses Docker removes those of this host
  whose owner is dead (see :func:`dead_owner`).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

# The label on every container noxgrid starts: "<host>:<pid>" of the run that started it.
OWNER_LABEL = "io.noxgrid.owner"

# The kinds of temporary folders noxgrid makes (noxgrid-<kind>-<pid>-...).
FOLDER_KINDS = ("lock", "export", "audit")

_PR_SET_PDEATHSIG = 1


@functools.lru_cache(maxsize=1)
def _prctl() -> Callable[..., int] | None:
    """libc's prctl (Linux), loaded once; None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return function


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the child get SIGTERM when noxgrid dies (Linux), else None.

    The signal comes when the thread that started the child ends; the runner
    waits for the child in that thread, so that is when noxgrid dies. The
    child's own children are not covered: they get the pipe's end instead.
    """
    prctl = _prctl()
    if prctl is None:
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # noxgrid died before the line above
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def owner() -> str:
    """This run's owner label value: ``<host>:<pid>``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def alive(pid: int) -> bool:
    """True when a process ``pid`` exists (ours or another user's)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def dead_owner(value: str) -> bool:
    """True when ``<host>:<pid>`` names a run of this host that is gone."""
    host, _, pid = value.rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and not alive(int(pid))


def folder_prefix(kind: str, name: str = "") -> str:
    """The prefix of a temporary folder of ``kind`` owned by this run."""
    return f"noxgrid-{kind}-{os.getpid()}-" + (f"{name}-" if name else "")


@contextlib.contextmanager
def owned_folder(kind: str, name: str = "") -> Iterator[Path]:
    """A temporary folder whose name carries this run's pid; removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=folder_prefix(kind, name)) as folder:
        yield Path(folder)


_FOLDER = re.compile(rf"noxgrid-(?:{'|'.join(FOLDER_KINDS)})-(\d+)-")


def remove_dead_folders(root: Path | None = None) -> list[Path]:
    """Remove the temporary folders of runs that died (owner pid gone); the ones removed."""
    root = Path(root or tempfile.gettempdir())
    removed = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return []
    for entry in entries:
        match = _FOLDER.match(entry.name)
        if match is None or alive(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir() and not entry.is_symlink() and entry.stat().st_uid == os.getuid():
                shutil.rmtree(entry)
                removed.append(entry)
    return removed
