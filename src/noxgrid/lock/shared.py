"""Resolutions shared between cells: cells whose inputs resolve the same way are
resolved once.

Two cells resolve the same way when uv is asked the same thing: the same
arguments (python, platform, indexes, only-binary names), the same input files
after the accelerator's swaps, the same uv settings and the same preferred pins.
The torch backend is the one argument left out of that key: it only says where
torch's family comes from, so a resolution without any of those packages is the
same for every backend (the lean cells of cpu and gpu); one with them is made
again for each backend.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from noxgrid.model.lockfile import parse_lock

T = TypeVar("T")

# What uv's torch backend decides the source of (torch and what its builds bring).
TORCH_FAMILY = ("torch", "pytorch-", "triton", "nvidia-", "xformers", "fbgemm", "executorch")


def resolution_key(args: Sequence[str], workdir: Path) -> tuple[str, str]:
    """(the key of what uv is asked, without the torch backend; the backend)."""
    digest = hashlib.sha256()
    backend = ""
    skip = False
    for arg in args:
        if skip:
            backend, skip = arg, False
            continue
        if arg == "--torch-backend":
            skip = True
            continue
        if arg.startswith(str(workdir)):
            arg = "<workdir>" + arg[len(str(workdir)) :]
        digest.update(arg.encode() + b"\0")
    for path in sorted(p for p in workdir.rglob("*") if p.is_file()):
        digest.update(path.relative_to(workdir).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest(), backend


def torch_free(body: str) -> bool:
    """True when a resolution holds none of the packages the torch backend chooses."""
    return not any(name.startswith(TORCH_FAMILY) for name in parse_lock(body).packages)


@dataclass
class _Entry:
    done: threading.Event = field(default_factory=threading.Event)
    bodies: dict[str, str] = field(default_factory=dict)


@dataclass
class SharedResolutions:
    """uv's answers by key, for the cells of one ``noxgrid lock`` run."""

    entries: dict[str, _Entry] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    shared: int = 0
    led: bool = False  # a resolution has gone to the index first
    warmed: threading.Event = field(default_factory=threading.Event)

    def to_index(self, call: Callable[[], T]) -> T:
        """Run ``call``, a resolution that asks the index: the first of the run alone,
        the others once it has ended (concurrently with each other).

        Cells mostly share their packages: two cold resolutions at once download the
        same pages twice and compete with the first cell's sizing for the link, while
        one that starts after the first finds uv's cache filled (measured on two cells
        of 212 packages: the second took 7.2 s beside the first, 2.0 s after it, while
        the first cell's sizes were asked; benchmarks/bench_lock_cold.py).
        """
        with self.lock:
            leader, self.led = not self.led, True
        if leader:
            try:
                return call()
            finally:
                self.warmed.set()
        self.warmed.wait()
        return call()

    def resolve(self, key: str, backend: str, compute: Callable[[], str]) -> tuple[str, bool]:
        """(uv's output for ``key``, whether it was another cell's): ``compute`` runs only
        when no cell resolved the same inputs, or the answer depends on the backend."""
        with self.lock:
            entry = self.entries.get(key)
            owner = entry is None
            if entry is None:
                entry = self.entries[key] = _Entry()
        if owner:
            try:
                body = compute()
                entry.bodies[backend] = body
                return body, False
            finally:
                entry.done.set()
        entry.done.wait()
        found = entry.bodies.get(backend)
        if found is None:
            first = next(iter(entry.bodies.values()), None)
            if first is not None and torch_free(first):
                found = first
        if found is not None:
            with self.lock:
                self.shared += 1
            return found, True
        body = compute()  # the owner failed, or torch's family is in it: this cell's own
        entry.bodies.setdefault(backend, body)
        return body, False
