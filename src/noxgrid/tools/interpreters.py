"""Find a Python interpreter for a cell's version without starting a process.

Looks, in order, at: an explicit override (``NOXGRID_PYTHON_3_10`` in the
environment, or ``[tool.noxgrid.interpreters]``), ``pythonX.Y`` on PATH
(skipping pyenv's shims, which answer only for pyenv's global version),
pyenv's versions folder, and the interpreters uv manages. When none fits,
the error says what was found and where it looked. What a process had to be
asked (an interpreter's version, uv's interpreter folder) is remembered in
``<cache>/interpreters.json`` under the identity of everything the answer
depends on, so a warm run asks nothing.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from noxgrid.errors import InterpreterNotFound, NoxgridError
from noxgrid.files import atomic_write, cache_dir, read_json
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


def _identity(path: Path) -> list[object] | None:
    """What names one file's content here: its real path, device, inode, size and mtime
    (a replaced or rebuilt program changes at least one)."""
    try:
        real = path.resolve()
        info = real.stat()
    except OSError:
        return None
    return [str(real), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns]


def _memo_path() -> Path:
    return cache_dir() / "interpreters.json"


def _remembered(key: list[object]) -> object:
    return (read_json(_memo_path()) or {}).get(json.dumps(key))


def _remember(key: list[object], value: object) -> None:
    """Keep an answer (a process asked once need not be asked again); best effort."""
    path = _memo_path()
    data = read_json(path) or {}
    if len(data) > 256:
        data = {}
    data[json.dumps(key)] = value
    with contextlib.suppress(OSError):
        atomic_write(path, json.dumps(data, indent=0) + "\n")


def probe_version(path: Path) -> tuple[int, int, int] | None:
    """An interpreter's own version: run once, with -I, and remembered by the file's
    identity (real path, inode, size, mtime) for later runs."""
    identity = _identity(path)
    if identity is not None:
        known = _remembered(["version", *identity])
        if isinstance(known, list) and len(known) == 3:
            return int(known[0]), int(known[1]), int(known[2])
    found = _probe(str(path))
    if found is not None and identity is not None:
        _remember(["version", *identity], list(found))
    return found


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


# uv's settings files that can move its interpreter folder, looked for from the
# current folder up (project settings) and in the user's and system's places.
_UV_SETTINGS = ("uv.toml", "pyproject.toml")


def _uv_dir_key(uv: str) -> list[object] | None:
    """Everything ``uv python dir`` depends on: the uv binary, its variables and the
    identity of every settings file it could read."""
    binary = _identity(Path(uv))
    if binary is None:
        return None
    names = ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "UV_CONFIG_FILE", "UV_NO_CONFIG")
    variables = [os.environ.get(name, "") for name in names]
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    places = [Path("/etc/uv/uv.toml"), config / "uv" / "uv.toml"]
    cwd = Path.cwd()
    places += [folder / name for folder in (cwd, *cwd.parents) for name in _UV_SETTINGS]
    if os.environ.get("UV_CONFIG_FILE"):
        places.append(Path(os.environ["UV_CONFIG_FILE"]))
    files = [[str(place), _identity(place)] for place in places]
    return ["uv python dir", *binary, *variables, str(cwd), files]


@functools.lru_cache(maxsize=1)
def _asked_uv_python_dir() -> Path | None:
    from noxgrid.errors import CommandFailed
    from noxgrid.tools.uv import find_uv

    try:
        uv = find_uv()
    except (CommandFailed, OSError):
        return None
    key = _uv_dir_key(uv)
    known = _remembered(key) if key is not None else None
    if isinstance(known, str):
        return Path(known)
    try:
        outcome = Runner().run(Command(argv=(uv, "python", "dir"), timeout=30))
    except (CommandFailed, OSError):
        return None
    lines = outcome.output.strip().splitlines() if outcome.ok else []
    if not lines or not Path(lines[-1]).is_absolute():
        return None
    if key is not None:
        _remember(key, lines[-1])
    return Path(lines[-1])


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


def verify_override(
    found: Interpreter, probe: Callable[[Path], tuple[int, int, int] | None] | None = None
) -> None:
    """InterpreterNotFound unless an override (taken as given by find_interpreter) is a
    Python of the version it is declared for: it is asked its version once (remembered)."""
    if found.source not in (override_variable(found.version), "[tool.noxgrid.interpreters]"):
        return
    answer = (probe or probe_version)(found.path)
    if answer is not None and f"{answer[0]}.{answer[1]}" == found.version:
        return
    where = (
        f"{found.source}={found.path}"
        if found.source.startswith("NOXGRID_")
        else f'[tool.noxgrid.interpreters] "{found.version}" = "{found.path}"'
    )
    what = (
        f"it is Python {'.'.join(map(str, answer))}"
        if answer is not None
        else "it did not answer as a Python interpreter (-I -c 'import sys' failed)"
    )
    raise InterpreterNotFound(
        f"{where} is not a Python {found.version}: {what}",
        fix=f"point it at a Python {found.version} interpreter (python{found.version}), "
        "or remove it to let noxgrid search",
    )


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
