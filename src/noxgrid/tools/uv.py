"""A thin object over the uv binary: create venvs and install into them."""

from __future__ import annotations

import functools
import os
import re
import shutil
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from noxgrid.errors import CommandFailed
from noxgrid.tools.runner import Command, LineSink, Outcome, Runner


@functools.lru_cache(maxsize=1)
def _find_uv() -> str:
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found,unused-ignore]

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which("uv")
    if found:
        return found
    raise CommandFailed(
        "uv was not found: neither the 'uv' Python package nor a uv binary on PATH",
        fix="pip install uv",
    )


# The lowest uv noxgrid works with (`uv pip compile --format pylock.toml`), as declared
# in pyproject.toml; a test installs it and runs a cell through it.
UV_FLOOR = (0, 6, 15)


def too_old(version_output: str) -> str | None:
    """Why the uv that printed ``version_output`` (``uv 0.6.14 (...)``) is too old, or None."""
    match = re.match(r"uv (\d+)\.(\d+)\.(\d+)", version_output.strip())
    if match is None:
        return None  # a build we cannot read: let uv itself speak
    found = tuple(int(part) for part in match.groups())
    if found >= UV_FLOOR:
        return None
    floor = ".".join(str(part) for part in UV_FLOOR)
    return f"{version_output.strip()} is older than uv {floor}, the lowest noxgrid works with"


_FIND_LOCK = threading.Lock()
_CACHE_DIRS: dict[tuple[str, str], Path] = {}


def find_uv() -> str:
    """The uv binary: the one shipped with the ``uv`` package, else the first on PATH.

    Looked up once, under a lock: the lookup reads sysconfig, whose lazy
    initialisation is not safe when several cells start at once.
    """
    with _FIND_LOCK:
        return _find_uv()


