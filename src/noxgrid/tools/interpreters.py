"""Find a Python interpreter for a cell's version without starting a process.

Looks, in order, at: an explicit override (``NOXGRID_PYTHON_3_10`` in the
environment, or ``[tool.noxgrid.interpreters]``), ``pythonX.Y`` on PATH
(skipping pyenv's shims, which answer only for pyenv's global version),
pyenv's versions folder, and the interpreters uv manages. When none fits,
the error says what was found and where it looked.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from noxgrid.errors import InterpreterNotFound, NoxgridError
from noxgrid.tools.runner import Command, Runner

_PATCH = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
_UV_NAME = re.compile(r"^cpython-(\d+)\.(\d+)\.(\d+)-")


@dataclass(frozen=True, kw_only=True)
class _Candidate:
    path: Path
    source: str
    patch: tuple[int, int, int] | None


def _in_a_venv(folder: Path, env: Mapping[str, str]) -> bool:
    """True for a virtual environment's scripts folder (the active one's or any other)."""
    active = env.get("VIRTUAL_ENV")
    if active and folder.resolve() == (Path(active) / "bin").resolve():
        return True
    return (folder.parent / "pyvenv.cfg").is_file()


def _on_path(
    version: str, path_dirs: list[Path], pyenv: Path, env: Mapping[str, str]
) -> list[_Candidate]:
    """``pythonX.Y`` on PATH: pyenv's shims and virtual environments left out."""
    shims = (pyenv / "shims").resolve()
    found = []
    for folder in path_dirs:
        if folder.resolve() == shims or _in_a_venv(folder, env):
            continue
        candidate = folder / f"python{version}"
        if _executable(candidate):
            found.append(_Candidate(path=candidate, source="PATH", patch=None))
    return found


def probe_version(path: Path) -> tuple[int, int, int] | None:
    """An interpreter's own version (it is run once, with -I)."""
    return _probe(str(path))


@functools.lru_cache(maxsize=64)
def _probe(path: str) -> tuple[int, int, int] | None:
    script = "import sys; print('%d.%d.%d' % sys.version_info[:3])"
    try:
        outcome = Runner().run(Command(argv=(path, "-I", "-c", script), timeout=30))
    except NoxgridError:
        return None
    match = _PATCH.match(outcome.output.strip().splitlines()[-1] if outcome.output else "")
    if not outcome.ok or match is None:
        return None
    major, minor, micro = (int(part) for part in match.groups())
    return major, minor, micro


def _choose(
    version: str,
    candidates: list[_Candidate],
    probe: Callable[[Path], tuple[int, int, int] | None],
) -> Interpreter:
    """The newest patch release among the candidates (PATH first among equals)."""
    unique: dict[Path, _Candidate] = {}
    for candidate in candidates:
        unique.setdefault(candidate.path.resolve(), candidate)
    found = list(unique.values())
    if len(found) == 1:
        only = found[0]
        return Interpreter(version=version, path=only.path, source=only.source)
    known = [
        _Candidate(path=c.path, source=c.source, patch=c.patch or probe(c.path)) for c in found
    ]
    order = {id(candidate): index for index, candidate in enumerate(known)}
    best = max(known, key=lambda c: (c.patch or (0, 0, 0), -order[id(c)]))
    others = ", ".join(
        f"{c.source} {'.'.join(map(str, c.patch)) if c.patch else '?'}" for c in known
    )
    patch = ".".join(map(str, best.patch)) if best.patch else "?"
    return Interpreter(
        version=version,
        path=best.path,
        source=f"{best.source}: {patch}, the newest of {len(known)} found ({others})",
    )


@dataclass(frozen=True, kw_only=True)
class Interpreter:
    """A found interpreter: its version (as asked), its path, and where it came from."""

    version: str
    path: Path
    source: str


def override_variable(version: str) -> str:
    """``3.10`` -> ``NOXGRID_PYTHON_3_10``."""
    return "NOXGRID_PYTHON_" + version.replace(".", "_")


def pyenv_root(env: Mapping[str, str]) -> Path:
    """Where pyenv keeps its versions."""
    return Path(env.get("PYENV_ROOT") or Path.home() / ".pyenv")


def uv_python_dir(env: Mapping[str, str]) -> Path:
    """Where uv keeps the interpreters it installs: ``UV_PYTHON_INSTALL_DIR``, else what
    ``uv python dir`` answers (asked once), else uv's documented default."""
    if env.get("UV_PYTHON_INSTALL_DIR"):
        return Path(env["UV_PYTHON_INSTALL_DIR"])
    asked = _asked_uv_python_dir()
    if asked is not None:
        return asked
    data = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "uv" / "python"


