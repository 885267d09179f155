"""An image as the stack of its layers: what the image checks read of each, and what
changed between two stacks.

A layer is named by its diff ID (the digest of its content), so what was read
of it once holds for every image that has it. The image's file system is its
layers applied in order: each adds entries, removes some (a whiteout) or hides
a whole folder of the layers below (an opaque folder). ``merge`` applies them
and gives the same names, ELF files and texts the audit reads from an exported
file system; ``changed_paths`` says which paths differ between two stacks
sharing their lower layers, and ``smoke_still_holds`` whether an import smoke
that passed on one stack would see anything different on the other.

Pure: no process, no file read here (``noxgrid.tools.layers`` reads layers).
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from packaging.utils import canonicalize_name

from noxgrid.model.audit import SITE, Scan, owners_from_record
from noxgrid.model.elf import ElfFile, TarTree

# The format of a stored layer scan; a scan of another format is read again.
FORMAT = 2  # 2: records name each library file's owner, not only top-level entries


@dataclass
class LayerScan:
    """What the image checks need of one layer.

    ``entries``: every path the layer adds or replaces, a symbolic link with its
    target. ``states``: each one's kind, mode, owner and content digest (None
    when the layer was too large to hash: every path of it then counts as
    changed). ``removed``: whiteouts; ``opaque``: folders whose lower content
    the layer hides. ``elf``: the ELF files under a site-packages folder;
    ``records``: each RECORD there, as {library file or top-level entry: distribution};
    ``texts``: /etc/ld.so.conf and its includes.
    """

    diff_id: str
    entries: dict[str, str | None] = field(default_factory=dict)
    states: dict[str, str] | None = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)
    elf: list[ElfFile] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    records: dict[str, dict[str, str]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (``from_dict`` reads it back)."""
        return {
            "format": FORMAT,
            "diff_id": self.diff_id,
            "entries": self.entries,
            "states": self.states,
            "removed": self.removed,
            "opaque": self.opaque,
            "elf": [
                [elf.path, list(elf.needed), list(elf.rpath), list(elf.runpath), elf.machine]
                for elf in self.elf
            ],
            "unreadable": self.unreadable,
            "records": self.records,
            "texts": self.texts,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LayerScan | None:
        """The scan ``as_dict`` wrote; None for another format or a damaged one."""
        if data.get("format") != FORMAT:
            return None
        try:
            elf = [
                ElfFile(path=p, needed=tuple(n), rpath=tuple(r), runpath=tuple(u), machine=m)
                for p, n, r, u, m in data["elf"]
            ]
            return cls(
                diff_id=str(data["diff_id"]),
                entries=dict(data["entries"]),
                states=None if data["states"] is None else dict(data["states"]),
                removed=list(data["removed"]),
                opaque=list(data["opaque"]),
                elf=elf,
                unreadable=list(data["unreadable"]),
                records={key: dict(value) for key, value in data["records"].items()},
                texts=dict(data["texts"]),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def add_record(self, path: str, text: str) -> None:
        """A distribution's RECORD: which library files and top-level entries it installed."""
        owners: dict[str, str] = {}
        owners_from_record(posixpath.dirname(path), text, owners)
        self.records[path] = owners


def chain_ids(diff_ids: Sequence[str]) -> list[str]:
    """The chain ID of each layer (how Docker names a layer with everything below it)."""
    chain: list[str] = []
    for diff_id in diff_ids:
        if not chain:
            chain.append(diff_id)
        else:
            text = f"{chain[-1]} {diff_id}".encode()
            chain.append("sha256:" + hashlib.sha256(text).hexdigest())
    return chain


def _under(path: str, folder: str) -> bool:
    return path.startswith(folder.rstrip("/") + "/")


def _drop(mapping: dict[str, Any], path: str, *, itself: bool) -> None:
    for key in [key for key in mapping if _under(key, path) or (itself and key == path)]:
        del mapping[key]


def merge(layers: Sequence[LayerScan]) -> tuple[TarTree, Scan]:
    """The file system the layers make, applied bottom first, as the audit reads it."""
    entries: dict[str, str | None] = {}
    elf: dict[str, ElfFile] = {}
    unreadable: dict[str, None] = {}
    records: dict[str, dict[str, str]] = {}
    texts: dict[str, str] = {}
    maps: tuple[dict[str, Any], ...] = (entries, elf, unreadable, records, texts)
    for layer in layers:
        for folder in layer.opaque:
            for mapping in maps:
                _drop(mapping, folder, itself=False)
        for path in layer.removed:
            for mapping in maps:
                _drop(mapping, path, itself=True)
        for path in layer.entries:
            for mapping in maps[1:]:
                mapping.pop(path, None)  # replaced by this layer's entry
        entries.update(layer.entries)
        elf.update({item.path: item for item in layer.elf})
        unreadable.update(dict.fromkeys(layer.unreadable))
        records.update(layer.records)
        texts.update(layer.texts)
    tree = TarTree()
    for path, link in entries.items():
        tree.add(path, link)
    tree.texts = texts
    owners: dict[str, str] = {}
    for path in sorted(records):
        for top, name in records[path].items():
            owners.setdefault(top, name)
    roots = {path[: path.index(SITE) + len(SITE) - 1] for path in entries if SITE in path}
    return tree, Scan(
        site_packages=tuple(sorted(roots)),
        files=tuple(elf[path] for path in sorted(elf)),
        owners=owners,
        unreadable=tuple(sorted(unreadable)),
    )


def source_layer(layers: Sequence[LayerScan], path: str) -> int | None:
    """The index of the layer whose copy of ``path`` the image shows: the topmost that
    holds it; None where none does or a layer above removed it or hid it (opaque)."""
    for index in range(len(layers) - 1, -1, -1):
        layer = layers[index]
        if path in layer.entries:
            return index
        if any(path == gone or _under(path, gone) for gone in layer.removed):
            return None
        if any(_under(path, folder) for folder in layer.opaque):
            return None
    return None


def changed_paths(
    common: Sequence[LayerScan], before: Sequence[LayerScan], after: Sequence[LayerScan]
) -> list[str]:
    """The paths whose content, kind, mode or owner differ between ``common + before`` and
    ``common + after``. A folder ending in ``/`` stands for everything below it: an
    opaque folder, a removal, or a path whose state no side can tell."""
    touched: set[str] = set()
    folders: set[str] = set()
    for layer in (*before, *after):
        touched.update(layer.entries)
        folders.update(folder.rstrip("/") + "/" for folder in (*layer.opaque, *layer.removed))
    changed = sorted(folders)
    below = _states(common)
    old, new = _states(before, below), _states(after, below)
    for path in sorted(touched):
        if any(path.startswith(folder) for folder in folders):
            continue
        if old.get(path, "?") != new.get(path, "?") or "?" in (old.get(path), new.get(path)):
            changed.append(path)
    return changed


def _states(layers: Iterable[LayerScan], start: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each path's state after ``layers`` ("?" when a layer could not hash it)."""
    states = dict(start or {})
    for layer in layers:
        for path in layer.entries:
            states[path] = "?" if layer.states is None else layer.states.get(path, "?")
    return states


@dataclass(frozen=True)
class SmokeTrace:
    """What one import smoke looked at: the modules it asked for (found or not), the
    files it opened, the folders it listed, and its sys.path."""

    asked: frozenset[str]
    opened: frozenset[str]
    listed: frozenset[str]
    path: tuple[str, ...]
    distributions: frozenset[str]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], distributions: Iterable[str]) -> SmokeTrace:
        """From the smoke's NOXGRID-TRACE line."""
        return cls(
            asked=frozenset(data.get("asked", ())),
            opened=frozenset(data.get("opened", ())),
            listed=frozenset(data.get("listed", ())),
            path=tuple(entry for entry in data.get("path", ()) if entry),
            distributions=frozenset(str(canonicalize_name(d)) for d in distributions),
        )


def _names_of(entry: str) -> set[str]:
    """The module and distribution names a top-level entry of a sys.path folder answers to."""
    if entry.endswith((".dist-info", ".egg-info")):
        return {str(canonicalize_name(entry.rsplit(".", 1)[0].split("-", 1)[0]))}
    return {entry.split(".", 1)[0]}


def smoke_concern(path: str, trace: SmokeTrace, workdir: str) -> str | None:
    """Why a change at ``path`` could change what the import smoke sees (None: it cannot).

    Only a change inside a sys.path folder can leave the smoke as it was, and
    only where it is none of: a module or distribution the smoke asked for, a
    ``.pth`` file or ``*customize`` module (run at start), a file it opened or
    a folder it listed outside the import system, a shared library, or a file
    directly in the working folder (a config file the code looks for).
    """
    bare = path.rstrip("/")
    if bare in trace.opened or any(_under(opened, bare) for opened in trace.opened):
        return f"the smoke read {bare}"
    if ".so" in posixpath.basename(bare) or bare.startswith("/etc/ld.so"):
        return f"{bare} is a shared library or the loader's configuration"
    parent = posixpath.dirname(bare)
    if parent in trace.listed and parent not in trace.path:
        return f"the smoke listed {parent}"
    for folder in sorted(trace.path, key=len, reverse=True):
        if not _under(bare, folder):
            continue
        relative = bare[len(folder.rstrip("/")) + 1 :]
        top = relative.split("/", 1)[0]
        if "/" not in relative and (folder == workdir or path.endswith("/")):
            return f"{bare} is directly in {folder}"
        if top.endswith(".pth") or top.split(".", 1)[0] in ("sitecustomize", "usercustomize"):
            return f"{bare} runs when Python starts"
        names = _names_of(top)
        if names & trace.asked or names & trace.distributions:
            return f"{bare} is part of {sorted(names)[0]}, which the smoke imports"
        return None
    return f"{bare} is outside the folders Python imports from"