def uv_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment additions for every uv call.

    uv's interpreter downloads are off unless the user set UV_PYTHON_DOWNLOADS:
    noxgrid passes interpreters by path, and a download that cannot reach its
    host fails slowly and confusingly. uv's ``pylock`` preview feature is
    enabled, added to the user's UV_PREVIEW_FEATURES: every install reads a
    pylock.toml on purpose, and without it each one warns that the option is
    experimental (uv releases before preview features ignore the variable).
    """
    base = os.environ if base is None else base
    features = [part.strip() for part in base.get("UV_PREVIEW_FEATURES", "").split(",")]
    features = [part for part in features if part]
    if "pylock" not in features:
        features.append("pylock")
    return {
        "UV_PYTHON_DOWNLOADS": base.get("UV_PYTHON_DOWNLOADS", "never"),
        "UV_PREVIEW_FEATURES": ",".join(features),
    }


class Uv:
    """uv commands noxgrid needs, each a single argv through the runner."""

    def __init__(self, runner: Runner, binary: str | None = None) -> None:
        self.runner = runner
        self.binary = binary or find_uv()

    def _run(
        self, args: Sequence[str], *, cwd: Path | None, sink: LineSink | None, timeout: float
    ) -> Outcome:
        command = Command(argv=(self.binary, *args), cwd=cwd, env=uv_environment(), timeout=timeout)
        return self.runner.run(command, sink=sink)

    def checked_version(self) -> str:
        """``uv --version``'s answer; CommandFailed when this uv is older than noxgrid needs."""
        version = self.runner.run(Command(argv=(self.binary, "--version"))).output.strip()
        old = too_old(version)
        if old:
            raise CommandFailed(f"{self.binary}: {old}", fix="pip install -U uv")
        return version

    def cache_dir(self, env: Mapping[str, str], cwd: Path | None = None) -> Path:
        """uv's cache folder as uv itself resolves it (``UV_CACHE_DIR``, ``uv.toml``'s
        ``cache-dir``, the platform's default), asked once per folder."""
        if env.get("UV_CACHE_DIR"):
            return Path(env["UV_CACHE_DIR"])
        key = (self.binary, str(cwd))
        if key not in _CACHE_DIRS:
            outcome = self.runner.run(
                Command(argv=(self.binary, "cache", "dir"), cwd=cwd, env=uv_environment())
            )
            lines = outcome.output.strip().splitlines() if outcome.ok else []
            if lines and Path(lines[-1]).is_absolute():
                _CACHE_DIRS[key] = Path(lines[-1])
            else:  # uv did not say: its documented default
                base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
                return Path(base) / "uv"
        return _CACHE_DIRS[key]

    def create_venv(
        self, path: Path, interpreter: Path, *, sink: LineSink | None = None
    ) -> Outcome:
        """Create (or replace) a virtual environment at ``path`` from ``interpreter``."""
        return self._run(
            ["venv", "--clear", "--quiet", "--python", str(interpreter), str(path)],
            cwd=None,
            sink=sink,
            timeout=300,
        )

    def install(
        self,
        python: Path,
        *,
        requirements: Sequence[Path],
        editable: str | None = None,
        packages: Sequence[str] = (),
        cwd: Path | None = None,
        exact: bool = True,
        no_deps: bool = False,
        offline: bool = False,
        reinstall: Sequence[str] = (),
        sink: LineSink | None = None,
        timeout: float = 3600,
    ) -> Outcome:
        """Install requirement files, an editable project and named packages into one venv.

        ``exact`` removes what the inputs no longer ask for, so a reused venv
        is verified against its inputs, not trusted. ``offline`` answers from
        the cache alone (enough to verify a venv whose inputs did not change).
        No bytecode is compiled: the cell's processes write the .pyc of what they
        import into the venv (``noxgrid.model.bytecode``).
        ``reinstall``: packages installed (and built) again although present.
        """
        args = ["pip", "install", "--python", str(python)]
        if exact:
            args.append("--exact")
        if offline:
            args.append("--offline")
        if no_deps:
            args.append("--no-deps")
        for name in reinstall:
            args += ["--reinstall-package", name]
        for requirement in requirements:
            args += ["-r", str(requirement)]
        if editable is not None:
            args += ["-e", editable]
        args += list(packages)
        return self._run(args, cwd=cwd, sink=sink, timeout=timeout)

    def reinstall_last(
        self,
        python: Path,
        requirements: Path,
        name: str,
        *,
        cwd: Path | None = None,
        sink: LineSink | None = None,
        timeout: float = 3600,
    ) -> Outcome:
        """Install ``name`` again from ``requirements`` (its locked line, hashes required),
        without its dependencies, over what the venv holds: its files are then the ones on
        disk where another distribution wrote the same paths."""
        args = ["pip", "install", "--python", str(python), "--no-deps", "--require-hashes"]
        args += ["--only-binary", ":all:", "--reinstall-package", name]
        args += ["-r", str(requirements)]
        return self._run(args, cwd=cwd, sink=sink, timeout=timeout)

    def sync(
        self,
        python: Path,
        lock: Path,
        *,
        cwd: Path | None = None,
        sink: LineSink | None = None,
        timeout: float = 3600,
        reinstall: Sequence[str] = (),
        only_binary: Sequence[str] = (),
    ) -> Outcome:
        """Make the venv exactly ``lock``: every file's hash checked (no bytecode compiled:
        the cell's processes write what they import, ``noxgrid.model.bytecode``).

        ``reinstall``: packages to install again although their version matches
        (their files changed); ``only_binary``: packages (or ``:all:``) that may
        not be built from source.
        """
        args = [
            "pip",
            "sync",
            "--python",
            str(python),
            "--require-hashes",
        ]
        for name in reinstall:
            args += ["--reinstall-package", name]
        for name in only_binary:
            args += ["--only-binary", name]
        args.append(str(lock))
        return self._run(args, cwd=cwd, sink=sink, timeout=timeout)
