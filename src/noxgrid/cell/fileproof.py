"""Every file of every locked distribution in the venv proved against its RECORD hash:
before a reused venv is trusted, and after every sync (``noxgrid.model.recordproof``)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from noxgrid.files import atomic_write
from noxgrid.model.installed import MANIFEST, Installed, manifest_of, read_installed
from noxgrid.model.lockfile import Lock
from noxgrid.model.recordproof import Tampered, differing_files, stat_digest, to_hash


@dataclass(frozen=True, kw_only=True)
class FileProof:
    """What hashing the venv's files found."""

    tampered: tuple[Tampered, ...]
    stats: dict[str, str]  # stat_digest of each distribution proved (tampered ones left out)
    hashed: int  # distributions hashed this time
    checked: int  # distributions looked at (the rest only by their files' stats)
    seconds: float = 0.0

    def detail(self) -> str:
        """How much was hashed, and how long it took, for the stage's line."""
        unchanged = self.checked - self.hashed
        return (
            f"{self.hashed} hashed against their RECORD"
            + (f", {unchanged} unchanged since (stat)" if unchanged else "")
            + f" in {self.seconds:.2f}s"
        )


def prove_files(
    installed: Mapping[str, Installed],
    lock: Lock,
    manifest: Mapping[str, Mapping[str, object]] | None,
    *,
    keep: Collection[str] = (),
    skip: Collection[str] = (),
) -> FileProof:
    """Hash the files of each locked distribution of ``installed`` that was not hashed
    before or whose files' stats moved since (``manifest``). ``keep``: distributions
    installed last on purpose, whose files the others' RECORDs do not judge; ``skip``:
    names already known to be installed again."""
    start = time.perf_counter()
    kept = {canonicalize_name(name) for name in keep}
    theirs = {path for name in kept if name in installed for path in installed[name].record()}
    names = [key for key in lock.packages if key in installed and key not in skip]
    stats = {key: stat_digest(installed[key]) for key in names}
    wanted = to_hash(installed, manifest, stats)

    def check(key: str) -> list[str]:
        return differing_files(installed[key], set() if key in kept else theirs)

    # hashlib releases the GIL on large blocks: a few threads hash several wheels at once
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        found = dict(zip(wanted, pool.map(check, wanted), strict=True))
    tampered = tuple(
        Tampered(name=installed[key].name, version=installed[key].version, files=tuple(files))
        for key, files in found.items()
        if files
    )
    bad = {canonicalize_name(item.name) for item in tampered}
    return FileProof(
        tampered=tampered,
        stats={key: stat for key, stat in stats.items() if key not in bad},
        hashed=len(wanted),
        checked=len(names),
        seconds=time.perf_counter() - start,
    )


def write_manifest(venv: Path, lock: Lock, stats: Mapping[str, str] | None = None) -> None:
    """Record the venv as it is now, right after an install verified by uv (``stats``:
    the distributions whose files were proved against their RECORD)."""
    document = manifest_of(lock, read_installed(venv), stats)
    atomic_write(venv / MANIFEST, json.dumps(document, indent=1) + "\n")


def refresh_stats(venv: Path, stats: Mapping[str, str]) -> None:
    """Record the stats of distributions proved again, the rest of the manifest as it was."""
    path = venv / MANIFEST
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        packages = document["packages"]
        for key, stat in stats.items():
            if isinstance(packages.get(key), dict):
                packages[key]["stat"] = stat
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return  # no manifest to refresh: the next run proves the venv again
    atomic_write(path, json.dumps(document, indent=1) + "\n")


def tamper_failure(proof: FileProof) -> str:
    """The stage's failure: every altered distribution, the first file of each, the fix."""
    lines = [item.message(after_sync=True) for item in proof.tampered]
    fix = " ".join(f"uv cache clean {item.name};" for item in proof.tampered)
    head = lines[0] if len(lines) == 1 else f"{len(lines)} distributions differ from their RECORD"
    rest = "".join(f"\n  {line}" for line in lines) if len(lines) > 1 else ""
    tail = f"\n  fix: {fix.rstrip(';')}, then run the cell again" if len(lines) > 1 else ""
    return head + rest + tail
