"""A project's metadata from its own build backend (PEP 517), whatever the backend.

setuptools with setup.cfg or setup.py, hatch, flit, pdm, poetry-core, maturin:
the backend named in ``[build-system]`` (setuptools' legacy one where there is
none) prepares the metadata in an isolated environment that uv makes with the
backend's requirements, and noxgrid reads the METADATA file it writes: name,
Requires-Python, Requires-Dist, Provides-Extra, classifiers.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

from noxgrid.errors import CommandFailed
from noxgrid.tools.runner import Command, Runner
from noxgrid.tools.uv import Uv, uv_environment

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

LEGACY_BACKEND = "setuptools.build_meta:__legacy__"
LEGACY_REQUIRES = ("setuptools>=40.8.0",)

# Run in the isolated build environment, from the project's folder: call one hook.
HOOK = r"""
import importlib, json, os, sys, zipfile
hook, out, spec, paths = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
sys.path[:0] = [os.path.abspath(p) for p in paths]
module, _, attribute = spec.partition(":")
backend = importlib.import_module(module)
for part in filter(None, attribute.split(".")):
    backend = getattr(backend, part)
if hook == "requires":
    get = getattr(backend, "get_requires_for_build_wheel", None)
    print("NOXGRID-RESULT " + json.dumps(list(get({}) if get else [])))
elif hasattr(backend, "prepare_metadata_for_build_wheel"):
    name = backend.prepare_metadata_for_build_wheel(out, {})
    print("NOXGRID-RESULT " + json.dumps(os.path.join(out, name, "METADATA")))
else:
    wheel = os.path.join(out, backend.build_wheel(out, {}))
    with zipfile.ZipFile(wheel) as archive:
        member = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        archive.extract(member, out)
    print("NOXGRID-RESULT " + json.dumps(os.path.join(out, member)))
"""


@dataclass(frozen=True, kw_only=True)
class Metadata:
    """What a distribution's METADATA says about what it needs."""

    name: str
    requires_python: str | None
    requires_dist: tuple[str, ...]
    provides_extra: tuple[str, ...]
    classifiers: tuple[str, ...]


def parse_metadata(text: str) -> Metadata:
    """A METADATA file (core metadata, RFC 822 headers)."""
    message = Parser().parsestr(text, headersonly=True)
    return Metadata(
        name=str(message.get("Name", "")),
        requires_python=message.get("Requires-Python"),
        requires_dist=tuple(message.get_all("Requires-Dist") or ()),
        provides_extra=tuple(message.get_all("Provides-Extra") or ()),
        classifiers=tuple(message.get_all("Classifier") or ()),
    )


def build_system(root: Path) -> tuple[str, tuple[str, ...], list[str]]:
    """(backend, its requirements, backend-path) from ``[build-system]``, or the legacy ones."""
    pyproject = root / "pyproject.toml"
    table: dict[str, object] = {}
    if pyproject.is_file():
        try:
            table = dict(
                tomllib.loads(pyproject.read_text(encoding="utf-8")).get("build-system", {})
            )
        except tomllib.TOMLDecodeError:
            table = {}
    backend = str(table.get("build-backend") or LEGACY_BACKEND)
    requires = table.get("requires")
    paths = table.get("backend-path") or []
    return (
        backend,
        tuple(str(r) for r in requires) if isinstance(requires, list) else LEGACY_REQUIRES,
        [str(p) for p in paths] if isinstance(paths, list) else [],
    )


def prepare_metadata(root: Path, runner: Runner | None = None) -> Metadata:
    """The project's metadata, as its build backend prepares it (in uv's isolated env)."""
    runner = runner or Runner()
    uv = Uv(runner)
    backend, requires, paths = build_system(root)
    with egg_info_kept(root), tempfile.TemporaryDirectory(prefix="noxgrid-metadata-") as out:
        extra = _hook(uv, root, "requires", backend, requires, paths, "")
        path = _hook(uv, root, "metadata", backend, (*requires, *extra), paths, out)
        return parse_metadata(Path(str(path)).read_text(encoding="utf-8"))


def _egg_infos(root: Path) -> list[Path]:
    """The ``*.egg-info`` folders setuptools keeps in a source tree (at the root, or one
    folder down: ``src/``, a package_dir)."""
    return sorted(p for p in [*root.glob("*.egg-info"), *root.glob("*/*.egg-info")] if p.is_dir())


# Roots whose egg-info is being kept: (how many holders, the tree as it was). Cells lock
# and install in parallel threads from one tree: the first holder records it, the last
# one out restores it (a holder leaving early would restore another's build half-way).
_KEPT: dict[Path, tuple[int, dict[Path, dict[Path, tuple[bytes, int]]]]] = {}
_KEPT_LOCK = threading.Lock()


def _snapshot(root: Path) -> dict[Path, dict[Path, tuple[bytes, int]]]:
    return {
        folder: {
            path: (path.read_bytes(), path.stat().st_mtime_ns)
            for path in folder.rglob("*")
            if path.is_file()
        }
        for folder in _egg_infos(root)
    }


@contextlib.contextmanager
def egg_info_kept(root: Path) -> Iterator[None]:
    """Leave the source tree's ``*.egg-info`` folders as they were: setuptools' backend
    writes them into the tree while it prepares metadata (for uv's resolution, for an
    editable install), and a project may track them (init changes no file it does not
    list). New ones are removed; existing ones get their files' bytes and times back.
    Safe to hold from several threads at once: the tree is restored when the last
    holder leaves."""
    key = root.resolve()
    with _KEPT_LOCK:
        holders, before = _KEPT.get(key, (0, {}))
        if holders == 0:
            before = _snapshot(key)
        _KEPT[key] = (holders + 1, before)
    try:
        yield
    finally:
        with _KEPT_LOCK:
            holders, before = _KEPT[key]
            if holders > 1:
                _KEPT[key] = (holders - 1, before)
            else:
                del _KEPT[key]
                for folder in _egg_infos(key):
                    if folder not in before:
                        shutil.rmtree(folder, ignore_errors=True)
                for folder, files in before.items():
                    _restore(folder, files)


def _restore(folder: Path, files: dict[Path, tuple[bytes, int]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for path in folder.rglob("*"):
        if path.is_file() and path not in files:
            path.unlink()
    for path, (content, mtime) in files.items():
        if not path.is_file() or path.read_bytes() != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            os.utime(path, ns=(mtime, mtime))


def _hook(
    uv: Uv,
    root: Path,
    hook: str,
    backend: str,
    requires: tuple[str, ...] | list[str],
    paths: list[str],
    out: str,
) -> list[str] | str:
    argv = [uv.binary, "run", "--no-project", "--isolated", "--python", sys.executable]
    for requirement in requires:
        argv += ["--with", requirement]
    argv += ["--", "python", "-c", HOOK, hook, out or ".", backend, json.dumps(paths)]
    outcome = uv.runner.run(Command(argv=tuple(argv), cwd=root, env=uv_environment(), timeout=600))
    results = [line for line in outcome.output.splitlines() if line.startswith("NOXGRID-RESULT ")]
    if not outcome.ok or not results:
        raise CommandFailed(
            f"the build backend {backend} of {root} could not prepare its metadata:\n"
            + outcome.tail(15),
            fix="check [build-system] in pyproject.toml (or setup.py): `uv build` shows the "
            "same error",
        )
    value: list[str] | str = json.loads(results[-1].removeprefix("NOXGRID-RESULT "))
    return value
