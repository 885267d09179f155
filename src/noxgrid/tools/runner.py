"""The one place where noxgrid starts a process.

Requests are argv lists (never a shell string). Output is streamed line by
line to an optional sink (a log file, the terminal) and kept whole (in a
temporary file once it grows), so whatever parses it sees every line; only
messages for people are cut to a tail. A timeout or Ctrl-C stops the whole
process group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar

from noxgrid.errors import CommandFailed, Interrupted
from noxgrid.tools.orphans import die_with_parent

LineSink = Callable[[str], None]


@dataclass(frozen=True, kw_only=True)
class Command:
    """What to run: argv, where, with which environment additions, for how long."""

    argv: tuple[str, ...]
    cwd: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = None
    inherit_env: bool = True
    # Runs even after an interrupt (removing a container noxgrid started).
    cleanup: bool = False

    def display(self) -> str:
        """The argv as one line a person could paste into a shell."""
        return " ".join(_quote(arg) for arg in self.argv)


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """How a command ended."""

    command: Command
    returncode: int
    duration: float
    output: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        """True when the command exited 0."""
        return self.returncode == 0 and not self.timed_out

    def tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines of the output: for people, never for parsing."""
        return "\n".join(self.output.strip().splitlines()[-lines:])

    def assert_success(self, what: str) -> Outcome:
        """Return self, or raise CommandFailed with the command and its output's tail."""
        if self.ok:
            return self
        reason = (
            f"timed out after {self.duration:.0f}s"
            if self.timed_out
            else f"exited with {self.returncode}"
        )
        tail = self.tail(60)
        raise CommandFailed(
            f"{what} failed: {self.command.display()} {reason}"
            + (f"\n{_indent(tail)}" if tail else ""),
            fix="read the output above; the command can be rerun as shown",
        )


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())


def _quote(arg: str) -> str:
    if arg and all(ch.isalnum() or ch in "-_./=:,+@%" for ch in arg):
        return arg
    return "'" + arg.replace("'", "'\"'\"'") + "'"


class Runner:
    """Starts processes. Pass a different one (a fake) to test what calls it.

    Each command runs in its own process group, so a timeout or an interrupt
    stops everything it started (pytest's xdist workers, a build's children);
    on Linux it also gets SIGTERM when noxgrid dies (even by SIGKILL), since a
    group of its own is out of reach of a signal to noxgrid's group.

    Once :meth:`stop_all` ran (an interrupt), every command that ends and every
    one asked for raise :class:`Interrupted` (cleanup commands excepted), so no
    stage starts after an interrupt and none takes the stop for a failure.
    """

    # Output beyond this many bytes goes to a temporary file rather than memory.
    SPOOL_BYTES = 4 * 2**20

    def __init__(self) -> None:
        self._live: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._interrupted = threading.Event()

    @property
    def interrupted(self) -> bool:
        """True once :meth:`stop_all` ran: nothing more may start."""
        return self._interrupted.is_set()

    def check(self) -> None:
        """Raise :class:`Interrupted` once noxgrid was interrupted (before a stage, a write)."""
        if self._interrupted.is_set():
            raise Interrupted("not started: noxgrid was interrupted")

    def stop_all(self) -> None:
        """Stop every command still running (other threads' too): used on interrupt.

        From now on no command starts (cleanup commands excepted)."""
        with self._lock:
            self._interrupted.set()
            live = list(self._live)
        for process in live:
            _stop(process)

    def run(self, command: Command, *, sink: LineSink | None = None) -> Outcome:
        """Run ``command`` to completion, streaming each output line to ``sink``."""
        if not command.cleanup:
            self.check()
        env = dict(os.environ) if command.inherit_env else {}
        env.update(command.env)
        start = time.perf_counter()
        try:
            process = subprocess.Popen(
                list(command.argv),
                cwd=command.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent(),
            )
        except OSError as exc:
            raise CommandFailed(
                f"could not start {command.argv[0]!r}: {exc.strerror or exc}",
                fix=f"install {Path(command.argv[0]).name} or put it on PATH",
            ) from exc
        with self._lock:
            self._live.add(process)
            late = self._interrupted.is_set() and not command.cleanup
        if late:  # stop_all ran between the check and the start: it missed this one
            _stop(process)
        kept = _Kept(self.SPOOL_BYTES)
        reader = threading.Thread(
            target=_pump, args=(process, kept, sink), daemon=True, name="noxgrid-output"
        )
        reader.start()
        timed_out = False
        try:
            if not _exited(process, command.timeout):
                timed_out = True
                _stop(process)
        except BaseException:
            _stop(process)
            kept.close()
            raise
        finally:
            reader.join(timeout=5)
            with self._lock:
                self._live.discard(process)
        output = kept.close()
        if self._interrupted.is_set() and not command.cleanup:
            took = time.perf_counter() - start
            raise Interrupted(f"interrupted after {took:.1f}s: {command.display()}")
        return Outcome(
            command=command,
            returncode=process.returncode,
            duration=time.perf_counter() - start,
            output=output,
            timed_out=timed_out,
        )


