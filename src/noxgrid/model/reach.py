"""What the project can reach: the doctor fails a cell only for a missing library that
something imported, or the project itself, needs.

A wheel ships more than any one project loads: providers for other accelerators
(onnxruntime's TensorRT and ROCm libraries), transports for other networks
(RDMA plugins needing ``libibverbs``), loaded with ``dlopen`` only when asked for.
The import smoke records the shared objects its process loaded (each extension
module the import system tried to load, each ``ctypes`` load, every mapped file
under a site-packages folder). Those files, and the project's own, are the
roots; the libraries they need (DT_NEEDED, resolved as the audit resolves them)
are reachable, and so on. A missing library no root reaches is a note: "needed
only by <file> of <distribution>, which nothing imports". Where the smoke left
no record, every missing library still fails the cell, and the line says why.
"""

from __future__ import annotations

import dataclasses
import json
import posixpath
from collections import defaultdict
from collections.abc import Iterable, Sequence

from packaging.utils import canonicalize_name

from noxgrid.model.audit import SITE, AuditResult, Missing, Scan, _expand
from noxgrid.model.elf import ElfFile

LOADED_MARKER = "NOXGRID-LOADED "

# Put before the import smoke (Python 3.8 and later, no noxgrid import): records each
# extension module the import system tries to load (found or not: a module whose
# library is missing is tried and fails) and each ctypes load.
LOADED_HOOK = r"""
import os as _nx_os, sys as _nx_sys
_nx_loaded = set()
try:
    import importlib.machinery as _nx_machinery
    _nx_create = _nx_machinery.ExtensionFileLoader.create_module
    def _nx_record(self, spec):
        if getattr(spec, "origin", None):
            _nx_loaded.add(_nx_os.path.realpath(spec.origin))
        return _nx_create(self, spec)
    _nx_machinery.ExtensionFileLoader.create_module = _nx_record
except Exception:
    pass
def _nx_dlopen(event, args):
    if event == "ctypes.dlopen" and args and isinstance(args[0], str):
        _nx_loaded.add(args[0])
if hasattr(_nx_sys, "addaudithook"):
    _nx_sys.addaudithook(_nx_dlopen)
"""

# Put after the smoke (and after the application is loaded): adds what the process has
# mapped (libraries C code opened) and the compiled modules it holds, then prints those
# the audit can know (under site-packages) and the bare names ctypes was given.
LOADED_REPORT = r"""
import json as _nx_json
try:
    with open("/proc/self/maps") as _nx_maps:
        for _nx_line in _nx_maps:
            _nx_parts = _nx_line.split(None, 5)
            if len(_nx_parts) == 6 and "/site-packages/" in _nx_parts[5]:
                _nx_loaded.add(_nx_parts[5].strip().replace(" (deleted)", ""))
except OSError:
    pass
for _nx_module in list(_nx_sys.modules.values()):
    _nx_file = str(getattr(_nx_module, "__file__", None) or "")
    if _nx_file.endswith((".so", ".pyd")):
        _nx_loaded.add(_nx_os.path.realpath(_nx_file))
_nx_kept = sorted(p for p in _nx_loaded if "/site-packages/" in p or "/" not in p)
_nx_sys.stdout.write("\nNOXGRID-LOADED " + _nx_json.dumps(_nx_kept) + "\n")
"""


def parse_loaded(output: str) -> tuple[str, ...] | None:
    """The files of the last NOXGRID-LOADED line; None when the smoke printed none."""
    for line in reversed(output.splitlines()):
        if line.startswith(LOADED_MARKER):
            try:
                data = json.loads(line[len(LOADED_MARKER) :])
            except ValueError:
                return None
            return tuple(str(item) for item in data) if isinstance(data, list) else None
    return None


