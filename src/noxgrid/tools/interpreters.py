"""Find a Python interpreter for a cell's version without starting a process.

Looks, in order, at: an explicit override (``NOXGRID_PYTHON_3_10`` in the
environment, or ``[tool.noxgrid.interpreters]``), ``pythonX.Y`` on PATH
(skipping pyenv's shims, which answer only for pyenv's global version),
pyenv's versions folder, and the interpreters uv manages. When none fits,
the error says what was found and where it looked.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from noxgrid.errors import InterpreterNotFound

_PATCH = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
_UV_NAME = re.compile(r"^cpython-(\d+)\.(\d+)\.(\d+)-")


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
    """Where uv keeps the interpreters it installs."""
    if env.get("UV_PYTHON_INSTALL_DIR"):
        return Path(env["UV_PYTHON_INSTALL_DIR"])
    data = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "uv" / "python"


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


def find_interpreter(
    version: str,
    *,
    overrides: Mapping[str, Path] | None = None,
    env: Mapping[str, str] | None = None,
) -> Interpreter:
    """The interpreter for ``version`` (``"3.10"``), or InterpreterNotFound."""
    env = os.environ if env is None else env
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

    pyenv = pyenv_root(env)
    shims = (pyenv / "shims").resolve()
    path_dirs = [Path(d) for d in env.get("PATH", "").split(os.pathsep) if d]
    for folder in path_dirs:
        if folder.resolve() == shims:
            continue
        candidate = folder / f"python{version}"
        if _executable(candidate):
            return Interpreter(version=version, path=candidate, source="PATH")

    major_minor = tuple(int(part) for part in version.split("."))
    pyenv_found = _pyenv_versions(pyenv)
    for key, candidate in pyenv_found:
        if key[:2] == major_minor and _executable(candidate):
            return Interpreter(version=version, path=candidate, source="pyenv")

    uv_dir = uv_python_dir(env)
    uv_found = _uv_versions(uv_dir)
    for key, candidate in uv_found:
        if key[:2] == major_minor and _executable(candidate):
            return Interpreter(version=version, path=candidate, source="uv")

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
