"""An image's layers, read where the engine keeps them, and what was read of each, kept.

A local engine with the overlay2 driver keeps each layer as a folder
(``<data-root>/overlay2/<cache-id>/diff``), found from the layer's chain ID in
``<data-root>/image/overlay2/layerdb``, whose ``diff`` file names the layer's
diff ID: noxgrid reads a folder only when that file matches. A whiteout is a
character device 0/0 there, an opaque folder carries the ``overlay.opaque``
attribute; both are read as root only (another user cannot see the attribute,
so its answer could not be trusted). Anywhere else (a remote engine, another
storage driver, no root) ``layer_folders`` answers None and the caller exports
the whole file system instead, as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from noxgrid.errors import LayerUnreadable
from noxgrid.files import atomic_write, read_json
from noxgrid.model.audit import audited_kind, read_library
from noxgrid.model.kept import record_hash
from noxgrid.model.layers import LayerScan, chain_ids, source_layer

# A layer over this many bytes is not hashed file by file: its paths then count as
# changed whenever it is not shared (dependency layers, which a source change keeps).
HASH_LIMIT = 64 * 2**20
OPAQUE = ("trusted.overlay.opaque", "user.overlay.opaque")
# Stored scans not used for this long are removed when new ones are written.
KEEP_DAYS = 14


def layer_folders(root_dir: str, inspect: dict[str, Any]) -> list[Path] | None:
    """The folder of each layer of an image (bottom first), or None where they cannot
    all be read from here (see the module's text)."""
    driver = (inspect.get("GraphDriver") or {}).get("Name")
    diff_ids = list((inspect.get("RootFS") or {}).get("Layers") or [])
    if driver != "overlay2" or not diff_ids or not root_dir or os.geteuid() != 0:
        return None
    root = Path(root_dir)
    folders = []
    for diff_id, chain in zip(diff_ids, chain_ids(diff_ids), strict=True):
        record = root / "image" / "overlay2" / "layerdb" / "sha256" / chain.split(":", 1)[-1]
        try:
            if (record / "diff").read_text().strip() != diff_id:
                return None
            folder = root / "overlay2" / (record / "cache-id").read_text().strip() / "diff"
        except OSError:
            return None
        if not folder.is_dir():
            return None
        folders.append(folder)
    return folders


def _opaque(folder: Path) -> bool:
    for name in OPAQUE:
        try:
            if os.getxattr(folder, name, follow_symlinks=False) == b"y":
                return True
        except OSError as exc:
            if exc.errno not in (61, 95):  # ENODATA, ENOTSUP: no such attribute here
                raise LayerUnreadable(f"{folder}: {exc}") from exc
    return False


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def read_layer(folder: Path, diff_id: str) -> LayerScan:
    """One layer's scan, read from its folder."""
    scan = LayerScan(diff_id=diff_id)
    total = 0
    try:
        for current, dirs, names in os.walk(folder):
            for name in [*dirs, *names]:
                full = Path(current, name)
                path = "/" + full.relative_to(folder).as_posix()
                info = full.lstat()
                if stat.S_ISCHR(info.st_mode) and info.st_rdev == 0:
                    scan.removed.append(path)
                    continue
                if stat.S_ISDIR(info.st_mode) and _opaque(full):
                    scan.opaque.append(path)
                link = str(full.readlink()) if stat.S_ISLNK(info.st_mode) else None
                scan.entries[path] = link
                state = f"{info.st_mode:o}:{info.st_uid}:{info.st_gid}"
                if link is not None:
                    state += ":" + link
                elif stat.S_ISREG(info.st_mode):
                    total += info.st_size
                    state += ":" + (_digest(full) if total <= HASH_LIMIT else "?")
                    _read_file(scan, full, path)
                assert scan.states is not None
                scan.states[path] = state
    except OSError as exc:
        raise LayerUnreadable(f"{folder}: {exc}") from exc
    if total > HASH_LIMIT:
        scan.states = None
    return scan


def _read_file(scan: LayerScan, full: Path, path: str) -> None:
    """What the audit needs of one regular file of a layer (as ``scan_tar`` reads it)."""
    kind = audited_kind(path)
    if kind is None:
        return
    with full.open("rb") as stream:
        if kind == "ld.so.conf":
            scan.texts[path] = stream.read(1 << 20).decode("utf-8", "replace")
        elif kind == "RECORD":
            scan.add_record(path, stream.read().decode("utf-8", "replace"))
        else:
            read_library(stream, path, scan.elf, scan.unreadable)


class LayerFiles:
    """An image's files read from its layer folders: each path from the topmost layer that
    holds it, as the engine shows it (a ``noxgrid.model.kept.FileSource``)."""

    def __init__(self, folders: Sequence[Path], scans: Sequence[LayerScan]) -> None:
        self.folders = folders
        self.scans = scans

    def _file(self, path: str) -> Path | None:
        index = source_layer(self.scans, path)
        if index is None:
            return None
        full = self.folders[index] / path.lstrip("/")
        return full if full.is_file() and not full.is_symlink() else None

    def text(self, path: str) -> str | None:
        """The file's content as text (None: no regular file there)."""
        full = self._file(path)
        try:
            return full.read_text(encoding="utf-8", errors="replace") if full else None
        except OSError as exc:
            raise LayerUnreadable(f"{full}: {exc}") from exc

    def record_hash(self, path: str) -> str | None:
        """The file's sha256 as RECORD writes it (None: no regular file there)."""
        full = self._file(path)
        if full is None:
            return None
        sha = hashlib.sha256()
        try:
            with full.open("rb") as stream:
                for block in iter(lambda: stream.read(1 << 20), b""):
                    sha.update(block)
        except OSError as exc:
            raise LayerUnreadable(f"{full}: {exc}") from exc
        return record_hash(sha.digest())


class LayerStore:
    """Layer scans kept by diff ID (one JSON file each), so a layer is read once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, diff_id: str) -> Path:
        return self.folder / (diff_id.split(":", 1)[-1] + ".json")

    def get(self, diff_id: str) -> LayerScan | None:
        """The stored scan of a layer, or None."""
        path = self._path(diff_id)
        data = read_json(path)
        scan = LayerScan.from_dict(data) if data is not None else None
        if scan is None or scan.diff_id != diff_id:
            return None
        os.utime(path)
        return scan

    def put(self, scan: LayerScan) -> None:
        """Keep a layer's scan."""
        atomic_write(self._path(scan.diff_id), json.dumps(scan.as_dict()))

    def prune(self) -> None:
        """Remove the scans not used for KEEP_DAYS."""
        cutoff = time.time() - KEEP_DAYS * 86400
        for old in self.folder.glob("*.json"):
            with contextlib.suppress(OSError):
                if old.stat().st_mtime < cutoff:
                    old.unlink()

    def scans(
        self, diff_ids: Sequence[str], folders: Sequence[Path] | None
    ) -> tuple[list[LayerScan], int]:
        """The scan of every layer, stored or read from its folder (and stored), and how
        many were read now. LayerUnreadable when one is neither."""
        result = []
        read = 0
        for index, diff_id in enumerate(diff_ids):
            scan = self.get(diff_id)
            if scan is None:
                if folders is None:
                    raise LayerUnreadable(f"layer {diff_id} was not read before")
                scan = read_layer(folders[index], diff_id)
                self.put(scan)
                read += 1
            result.append(scan)
        if read:
            self.prune()
        return result, read
