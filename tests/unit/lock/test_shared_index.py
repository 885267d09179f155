"""The first resolution that asks the index runs alone; the others start when it has
ended, and then run beside each other."""

from __future__ import annotations

import threading
import time

import pytest

from noxgrid.lock.shared import SharedResolutions


def test_the_first_resolution_runs_alone_then_the_others_together():
    shared = SharedResolutions()
    events: list[tuple[str, str, float]] = []
    guard = threading.Lock()
    together = threading.Barrier(2, timeout=5)  # the two followers must overlap

    def call(name: str):
        def run() -> str:
            with guard:
                events.append((name, "start", time.monotonic()))
            if name == "first":
                time.sleep(0.2)
            else:
                together.wait()
            with guard:
                events.append((name, "end", time.monotonic()))
            return name

        return run

    results: dict[str, str] = {}
    first = threading.Thread(target=lambda: results.update(a=shared.to_index(call("first"))))
    first.start()
    time.sleep(0.05)  # the first has the index
    others = [
        threading.Thread(target=lambda n=n: results.update({n: shared.to_index(call(n))}))
        for n in ("second", "third")
    ]
    for thread in others:
        thread.start()
    for thread in (first, *others):
        thread.join(10)
    assert results == {"a": "first", "second": "second", "third": "third"}
    first_end = next(t for n, what, t in events if n == "first" and what == "end")
    starts = [t for n, what, t in events if n != "first" and what == "start"]
    assert len(starts) == 2 and all(t >= first_end for t in starts), events


def test_a_failed_first_resolution_lets_the_others_go():
    shared = SharedResolutions()

    def fails() -> str:
        raise RuntimeError("uv was interrupted")

    with pytest.raises(RuntimeError):
        shared.to_index(fails)
    done = threading.Event()
    thread = threading.Thread(target=lambda: (shared.to_index(lambda: "ok"), done.set()))
    thread.start()
    thread.join(5)
    assert done.is_set()
