"""The image's doctor: the ELF audit and the import smoke of a built image, each checking
only what changed since it last passed.

The audit reads the image layer by layer where the engine's layer folders can
be read (``noxgrid.tools.layers``): a layer is named by the digest of its
content, so what was read of it once is kept under that digest and only new
layers are read; the audit itself then runs on the whole file system the
layers make, exactly as on an export. Elsewhere the file system is exported
and read whole, as before.

An exclusive group allowed on purpose is proved from the same file system
(the layers' folders, or the export): each file the group shares holds the
bytes ``keep``'s RECORD hashes (``noxgrid.model.kept``), or the stage fails
in the venv doctor's words, naming whose copy is there.

The import smoke records what it looked at (modules asked for, files opened,
folders listed). After a rebuild it runs again unless the paths that differ
from the image it last passed on are all outside what it looked at (see
``noxgrid.model.layers.smoke_concern``), with the same environment, user and
distributions; a change that cannot be told apart (a layer too large to
hash, an exported image) always runs it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import tarfile
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from noxgrid.cell.doctor import diagnose, packages_for
from noxgrid.cell.state import CellRun
from noxgrid.errors import LayerUnreadable, StageFailure
from noxgrid.files import atomic_write, read_json
from noxgrid.model.allowances import for_cell, kept_in
from noxgrid.model.audit import AuditResult, audit, scan_tar
from noxgrid.model.direct import direct_dependencies
from noxgrid.model.doctor import (
    IMPORT_SMOKE,
    Diagnosis,
    ImportReport,
    parse_imports,
    parse_trace,
)
from noxgrid.model.elf import TarTree
from noxgrid.model.kept import FileSource, TarFiles, image_fix, not_kept_failure, prove_in_image
from noxgrid.model.layers import LayerScan, SmokeTrace, changed_paths, merge, smoke_concern
from noxgrid.model.lockfile import Lock
from noxgrid.tools.docker import Docker
from noxgrid.tools.layers import LayerFiles, LayerStore, layer_folders
from noxgrid.tools.orphans import owned_folder

WORKDIR = "/app"


def doctor_image(
    state: CellRun, docker: Docker, tag: str, lock: Lock, inspect: dict[str, Any]
) -> str:
    """The ELF audit and the import smoke inside the built image."""
    timeout = min(state.config.suite.timeout, 600)
    diff_ids = list((inspect.get("RootFS") or {}).get("Layers") or [])
    store = LayerStore(state.config.cache_dir / "layers")
    groups = kept_in(for_cell(state.config.allowances, state.cell), lock.packages)
    scans, read, folders = _layer_scans(store, docker, inspect, diff_ids)
    if scans is not None and folders is not None:
        start = time.perf_counter()
        tree, scan = merge(scans)
        result = dataclasses.replace(audit(scan, tree), seconds=time.perf_counter() - start)
        kept = prove_kept_image(groups, tree.entries, LayerFiles(folders, scans))
        how = f"read from its layers ({read} of {len(diff_ids)} read now, the rest kept)"
    else:
        with exported(docker, tag, timeout=timeout) as archive:
            result, tree = audit_export(archive)
            with tarfile.open(archive, "r:") as tar:
                kept = prove_kept_image(groups, tree.entries, TarFiles(tar)) if groups else ""
        how = "read from an export of the image"
    distributions = direct_dependencies(lock)
    imports, reused = _smoke(state, docker, tag, distributions, inspect, store, scans, timeout)
    diagnosis = Diagnosis(where=f"image {tag}", audit=result, imports=imports)
    packages_for(state, diagnosis, host=False)
    detail = diagnose(state, diagnosis, host=False, key="image")
    return f"{detail}{kept}; audit {how}; import smoke {reused}"


def prove_kept_image(
    groups: Sequence[tuple[str, Sequence[str]]], paths: Iterable[str], source: FileSource
) -> str:
    """Each exclusive allowance's shared files in the image are its keep's (their RECORD
    hashes), or StageFailure in the venv doctor's words, naming whose copy is there."""
    found = []
    names = list(paths) if groups else []
    for keep, others in groups:
        proved, wrong = prove_in_image(names, source, keep, others)
        if wrong:
            raise StageFailure(not_kept_failure(keep, others, wrong, image_fix(keep)))
        if proved:
            found.append(keep)
    return "".join(f"; {keep}'s files are the ones in the image (installed last)" for keep in found)


