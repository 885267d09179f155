"""What a venv holds, read from its files, and the proof that it is exactly a lock.

A reused venv is never trusted from a stamp. After every install noxgrid
writes a manifest into the venv: for each distribution, the hashes the lock
gave it (the files uv checked the download against) and the digest of its
RECORD. A later run proves the venv equal to the lock again, in-process:
the same names and versions (nothing more, nothing less), the lock's hashes
unchanged for each, each RECORD unchanged and every file it lists present
with its recorded size. Only what differs is installed again.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from noxgrid.model.kept import shared_paths, whose
from noxgrid.model.localpkg import direct_url_path
from noxgrid.model.lockfile import Lock

MANIFEST = "noxgrid-installed.json"


@dataclass(frozen=True, kw_only=True)
class Installed:
    """One distribution found in a venv's site-packages."""

    name: str
    version: str
    dist_info: Path
    record_sha256: str

    def record(self) -> dict[str, str]:
        """Its RECORD: each file's path (relative to site-packages) and hash (``sha256=...``)."""
        try:
            text = (self.dist_info / "RECORD").read_text(encoding="utf-8")
        except OSError:
            return {}
        return {row[0]: row[1] for row in csv.reader(text.splitlines()) if len(row) >= 2}

    def missing_files(self, others: Collection[str] = ()) -> list[str]:
        """Files its RECORD lists that are gone or have another size. ``others``: paths
        another distribution's files hold on purpose (an exclusive allowance's keep,
        installed last over them), not judged against this RECORD."""
        record = self.dist_info / "RECORD"
        site = self.dist_info.parent
        problems = []
        try:
            rows = list(csv.reader(record.read_text(encoding="utf-8").splitlines()))
        except OSError:
            return [str(record)]
        for row in rows:
            if len(row) < 3 or not row[2].isdigit() or row[0] in others:
                continue  # RECORD itself, files listed without a size, keep's files
            # stat resolves links and "../../../bin/x" itself: one system call, where
            # resolve() would make one per folder of the path (a large venv lists tens
            # of thousands of files, proved on every run).
            try:
                if (site / row[0]).stat().st_size != int(row[2]):
                    problems.append(row[0])
            except OSError:
                problems.append(row[0])
        return problems


def site_packages(venv: Path) -> list[Path]:
    """The venv's site-packages folders (one, in practice)."""
    return sorted(venv.glob("lib*/python*/site-packages")) + sorted(venv.glob("Lib/site-packages"))


def read_installed(venv: Path) -> dict[str, Installed]:
    """Every distribution in the venv, by canonical name."""
    found: dict[str, Installed] = {}
    for site in site_packages(venv):
        for dist_info in site.glob("*.dist-info"):
            metadata = dist_info / "METADATA"
            name = version = ""
            try:
                with metadata.open(encoding="utf-8", errors="replace") as stream:
                    for line in stream:
                        if line.startswith("Name:"):
                            name = line[5:].strip()
                        elif line.startswith("Version:"):
                            version = line[8:].strip()
                        elif not line.strip():
                            break
            except OSError:
                continue
            if not name:
                continue
            try:
                record = hashlib.sha256((dist_info / "RECORD").read_bytes()).hexdigest()
            except OSError:
                record = ""
            found[canonicalize_name(name)] = Installed(
                name=name, version=version, dist_info=dist_info, record_sha256=record
            )
    return found


def manifest_of(
    lock: Lock, installed: Mapping[str, Installed], stats: Mapping[str, str] | None = None
) -> dict[str, object]:
    """What to remember of an install that uv just verified against ``lock``. ``stats``:
    the ``stat_digest`` of each distribution whose files were proved against its RECORD
    (``noxgrid.model.recordproof``); one without it is hashed again next time."""
    packages: dict[str, object] = {}
    for key, dist in sorted(installed.items()):
        entry: dict[str, object] = {
            "version": dist.version,
            "hashes": sorted(lock.packages[key].hashes) if key in lock.packages else [],
            "record": dist.record_sha256,
        }
        if stats and key in stats:
            entry["stat"] = stats[key]
        packages[key] = entry
    return {"packages": packages}