class _Graph:
    """The scan's files, found by path, by site-packages-relative path and by name."""

    def __init__(self, scan: Scan) -> None:
        self.scan = scan
        self.files = {elf.path: elf for elf in scan.files}
        self.by_name: dict[str, list[str]] = defaultdict(list)
        self.by_relative: dict[str, str] = {}
        for path in self.files:
            self.by_name[posixpath.basename(path)].append(path)
            self.by_relative[scan.relative(path)] = path
        self.versioned: dict[str, list[str]] = {}

    def roots(self, loaded: str) -> list[str]:
        """The scanned files a recorded path (or a bare name ctypes loaded) stands for."""
        if loaded in self.files:
            return [loaded]
        if SITE in loaded:  # the same file seen through another prefix (a linked folder)
            found = self.by_relative.get(loaded[loaded.rindex(SITE) + len(SITE) :])
            return [found] if found else []
        return list(self.by_name.get(loaded, ())) if "/" not in loaded else []

    def providers(self, elf: ElfFile, soname: str) -> list[str]:
        """The scanned files that satisfy one DT_NEEDED of ``elf``: the RPATH/RUNPATH
        folder's copy, else any bundled copy of that name (as the audit resolves), else a
        file the name links to (``libfoo.so.1`` -> ``libfoo.so.1.2.3``; links are not read)."""
        origin = posixpath.dirname(elf.path)
        if "/" in soname:
            target = posixpath.normpath(posixpath.join(origin, soname))
            return [target] if target in self.files else []
        for entry in (*(() if elf.runpath else elf.rpath), *elf.runpath):
            target = posixpath.join(_expand(entry, origin, elf.machine), soname)
            if target in self.files:
                return [target]
        if soname in self.by_name:
            return self.by_name[soname]
        if soname not in self.versioned:
            self.versioned[soname] = [
                path
                for name, paths in self.by_name.items()
                if name.startswith(soname + ".")
                for path in paths
            ]
        return self.versioned[soname]


def reachable(scan: Scan, roots: Iterable[str]) -> set[str]:
    """The scanned files ``roots`` load, transitively through DT_NEEDED."""
    graph = _Graph(scan)
    todo = [path for root in roots for path in graph.roots(root)]
    seen: set[str] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        elf = graph.files[path]
        for soname in elf.needed:
            todo.extend(graph.providers(elf, soname))
    return seen


def classify(
    result: AuditResult,
    loaded: Sequence[str] | None,
    *,
    project: str | None = None,
    named: Iterable[str] = (),
) -> AuditResult:
    """``result`` with each missing library marked reachable or not.

    Roots: the files the import smoke ``loaded`` and the ``project``'s own files
    (by RECORD). ``named``: sonames the project names (a package of its apt
    list), reachable whoever needs them. ``loaded`` None (no record) leaves
    every library unknown, which counts as reachable.
    """
    scan = result.scan
    if loaded is None or scan is None:
        return result
    roots = list(loaded)
    if project:
        own = str(canonicalize_name(project))
        roots += [elf.path for elf in scan.files if scan.owner(elf.path) == own]
    reached = {scan.relative(path) for path in reachable(scan, roots)}
    wanted = set(named)
    missing = tuple(
        dataclasses.replace(
            item,
            reachable=item.soname in wanted or any(path in reached for path in item.needed_by),
        )
        for item in result.missing
    )
    needers: dict[str, list[str]] = defaultdict(list)
    for elf in scan.files:
        for soname in elf.needed:
            if soname in result.from_system:
                needers[soname].append(scan.relative(elf.path))
    unreached = tuple(
        sorted(
            soname
            for soname, paths in needers.items()
            if soname not in wanted and not any(path in reached for path in paths)
        )
    )
    return dataclasses.replace(result, missing=missing, unreached_system=unreached)


def unreached_notes(result: AuditResult) -> list[str]:
    """A note per set of files that need libraries nothing imports (CUDA's have their own)."""
    groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[str]] = defaultdict(list)
    for item in result.missing:
        if item.reachable is False and not item.cuda:
            groups[(item.needed_by, item.distributions)].append(item.soname)
    notes = []
    for (needed_by, owners), sonames in groups.items():
        shown = ", ".join(needed_by[:3]) + (
            f" and {len(needed_by) - 3} more" if len(needed_by) > 3 else ""
        )
        of = f" of {', '.join(owners)}" if owners else ""
        notes.append(
            f"{', '.join(sonames)} missing, needed only by {shown}{of}, which nothing "
            "imports (an optional plugin): not a failure"
        )
    return notes


def reach_unknown(item: Missing) -> str:
    """What a problem line adds when reachability could not be told."""
    if item.reachable is None:
        return "; the import smoke recorded no loaded files, so it counts whoever needs it"
    return ""