def _layer_scans(
    store: LayerStore, docker: Docker, inspect: dict[str, Any], diff_ids: Sequence[str]
) -> tuple[list[LayerScan] | None, int, list[Path] | None]:
    """Every layer's scan, how many were read now and the layers' folders; (None, 0, None)
    where they cannot be had."""
    folders = layer_folders(docker.client.root_dir, inspect)
    if folders is None:
        return None, 0, None
    try:
        scans, read = store.scans(diff_ids, folders)
    except LayerUnreadable:
        return None, 0, None
    return scans, read, folders


def _smoke_key(inspect: dict[str, Any], distributions: Sequence[str]) -> dict[str, Any]:
    config = inspect.get("Config") or {}
    return {
        "env": sorted(config.get("Env") or []),
        "user": config.get("User") or "",
        "distributions": sorted(distributions),
    }


def _smoke(
    state: CellRun,
    docker: Docker,
    tag: str,
    distributions: Sequence[str],
    inspect: dict[str, Any],
    store: LayerStore,
    scans: list[LayerScan] | None,
    timeout: float,
) -> tuple[ImportReport, str]:
    """The import smoke's report and how it was had (run, or kept and why)."""
    record_path = state.config.cache_dir / "smoke" / f"{state.cell.id}.json"
    record = read_json(record_path)
    key = _smoke_key(inspect, distributions)
    why = _rerun_reason(record, key, store, scans)
    if why is None and record is not None:
        imported = tuple(record.get("imported", ()))
        loaded = tuple(record["loaded"])
        return ImportReport(imported=imported, failures=(), loaded=loaded), (
            "as when it last passed: nothing it imported or read changed"
        )
    record_path.unlink(missing_ok=True)
    imports, trace = import_smoke_image(docker, tag, distributions, timeout=timeout)
    if scans is not None and trace is not None and not imports.failures:
        document = {
            "layers": [scan.diff_id for scan in scans],
            "key": key,
            "imported": list(imports.imported),
            "loaded": None if imports.loaded is None else list(imports.loaded),
            "trace": trace,
        }
        atomic_write(record_path, json.dumps(document) + "\n")
    return imports, f"run ({why})"


def _rerun_reason(
    record: dict[str, Any] | None,
    key: dict[str, Any],
    store: LayerStore,
    scans: list[LayerScan] | None,
) -> str | None:
    """Why the import smoke must run again (None: its last result stands)."""
    if scans is None:
        return "the image's layers cannot be read here"
    if record is None:
        return "no earlier run to compare with"
    if record.get("key") != key:
        return "the environment, user or dependencies changed"
    if record.get("loaded") is None:
        return "its last run did not record the libraries it loaded"
    before_ids = list(record.get("layers", ()))
    after_ids = [scan.diff_id for scan in scans]
    common = 0
    while common < min(len(before_ids), len(after_ids)):
        if before_ids[common] != after_ids[common]:
            break
        common += 1
    before = [store.get(diff_id) for diff_id in before_ids[common:]]
    if any(scan is None for scan in before):
        return "the layers it ran on are no longer known"
    trace = SmokeTrace.from_dict(record.get("trace") or {}, key["distributions"])
    changed = changed_paths(scans[:common], [s for s in before if s], scans[common:])
    for path in changed:
        concern = smoke_concern(path, trace, WORKDIR)
        if concern:
            return f"{len(changed)} path(s) changed; {concern}"
    return None


@contextlib.contextmanager
def exported(docker: Docker, tag: str, *, timeout: float) -> Iterator[Path]:
    """The image's file system exported to a temporary tar, removed afterwards."""
    with owned_folder("audit") as folder:
        archive = folder / "image.tar"
        docker.export(tag, archive, timeout=timeout)
        yield archive


def audit_export(archive: Path) -> tuple[AuditResult, TarTree]:
    """The ELF audit of an exported file system, and its names."""
    start = time.perf_counter()
    tree, scan = scan_tar(archive)
    result = audit(scan, tree)
    return dataclasses.replace(result, seconds=time.perf_counter() - start), tree


def audit_image(docker: Docker, tag: str, *, timeout: float) -> AuditResult:
    """The ELF audit of an image: its file system exported to a temporary tar, read here."""
    with exported(docker, tag, timeout=timeout) as archive:
        return audit_export(archive)[0]


def import_smoke_image(
    docker: Docker, tag: str, distributions: Sequence[str], *, timeout: float
) -> tuple[ImportReport, dict[str, object] | None]:
    """Import the distributions' modules in a fresh container of the image; the report and
    what the smoke looked at."""
    outcome = docker.run_once(
        tag,
        ["python", "-c", IMPORT_SMOKE, *distributions],
        env={"PYTHONDONTWRITEBYTECODE": "1", "NOXGRID_TRACE": "1"},
        workdir=WORKDIR,
        sink=None,
        timeout=timeout,
    )
    return parse_imports(outcome.output), parse_trace(outcome.output)