@functools.lru_cache(maxsize=1)
def _asked_uv_python_dir() -> Path | None:
    from noxgrid.errors import CommandFailed
    from noxgrid.tools.uv import find_uv

    try:
        outcome = Runner().run(Command(argv=(find_uv(), "python", "dir"), timeout=30))
    except (CommandFailed, OSError):
        return None
    lines = outcome.output.strip().splitlines() if outcome.ok else []
    return Path(lines[-1]) if lines and Path(lines[-1]).is_absolute() else None


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _pyenv_versions(root: Path) -> list[tuple[tuple[int, int, int], Path]]:
    found = []
    versions = root / "versions"
    if versions.is_dir():
        for entry in versions.iterdir():
            match = _PATCH.match(entry.name)
            if match:
                key = (int(match[1]), int(match[2]), int(match[3]))
                found.append((key, entry / "bin" / f"python{match[1]}.{match[2]}"))
    return sorted(found, reverse=True)


def _uv_versions(root: Path) -> list[tuple[tuple[int, int, int], Path]]:
    found = []
    if root.is_dir():
        for entry in root.iterdir():
            match = _UV_NAME.match(entry.name)
            if match and "freethreaded" not in entry.name:
                key = (int(match[1]), int(match[2]), int(match[3]))
                found.append((key, entry / "bin" / f"python{match[1]}.{match[2]}"))
    return sorted(found, reverse=True)


def _override(
    version: str, overrides: Mapping[str, Path] | None, env: Mapping[str, str]
) -> Interpreter | None:
    """NOXGRID_PYTHON_X_Y, else ``[tool.noxgrid.interpreters]``: taken as given."""
    variable = override_variable(version)
    if env.get(variable):
        path = Path(env[variable])
        if not _executable(path):
            raise InterpreterNotFound(
                f"{variable}={path} is not an executable file",
                fix=f"point {variable} at a Python {version} interpreter, or unset it",
            )
        return Interpreter(version=version, path=path, source=variable)
    if overrides and version in overrides:
        path = overrides[version]
        if not _executable(path):
            raise InterpreterNotFound(
                f'[tool.noxgrid.interpreters] "{version}" = "{path}" is not an executable file',
                fix="correct that path, or remove the entry to let noxgrid search",
            )
        return Interpreter(version=version, path=path, source="[tool.noxgrid.interpreters]")

    return None


def find_interpreter(
    version: str,
    *,
    overrides: Mapping[str, Path] | None = None,
    env: Mapping[str, str] | None = None,
    probe: Callable[[Path], tuple[int, int, int] | None] | None = None,
) -> Interpreter:
    """The interpreter for ``version`` (``"3.10"``), or InterpreterNotFound.

    An override (NOXGRID_PYTHON_3_10, ``[tool.noxgrid.interpreters]``) is taken as
    given. Otherwise every place is searched (PATH without pyenv's shims and without
    any virtual environment's own interpreters, pyenv's versions, uv's managed
    Pythons) and the newest patch release wins; ``source`` says where it was found
    and why it was chosen. ``probe`` asks an interpreter on PATH its version.
    """
    env = os.environ if env is None else env
    variable = override_variable(version)
    given = _override(version, overrides, env)
    if given is not None:
        return given
    pyenv = pyenv_root(env)
    major_minor = tuple(int(part) for part in version.split("."))
    path_dirs = [Path(d) for d in env.get("PATH", "").split(os.pathsep) if d]
    pyenv_found = _pyenv_versions(pyenv)
    uv_dir = uv_python_dir(env)
    uv_found = _uv_versions(uv_dir)
    candidates = _on_path(version, path_dirs, pyenv, env)
    candidates += [
        _Candidate(path=path, source="pyenv", patch=key)
        for key, path in pyenv_found
        if key[:2] == major_minor and _executable(path)
    ]
    candidates += [
        _Candidate(path=path, source="uv", patch=key)
        for key, path in uv_found
        if key[:2] == major_minor and _executable(path)
    ]
    if candidates:
        return _choose(version, candidates, probe or probe_version)

    def listing(found: list[tuple[tuple[int, int, int], Path]]) -> str:
        return ", ".join(".".join(map(str, key)) for key, _ in found) or "none"

    raise InterpreterNotFound(
        f"no Python {version} interpreter found. Looked for python{version} on PATH "
        f"({len(path_dirs)} folders, pyenv shims skipped); in pyenv's {pyenv / 'versions'} "
        f"(found: {listing(pyenv_found)}); in uv's {uv_dir} (found: {listing(uv_found)})",
        fix=f"install it (`pyenv install {version}` or `uv python install {version}`), "
        f"or name one: {variable}=/path/to/python{version}, or "
        f'[tool.noxgrid.interpreters] "{version}" = "/path/to/python{version}"',
    )
