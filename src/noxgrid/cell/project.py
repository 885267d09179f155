"""The project in the venv: which distribution is its editable install, and the proof
that importing it loads the working tree."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from packaging.utils import canonicalize_name

from noxgrid.cell.state import CellRun, StageLog
from noxgrid.errors import StageFailure
from noxgrid.files import atomic_write
from noxgrid.model.compiled import build_inputs, changed_inputs, stale_message
from noxgrid.model.installed import MANIFEST, Installed
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
    state: CellRun, log: StageLog, name: str, installed: Mapping[str, Installed]
) -> str:
    """Prove that importing the project in the venv loads the working tree, not a copy."""
    config = state.config
    root = config.root.resolve()
    modules = project_modules(installed, name, root)
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
    if not found:
        return f"; {name}: no importable module found to prove ({', '.join(modules)})"
    foreign = {module: place for module, place in found.items() if not _inside(place, root)}
    if foreign:
        module, place = next(iter(foreign.items()))
        raise StageFailure(
            f"importing {module} in the venv loads {place}, not the working tree {root}: the "
            f"suite would test another copy of {name}; fix: make sure no requirement pins "
            f"{name} itself (noxgrid lock {state.cell.id} leaves it out), then rerun"
        )
    return f"; import {', '.join(sorted(found))} -> the working tree"


def _inside(place: str, root: Path) -> bool:
    try:
        return Path(place).resolve().is_relative_to(root)
    except (OSError, ValueError):
        return False


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
