"""The install stage's last step: the profile's local packages (Python projects inside the
repository that no index holds), installed ``--no-deps`` after the lock and known by
their content digest.

They are not in the lock: uv installs a PEP 751 ``directory`` package only without
``--require-hashes`` (a folder has no hash), and the lock's every other package must keep
its hashes. The lock's ``[tool.noxgrid] local-packages`` names them instead. Without
their dependencies, an edit cannot change what the lock resolved: it installs the
package again (its content digest differs from the one recorded in the venv's
manifest), it does not stale the lock.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from noxgrid.cell.state import CellRun, requirements_shown
from noxgrid.errors import StageFailure
from noxgrid.files import atomic_write
from noxgrid.model.config import relative_path
from noxgrid.model.installed import (
    MANIFEST,
    Installed,
    find_local,
    prove_local,
    read_installed,
    read_manifest_local,
)
from noxgrid.model.localpkg import LocalPackage, content_digest, declared_dependencies
from noxgrid.model.lockfile import Lock


def local_digests(state: CellRun) -> dict[str, str]:
    """The content digest of each of the profile's local packages, by path (once per run)."""
    if state.local_digests is None:
        root = state.config.root.resolve()
        state.local_digests = {
            relative_path(path, root): content_digest(path)
            for path in state.config.profiles[state.cell.profile].local_packages
        }
    return state.local_digests


def install_local(
    state: CellRun, sink: Callable[[str], None], lock: Lock, installed: Mapping[str, Installed]
) -> str:
    """Install the local packages whose source changed (or that are missing); record each in
    the venv's manifest and the cell's report. The detail's words ("" when none)."""
    config, profile = state.config, state.config.profiles[state.cell.profile]
    if not profile.local_packages:
        return ""
    root = config.root.resolve()
    wanted = local_digests(state)
    found = find_local(installed, root, profile.local_packages)
    again = prove_local(wanted, found, read_manifest_local(state.venv))
    for path, why in again.items():
        sink(f"local package {path}: {why}; installing it (--no-deps)\n")
        previous = found.get(path)
        outcome = state.get_uv().install(
            state.venv_python,
            requirements=[],
            packages=[str(root / path)],
            cwd=root,
            exact=False,
            no_deps=True,
            reinstall=[previous.name] if previous is not None else [],
            sink=sink,
        )
        if not outcome.ok:
            raise StageFailure(
                f"the local package {path} did not install (uv pip install --no-deps "
                f"{path} exited with {outcome.returncode}):\n{outcome.tail(15)}\n"
                f"fix: make {path} installable on its own (pip install --no-deps {path})"
            )
    if again:
        found = find_local(read_installed(state.venv), root, profile.local_packages)
        _record(state, {path: (found[path], wanted[path]) for path in found})
    state.local_packages = [
        LocalPackage(
            path=path,
            digest=digest,
            name=found[path].name if path in found else "",
            version=found[path].version if path in found else "",
            action="installed" if path in again else "kept",
        )
        for path, digest in wanted.items()
    ]
    _check(state, lock, found)
    done = [
        f"{p.path} ({'installed' if p.action == 'installed' else 'unchanged'})"
        for p in state.local_packages
    ]
    return f"; local package(s), no deps: {', '.join(done)}"


def _record(state: CellRun, local: Mapping[str, tuple[Installed, str]]) -> None:
    """The local section of the venv's manifest, the rest of it as uv's last sync left it."""
    path = state.venv / MANIFEST
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        document = {"packages": {}}
    document["local"] = {
        where: {"name": dist.name, "digest": digest, "record": dist.record_sha256}
        for where, (dist, digest) in sorted(local.items())
    }
    atomic_write(path, json.dumps(document, indent=1) + "\n")


def _check(state: CellRun, lock: Lock, found: Mapping[str, Installed]) -> None:
    """A local package the lock also pins (from an index) fails; dependencies it declares
    that the lock does not hold are a note (it is installed without them)."""
    cell = state.cell.id
    for path, dist in found.items():
        if canonicalize_name(dist.name) in lock.packages:
            raise StageFailure(
                f"the local package {path} is {dist.name}, which the lock of {cell} also pins "
                "from an index: the two would replace each other at every run; fix: drop "
                f"{dist.name} from {requirements_shown(state)} (the local package provides "
                f"it), then noxgrid lock {cell}"
            )
        missing = []
        for text in declared_dependencies(state.config.root / path):
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue
            if requirement.marker is not None and not requirement.marker.evaluate(
                {"python_version": state.cell.python}
            ):
                continue
            if canonicalize_name(requirement.name) not in lock.packages:
                missing.append(requirement.name)
        if missing:
            state.note(
                f"local package {path} declares {', '.join(missing)}, which the lock of {cell} "
                "does not hold (local packages are installed without their dependencies); "
                f"fix: add them to {requirements_shown(state)}, then noxgrid lock {cell}"
            )
