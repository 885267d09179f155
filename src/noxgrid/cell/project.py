"""The project in the venv: which distribution is its editable install, and the proof
that importing it loads the working tree."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

from packaging.utils import canonicalize_name

from noxgrid.cell.state import CellRun, StageLog
from noxgrid.errors import StageFailure
from noxgrid.files import atomic_write, read_json
from noxgrid.model.bytecode import PYCACHE
from noxgrid.model.compiled import build_inputs, changed_inputs, stale_message
from noxgrid.model.installed import MANIFEST, Installed, pyvenv_cfg, site_packages
from noxgrid.tools.runner import Command


def editable_name(installed: Mapping[str, Installed], root: Path) -> str | None:
    """The distribution of ``installed`` (read_installed of a venv) installed editable from
    ``root`` (its direct_url.json), if any: the project's name even where no [project]
    table states it (setup.py, setup.cfg)."""
    wanted = str(root.resolve())
    for dist in installed.values():
        try:
            direct = json.loads((dist.dist_info / "direct_url.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        url = str(direct.get("url", ""))
        editable = bool((direct.get("dir_info") or {}).get("editable"))
        if editable and url.removeprefix("file://").rstrip("/") == wanted:
            return dist.name
    return None


# Run with the venv's interpreter: where each of the project's top-level modules is found.
_WHERE_SCRIPT = """
import importlib.util, json, sys
found = {}
for name in sys.argv[1:]:
    try:
        spec = importlib.util.find_spec(name)
    except Exception as exc:
        found[name] = "error: %s" % exc
        continue
    if spec is None:
        continue
    places = list(spec.submodule_search_locations or []) or [spec.origin or ""]
    found[name] = places[0]
print(json.dumps(found))
"""


def project_modules(installed: Mapping[str, Installed], name: str, root: Path) -> list[str]:
    """The project's top-level module names: its top_level.txt (in ``installed``, the
    read_installed of a venv), else its name and the packages at the root or under src/."""
    dist = installed.get(canonicalize_name(name))
    if dist is not None and (dist.dist_info / "top_level.txt").is_file():
        listed = (dist.dist_info / "top_level.txt").read_text(encoding="utf-8").split()
        if listed:
            return listed
    candidates = [name.replace("-", "_").replace(".", "_").lower()]
    for folder in (root / "src", root):
        if folder.is_dir():
            candidates += sorted(
                child.name
                for child in folder.iterdir()
                if (child / "__init__.py").is_file() and child.name not in ("tests", "test")
            )
    return list(dict.fromkeys(candidates))


def prove_project(
    state: CellRun,
    log: StageLog,
    name: str,
    installed: Mapping[str, Installed],
    *,
    stamp: str | None = None,
) -> str:
    """Prove that importing the project in the venv loads the working tree, not a copy.

    The venv's interpreter is asked, unless it was asked before with the same answer's
    every input (``probe_key``: the install ``stamp``, the names in the venv that
    importing could find, the variables that move sys.path) and each module it found
    still lies in the working tree: then that answer stands, and the detail says so.
    """
    root = state.config.root.resolve()
    venvs = ((state.config.root / state.config.venvs_dir).resolve(),)
    modules = project_modules(installed, name, root)
    record_path = state.venv / PROBE_RECORD
    key = probe_key(state, stamp, modules) if stamp else None
    found = _answered_before(read_json(record_path), key, root, venvs)
    again = found is not None
    if found is None:
        record_path.unlink(missing_ok=True)
        found = _ask_where(state, log, name, modules)
    else:
        log.record(f"{json.dumps(found)} (as when last asked: same install, same paths)\n")
    if not found:
        return f"; {name}: no importable module found to prove ({', '.join(modules)})"
    errors = {m: place for m, place in found.items() if place.startswith("error: ")}
    if errors:
        module, error = next(iter(errors.items()))
        raise StageFailure(
            f"the venv could not tell where {module} ({name}) is imported from: "
            f"{error.removeprefix('error: ')}; fix: run {state.venv_python} -c 'import "
            f"{module}' from the project's folder to see why, then rerun"
        )
    foreign = {m: place for m, place in found.items() if not _inside(place, root, venvs)}
    if foreign:
        module, place = next(iter(foreign.items()))
        raise StageFailure(
            f"importing {module} in the venv loads {place}, not the working tree {root}: the "
            f"suite would test another copy of {name}; fix: make sure no requirement pins "
            f"{name} itself (noxgrid lock {state.cell.id} leaves it out) and delete any "
            "copy of it from the venv, then rerun"
        )
    if key is not None and not again:
        atomic_write(record_path, json.dumps({"key": key, "found": found}) + "\n")
    same = " (as when last asked: same install, same paths)" if again else ""
    return f"; import {', '.join(sorted(found))} -> the working tree{same}"


def _ask_where(state: CellRun, log: StageLog, name: str, modules: list[str]) -> dict[str, str]:
    """Where the venv's interpreter finds each of ``modules`` (a process)."""
    outcome = state.runner.run(
        Command(
            argv=(str(state.venv_python), "-c", _WHERE_SCRIPT, *modules),
            cwd=state.venv,  # not the project: python -c puts the folder it runs in on sys.path
            timeout=60,
        ),
    )
    log.record(outcome.output)  # the probe's JSON: the stage's result line says it
    try:
        found: dict[str, str] = json.loads(outcome.output.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise StageFailure(
            f"could not ask the venv where {name} is imported from: {outcome.tail(5)}"
        ) from None
    return found


# The probe's own record in the venv (noxgrid's files there are named noxgrid-*).
PROBE_RECORD = "noxgrid-project.json"

# Variables that change the probe's sys.path (and so where a module is found).
_PATH_VARIABLES = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSAFEPATH",
    "PYTHONNOUSERSITE",
    "PYTHONUSERBASE",
    "PYTHONPLATLIBDIR",
)