# Seconds an interrupted run waits for its work under way to record itself.
INTERRUPT_GRACE = 30.0

T = TypeVar("T")
R = TypeVar("R")


def in_parallel(
    runner: Runner, work: Callable[[T], R], items: Sequence[T], *, jobs: int, name: str
) -> list[R]:
    """``work`` of each item in ``jobs`` threads, results in the items' order.

    The main thread only waits, so it stays free to take Ctrl-C or SIGTERM:
    then the work not started is dropped, every command ``runner`` runs is
    stopped (and none starts after), and the work under way is waited for (at
    most ``INTERRUPT_GRACE`` seconds: it records itself as interrupted) before
    the interrupt goes on, so nothing it prints or writes comes after it.
    """
    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix=name)
    futures: list[Future[R]] = []
    try:
        futures = [pool.submit(work, item) for item in items]
        results = [future.result() for future in futures]
    except KeyboardInterrupt:
        runner.stop_all()
        pool.shutdown(wait=False, cancel_futures=True)
        wait(futures, timeout=INTERRUPT_GRACE)
        raise
    pool.shutdown()
    return results


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Inside this block SIGTERM raises KeyboardInterrupt, so cleanup runs.

    CI cancellation and ``nox -j`` stop a run with SIGTERM; Python's default
    would exit at once and leave the commands' process groups running.
    Only the main thread can install signal handlers; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Kept:
    """A command's whole output: in memory, then in a temporary file past ``limit`` bytes.

    The reader thread writes while the caller may already have stopped
    waiting (a grandchild holding the pipe open): writes after ``close`` are
    dropped instead of failing.
    """

    def __init__(self, limit: int) -> None:
        # Closed in close(): the file outlives this constructor by design.
        self._file: IO[bytes] | None = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=limit, mode="w+b"
        )
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self._lock:
            if self._file is not None:
                self._file.write(data)

    def close(self) -> str:
        """Everything written so far, as text (invalid UTF-8 replaced); frees the file."""
        with self._lock:
            if self._file is None:
                return ""
            self._file.seek(0)
            data = self._file.read()
            self._file.close()
            self._file = None
        return data.decode("utf-8", errors="replace")


def _pump(process: subprocess.Popen[bytes], kept: _Kept, sink: LineSink | None) -> None:
    """Copy every line of the output into ``kept`` (whole) and to ``sink``."""
    assert process.stdout is not None
    for raw in iter(process.stdout.readline, b""):
        kept.write(raw)
        if sink is not None:
            sink(raw.decode("utf-8", errors="replace"))
    process.stdout.close()


def _exited(process: subprocess.Popen[bytes], timeout: float | None) -> bool:
    """Wait for the process to exit, at most ``timeout`` seconds; True when it did.

    ``Popen.wait(timeout=...)`` polls with sleeps of up to 50 ms, so a command's
    end is seen 25 ms late on average; a thread blocked in ``waitpid`` sees it
    at once, and the wait for that thread is a lock, not a poll.
    """
    if timeout is None:
        process.wait()
        return True
    waiter = threading.Thread(target=process.wait, daemon=True, name="noxgrid-wait")
    waiter.start()
    waiter.join(timeout)
    return not waiter.is_alive()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the process group, then kill it if it lingers."""
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