def read_manifest(venv: Path) -> dict[str, dict[str, object]] | None:
    """The manifest's packages, or None when there is none (or it is unreadable)."""
    try:
        document = json.loads((venv / MANIFEST).read_text(encoding="utf-8"))
        packages = document["packages"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return packages if isinstance(packages, dict) else None


def read_manifest_local(venv: Path) -> dict[str, dict[str, object]]:
    """The manifest's local packages by path (empty when there are none or it is unreadable):
    what the install stage recorded of each after installing it (``cell.local``)."""
    try:
        local = json.loads((venv / MANIFEST).read_text(encoding="utf-8"))["local"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return local if isinstance(local, dict) else {}


def find_local(
    installed: Mapping[str, Installed], root: Path, paths: Iterable[Path]
) -> dict[str, Installed]:
    """The distributions of ``installed`` installed (not editable) from each of ``paths``
    (local packages), by path relative to ``root``."""
    wanted = {str(path.resolve()): path.resolve().relative_to(root.resolve()) for path in paths}
    found = {}
    for dist in installed.values():
        source = direct_url_path(dist.dist_info)
        if source in wanted:
            found[wanted[source].as_posix()] = dist
    return found


def prove_local(
    wanted: Mapping[str, str],
    found: Mapping[str, Installed],
    recorded: Mapping[str, Mapping[str, object]],
) -> dict[str, str]:
    """The local packages to install again, by path, with the reason.

    ``wanted``: each local package's content digest now; ``found``: what the venv holds
    from each (``find_local``); ``recorded``: the manifest's local section (the digest
    each was installed at, its RECORD's digest then).
    """
    again = {}
    for path, digest in wanted.items():
        dist, entry = found.get(path), recorded.get(path)
        if dist is None:
            again[path] = "not installed"
        elif entry is None:
            again[path] = "no record of which source was installed"
        elif entry.get("digest") != digest:
            again[path] = (
                f"its source changed (sha256 {str(entry.get('digest'))[:12]} -> {digest[:12]})"
            )
        elif entry.get("record") != dist.record_sha256:
            again[path] = "its RECORD changed since it was installed"
        elif dist.missing_files():
            again[path] = f"{len(dist.missing_files())} installed file(s) changed or gone"
    return again


@dataclass(frozen=True, kw_only=True)
class Proof:
    """How a venv differs from its lock; empty lists mean it is exactly the lock."""

    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()  # names to install again, with the reason in ``reasons``
    reasons: tuple[str, ...] = ()

    @property
    def equal(self) -> bool:
        """True when the venv holds exactly the lock, unchanged since uv verified it."""
        return not (self.missing or self.extra or self.changed)

    def summary(self) -> str:
        """One line: what differs."""
        parts = []
        if self.missing:
            parts.append(f"missing {', '.join(self.missing[:5])}")
        if self.extra:
            parts.append(f"not in the lock {', '.join(self.extra[:5])}")
        if self.reasons:
            parts.append("; ".join(self.reasons[:5]))
        return "; ".join(parts)


def prove(
    lock: Lock,
    installed: Mapping[str, Installed],
    manifest: Mapping[str, Mapping[str, object]] | None,
    *,
    ignore: Iterable[str] = (),
    check_files: bool = True,
    keep: Iterable[str] = (),
) -> Proof:
    """Compare a venv (``installed`` plus the ``manifest`` of its last install) with ``lock``.

    ``ignore``: canonical names that are not the lock's (the project itself).
    ``keep``: distributions installed last on purpose (exclusive allowances): the files
    their RECORDs list are theirs, whatever the other distributions' RECORDs say.
    """
    skip = {canonicalize_name(name) for name in ignore}
    kept = {canonicalize_name(name) for name in keep}
    theirs = {path for name in kept if name in installed for path in installed[name].record()}
    missing, changed, reasons = [], [], []
    for key, package in lock.packages.items():
        dist = installed.get(key)
        if dist is None:
            missing.append(package.name)
            continue
        if package.version and dist.version != package.version:
            changed.append(key)
            reasons.append(f"{package.name} is {dist.version}, the lock says {package.version}")
            continue
        entry = (manifest or {}).get(key)
        if entry is None:
            changed.append(key)
            reasons.append(f"{package.name}: no record of which files were installed")
            continue
        if list(entry.get("hashes", [])) != sorted(package.hashes):  # type: ignore[call-overload]
            changed.append(key)
            reasons.append(f"{package.name}: the lock's hashes changed since it was installed")
            continue
        if entry.get("record") != dist.record_sha256:
            changed.append(key)
            reasons.append(f"{package.name}: its RECORD changed since it was installed")
            continue
        if check_files:
            gone = dist.missing_files(set() if key in kept else theirs)
            if gone:
                changed.append(key)
                reasons.append(f"{package.name}: {len(gone)} file(s) changed or gone ({gone[0]})")
    extra = sorted(
        dist.name for key, dist in installed.items() if key not in lock.packages and key not in skip
    )
    return Proof(
        missing=tuple(missing),
        extra=tuple(extra),
        changed=tuple(changed),
        reasons=tuple(reasons),
    )


def file_hash(path: Path) -> str:
    """A file's hash as RECORD writes it: ``sha256=<urlsafe base64, no padding>``."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return "sha256=" + base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def not_kept(
    installed: Mapping[str, Installed], keep: str, others: Iterable[str]
) -> list[tuple[str, str]]:
    """(path, whose copy it is) of each file ``keep`` shares with ``others`` whose content
    on disk is not ``keep``'s (its RECORD's hash): empty when keep's files won. The image's
    doctor judges the same way (``noxgrid.model.kept``)."""
    if keep not in installed:
        return []
    ours = installed[keep].record()
    site = installed[keep].dist_info.parent
    rivals = {installed[o].name: installed[o].record() for o in others if o in installed}
    on_disk: dict[str, str | None] = {}
    for path in shared_paths(ours, rivals):
        try:
            on_disk[path] = file_hash(site / path)
        except OSError:
            on_disk[path] = None
    return whose(ours, rivals, on_disk)


def pyvenv_cfg(venv: Path) -> dict[str, str]:
    """The ``key = value`` settings of a venv's pyvenv.cfg (empty when it has none)."""
    try:
        text = (venv / "pyvenv.cfg").read_text(encoding="utf-8")
    except OSError:
        return {}
    settings = {}
    for line in text.splitlines():
        key, separator, value = line.partition("=")
        if separator:
            settings[key.strip()] = value.strip()
    return settings