def _identity(path: Path) -> list[int] | str:
    try:
        info = path.stat()
    except OSError:
        return "gone"
    return [info.st_size, info.st_mtime_ns, info.st_ino]


def probe_key(state: CellRun, stamp: str | None, modules: list[str]) -> str | None:
    """A digest of everything the venv's answer to "where is each module found" depends
    on: the install ``stamp`` (interpreter, lock, project metadata and build inputs), the
    interpreter file and pyvenv.cfg, the variables that move sys.path, the names in the
    folder the probe runs in, and every name at the top of site-packages with each
    file's identity (size, mtime, inode: the editable install's .pth or finder, any
    other .pth, a stray module). None where it cannot be known without asking: no
    stamp, or a venv that also sees the system's site-packages."""
    venv = state.venv
    if stamp is None or pyvenv_cfg(venv).get("include-system-site-packages", "").lower() == "true":
        return None
    seen: dict[str, object] = {
        "stamp": stamp,
        "modules": modules,
        "python": _identity(state.venv_python),
        "pyvenv.cfg": _identity(venv / "pyvenv.cfg"),
        "variables": {name: os.environ.get(name) for name in _PATH_VARIABLES},
        "venv": sorted(p.name for p in venv.iterdir() if not _own_or_bytecode(p.name)),
    }
    for site in site_packages(venv):
        seen[str(site)] = {
            entry.name: "folder" if entry.is_dir() else _identity(Path(entry.path))
            for entry in os.scandir(site)
            if entry.name != "__pycache__"  # its .pyc files load only beside their source
        }
    return hashlib.sha256(json.dumps(seen, sort_keys=True).encode()).hexdigest()


def _own_or_bytecode(name: str) -> bool:
    """noxgrid's own files in the venv, and the bytecode folder its runs fill
    (model/bytecode.py): neither moves where a module is found."""
    return name.startswith("noxgrid-") or name == PYCACHE


def _answered_before(
    record: Mapping[str, object] | None, key: str | None, root: Path, venvs: tuple[Path, ...]
) -> dict[str, str] | None:
    """The answer recorded for ``key``, where every module it found is still a file or
    folder of the working tree; else None (ask again)."""
    if key is None or record is None or record.get("key") != key:
        return None
    found = record.get("found")
    if not isinstance(found, dict) or not found:
        return None
    for place in found.values():
        if not isinstance(place, str) or not Path(place).exists():
            return None
        if not _inside(place, root, venvs):
            return None
    return {str(module): str(place) for module, place in found.items()}


def _inside(place: str, root: Path, outside: tuple[Path, ...] = ()) -> bool:
    """``place`` lies in the working tree ``root``, and in none of ``outside`` (the venvs:
    a copy in a venv's site-packages is not the working tree, wherever the venvs are)."""
    if not Path(place).is_absolute():  # not a place: nothing to prove it is the tree
        return False
    try:
        path = Path(place).resolve()
    except (OSError, ValueError):
        return False
    return path.is_relative_to(root) and not any(path.is_relative_to(o) for o in outside)


def project_build_inputs(state: CellRun) -> dict[str, str]:
    """The digests of the project's compiled sources and build files (empty where it has
    no compiled source), its venvs left out."""
    return build_inputs(state.config.root, (state.config.venvs_dir,))


def _manifest(venv: Path) -> dict[str, object] | None:
    try:
        document = json.loads((venv / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def stale_build(state: CellRun) -> str:
    """Why the project's editable build is stale ("" when it is not): its compiled sources
    or build configuration changed since it was built (the venv's manifest records them)."""
    now = project_build_inputs(state)
    recorded = (_manifest(state.venv) or {}).get("build")
    if not isinstance(recorded, dict):
        return "no record of what its compiled code was built from" if now else ""
    changed = changed_inputs(recorded, now)
    return stale_message(changed) if changed else ""


def record_build(state: CellRun) -> None:
    """Record in the venv's manifest what the project's editable build was built from."""
    document = _manifest(state.venv) or {"packages": {}}
    document["build"] = project_build_inputs(state)
    atomic_write(state.venv / MANIFEST, json.dumps(document, indent=1) + "\n")
