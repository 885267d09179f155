"""Every installed file proved against its RECORD hash, and what may skip the hashing.

uv checks each wheel it downloads against the lock's hash, then unpacks it into its
cache once and links (or copies) that unpacked tree into every venv. A file changed in
the cache afterwards reaches each new venv unseen. So after every sync each
distribution's files are hashed and compared with its RECORD (whose METADATA row
carries the name and version the lock pins), unless they were hashed before and
nothing about them changed since: the same RECORD and, for every file it lists, the
same size, modification time and inode (``stat_digest``). Any write to a file moves
its modification time; a file replaced (uv installing it again) gets a new inode.
Bytecode a wheel ships under ``__pycache__`` is left out: uv compiles the venv's
bytecode at install and rewrites those files, so their RECORD hashes no longer hold;
Python checks a ``.pyc`` against its source before it uses it.
Pure: reads files, runs nothing.
"""

from __future__ import annotations

import base64
import csv
import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from noxgrid.model.installed import Installed


def compiled_bytecode(path: str) -> bool:
    """True for a ``__pycache__/*.pyc`` a RECORD lists: rewritten by the install's own
    bytecode compilation, so not judged against the hash the wheel shipped it with."""
    return path.endswith(".pyc") and "__pycache__/" in path


def record_rows(dist: Installed) -> list[tuple[str, str, str]]:
    """(path, hash, size) of each RECORD row (empty strings where the row has none)."""
    try:
        text = (dist.dist_info / "RECORD").read_text(encoding="utf-8")
    except OSError:
        return []
    rows = []
    for row in csv.reader(text.splitlines()):
        if row:
            padded = [*row, "", ""]
            rows.append((padded[0], padded[1], padded[2]))
    return rows


def stat_digest(dist: Installed) -> str:
    """A digest of the size, modification time (ns) and inode of every file its RECORD
    lists: it moves with any write to one of them, or any of them replaced."""
    site = dist.dist_info.parent
    digest = hashlib.sha256()
    for path, _, _ in record_rows(dist):
        if compiled_bytecode(path):
            continue
        try:
            info = (site / path).stat()
            seen = f"{info.st_size}:{info.st_mtime_ns}:{info.st_ino}"
        except OSError:
            seen = "gone"
        digest.update(f"{path}\0{seen}\n".encode())
    return digest.hexdigest()


def _hash(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def differing_files(dist: Installed, others: Collection[str] = ()) -> list[str]:
    """The files its RECORD lists with a hash whose content on disk has another hash (or
    that are gone). ``others``: paths another distribution holds on purpose (an
    exclusive allowance's keep), not judged against this RECORD."""
    site = dist.dist_info.parent
    wrong = []
    for path, recorded, _ in record_rows(dist):
        algorithm, _, expected = recorded.partition("=")
        if not expected or path in others or compiled_bytecode(path):
            continue  # the RECORD itself, keep's copy, or bytecode the install compiled
        try:
            if algorithm not in hashlib.algorithms_available:
                raise ValueError(algorithm)
            if _hash(site / path, algorithm) != expected:
                wrong.append(path)
        except (OSError, ValueError):
            wrong.append(path)
    return wrong


@dataclass(frozen=True, kw_only=True)
class Tampered:
    """A distribution whose files on disk are not the ones its RECORD lists."""

    name: str
    version: str
    files: tuple[str, ...]

    def message(self, *, after_sync: bool) -> str:
        """One line: the distribution, the first file, the fix."""
        more = f" and {len(self.files) - 1} more file(s)" if len(self.files) > 1 else ""
        where = (
            "right after uv installed it: uv's cache holds an altered copy of the wheel"
            if after_sync
            else "since it was installed"
        )
        return (
            f"{self.name} {self.version}: {self.files[0]}{more} differs from the hash its "
            f"RECORD lists, {where}; fix: uv cache clean {self.name}, then run the cell again"
        )


def to_hash(
    installed: Mapping[str, Installed],
    manifest: Mapping[str, Mapping[str, object]] | None,
    stats: Mapping[str, str],
) -> list[str]:
    """The names (of ``stats``: each distribution's ``stat_digest`` now) whose files must
    be hashed: every one not hashed before (no ``stat`` in the ``manifest``), or whose
    RECORD or file stats moved since."""
    wanted = []
    for key, stat in stats.items():
        entry = (manifest or {}).get(key) or {}
        if entry.get("record") != installed[key].record_sha256 or entry.get("stat") != stat:
            wanted.append(key)
    return wanted
