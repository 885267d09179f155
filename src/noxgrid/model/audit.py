"""The ELF audit: which shared libraries the installed packages need and cannot find.

Every ELF file under a ``site-packages`` folder (extension modules, bundled
libraries, executables) is read as the loader reads it (headers and dynamic entries:
:mod:`noxgrid.model.elf`): its DT_NEEDED entries and its DT_RPATH/DT_RUNPATH. Each needed
library is then looked for the way the dynamic loader does, in a *tree*: the venv on this
machine, or an image's exported file system.

1. a name with a slash is a path;
2. the RPATH (when there is no RUNPATH) and the RUNPATH, ``$ORIGIN`` expanded;
3. a library any installed package bundles under that name (``*.libs``
   folders, ``nvidia/*/lib``: packages load those before their extensions);
4. the system's folders: ``/etc/ld.so.conf`` (and its includes), then the
   loader's defaults for the file's architecture.

What none of these finds is *missing*. The NVIDIA driver's libraries
(``libcuda.so.1``) are never missing: the driver brings them at run time.

No process is started here: the trees are read as files.
"""

from __future__ import annotations

import csv
import os
import posixpath
import tarfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from packaging.utils import canonicalize_name

from noxgrid.model.elf import (
    _TRIPLETS,
    ELF_MAGIC,
    ElfFile,
    TarTree,
    Tree,
    _might_be_library,
    _read_member,
    read_elf,
    system_dirs,
)
from noxgrid.model.installed import pyvenv_cfg
from noxgrid.model.sonames import is_cuda, provided_by_driver


@dataclass(frozen=True)
class Scan:
    """The ELF files found under the site-packages folders of a tree."""

    site_packages: tuple[str, ...]
    files: tuple[ElfFile, ...]
    owners: dict[str, str]
    unreadable: tuple[str, ...] = ()

    def owner(self, path: str) -> str | None:
        """The distribution that installed ``path``: the RECORD line naming the file, else
        the one naming its top-level folder (a file no RECORD lists)."""
        relative = self.relative(path)
        top = relative.split("/", 1)[0]
        return self.owners.get(relative) or self.owners.get(top)

    def relative(self, path: str) -> str:
        """``path`` relative to the site-packages folder holding it."""
        for root in self.site_packages:
            if path.startswith(root.rstrip("/") + "/"):
                return path[len(root.rstrip("/")) + 1 :]
        return path


def owners_from_record(dist_info: str, record: str, owners: dict[str, str]) -> None:
    """Map each library file a distribution's RECORD lists, and each top-level entry, to
    that distribution. Many distributions share a namespace folder (every nvidia-* wheel
    installs under ``nvidia/``), so a file's owner is the RECORD that lists the file; the
    top-level entries are kept for files no RECORD lists."""
    name = str(canonicalize_name(posixpath.basename(dist_info).split("-", 1)[0]))
    for row in csv.reader(record.splitlines()):
        entry = row[0].strip() if row else ""
        if not entry or entry.startswith(("..", "/")):
            continue
        top = entry.split("/", 1)[0]
        if top.endswith((".dist-info", ".data")) or top == "__pycache__":
            continue
        if _might_be_library(posixpath.basename(entry)):
            owners.setdefault(entry, name)
        if "/" not in entry and top.endswith(".py"):
            top = top[:-3]
        owners.setdefault(top, name)


SITE = "/site-packages/"


def audited_kind(path: str) -> str | None:
    """What the audit reads of the regular file at ``path`` (absolute, in an image):
    ``"ld.so.conf"`` (the loader's folders), ``"RECORD"`` (who installed what) or
    ``"library"`` (named like one, under site-packages); None for anything else."""
    if path == "/etc/ld.so.conf" or path.startswith("/etc/ld.so.conf.d/"):
        return "ld.so.conf"
    if SITE not in path:
        return None
    base = posixpath.basename(path)
    if base == "RECORD" and path.endswith(".dist-info/RECORD"):
        return "RECORD"
    return "library" if _might_be_library(base) else None


def read_library(stream: IO[bytes], path: str, files: list[ElfFile], unreadable: list[str]) -> None:
    """A file named like a library: added to ``files`` when it is ELF, to ``unreadable``
    when it is ELF too damaged to read, left out when it is not ELF at all."""
    if stream.read(4) != ELF_MAGIC:
        return
    stream.seek(0)
    elf = read_elf(stream, path)
    if elf is None:
        unreadable.append(path)
    else:
        files.append(elf)


def venv_site_packages(venv: Path) -> list[Path]:
    """The venv's site-packages folders."""
    return sorted(
        {
            path.resolve()
            for pattern in ("lib/python*/site-packages", "lib64/python*/site-packages")
            for path in venv.glob(pattern)
        }
    )


def scan_folders(folders: Iterable[Path]) -> Scan:
    """Every ELF file below ``folders`` (this machine's files)."""
    files: list[ElfFile] = []
    owners: dict[str, str] = {}
    unreadable: list[str] = []
    roots = [folder for folder in folders if folder.is_dir()]
    for folder in roots:
        for record in folder.glob("*.dist-info/RECORD"):
            owners_from_record(
                record.parent.name, record.read_text(encoding="utf-8", errors="replace"), owners
            )
        for current, _dirs, names in os.walk(folder):
            for name in names:
                if not _might_be_library(name):
                    continue
                path = Path(current) / name
                if path.is_symlink():
                    continue
                try:
                    with path.open("rb") as stream:
                        read_library(stream, str(path), files, unreadable)
                except OSError:
                    unreadable.append(str(path))
    return Scan(
        site_packages=tuple(str(folder) for folder in roots),
        files=tuple(files),
        owners=owners,
        unreadable=tuple(unreadable),
    )


def scan_tar(path: Path) -> tuple[TarTree, Scan]:
    """An exported image: its file system's names and the ELF files of its site-packages."""
    tree = TarTree()
    files: list[ElfFile] = []
    owners: dict[str, str] = {}
    unreadable: list[str] = []
    roots: set[str] = set()
    with tarfile.open(path, "r:") as archive:
        for member in archive:
            name = "/" + member.name.removeprefix("./").strip("/")
            tree.add(name, member.linkname if member.issym() else None)
            if member.islnk():
                continue  # a hard link: its target is read under its own name
            if not member.isfile():
                continue
            if SITE in name:
                roots.add(name[: name.index(SITE) + len(SITE) - 1])
            kind = audited_kind(name)
            if kind == "ld.so.conf":
                tree.texts[name] = _read_member(archive, member).decode("utf-8", "replace")
            elif kind == "RECORD":
                text = _read_member(archive, member).decode("utf-8", "replace")
                owners_from_record(posixpath.dirname(name), text, owners)
            elif kind == "library":
                stream = archive.extractfile(member)
                if stream is not None:
                    with stream:
                        read_library(stream, name, files, unreadable)
    return tree, Scan(
        site_packages=tuple(sorted(roots)),
        files=tuple(files),
        owners=owners,
        unreadable=tuple(unreadable),
    )


@dataclass(frozen=True)
class Missing:
    """One library nothing provides, and who needs it."""

    soname: str
    needed_by: tuple[str, ...]
    distributions: tuple[str, ...]
    cuda: bool = False
    # Whether a file the import smoke loaded (or the project's own) needs it, through
    # DT_NEEDED (noxgrid.model.reach); None: not told, which counts as reachable.
    reachable: bool | None = None


@dataclass(frozen=True)
class AuditResult:
    """What the audit of one tree found."""

    files: int
    missing: tuple[Missing, ...]
    from_system: dict[str, str]
    driver: tuple[str, ...] = ()
    foreign: int = 0
    unreadable: tuple[str, ...] = ()
    seconds: float = 0.0
    scan: Scan | None = field(default=None, compare=False, repr=False)  # for reachability
    # Libraries found on the system that only files nothing imports need (model.reach):
    # an image need not install them.
    unreached_system: tuple[str, ...] = ()

    @property
    def blocking(self) -> tuple[Missing, ...]:
        """The missing libraries that are not CUDA's and that the project may reach."""
        return tuple(item for item in self.missing if not item.cuda and item.reachable is not False)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form."""
        return {
            "elf_files": self.files,
            "missing": [
                {
                    "soname": item.soname,
                    "needed_by": list(item.needed_by),
                    "distributions": list(item.distributions),
                    "cuda": item.cuda,
                    "reachable": item.reachable,
                }
                for item in self.missing
            ],
            "from_system": dict(sorted(self.from_system.items())),
            "driver": list(self.driver),
            "foreign": self.foreign,
            "unreadable": list(self.unreadable),
            "seconds": round(self.seconds, 3),
        }


def _expand(entry: str, origin: str, machine: str) -> str:
    lib = "lib64" if machine in ("EM_X86_64", "EM_AARCH64", "EM_PPC64", "EM_S390") else "lib"
    platform = _TRIPLETS.get(machine, "").split("-", 1)[0]
    for token, value in (("ORIGIN", origin), ("LIB", lib), ("PLATFORM", platform)):
        entry = entry.replace("${" + token + "}", value).replace("$" + token, value)
    return posixpath.normpath(entry)


def audit(scan: Scan, tree: Tree, *, extra_dirs: Iterable[str] = ()) -> AuditResult:
    """Resolve every DT_NEEDED of ``scan`` in ``tree``; what stays unresolved is missing.

    ``seconds`` is left for the caller, who times the scan and this together.
    """
    machines = Counter(elf.machine for elf in scan.files)
    machine = machines.most_common(1)[0][0] if machines else "EM_X86_64"
    resolver = _Resolver(
        tree=tree,
        machine=machine,
        folders=system_dirs(tree, machine, extra_dirs),
        bundled={posixpath.basename(elf.path) for elf in scan.files if elf.machine == machine},
    )
    foreign = 0
    for elf in scan.files:
        if elf.machine != machine:
            foreign += 1
            continue
        resolver.resolve(elf)
    items = []
    for soname in sorted(resolver.missing, key=str.lower):
        paths = sorted(set(resolver.missing[soname]))
        owners = sorted({owner for path in paths if (owner := scan.owner(path))})
        items.append(
            Missing(
                soname=soname,
                needed_by=tuple(scan.relative(path) for path in paths),
                distributions=tuple(owners),
                cuda=is_cuda(soname),
            )
        )
    return AuditResult(
        files=len(scan.files),
        missing=tuple(items),
        from_system=resolver.from_system,
        driver=tuple(sorted(resolver.driver)),
        foreign=foreign,
        unreadable=scan.unreadable,
        scan=scan,
    )


class _Resolver:
    """Looks each needed library up the way the loader would, remembering the answers."""

    def __init__(self, *, tree: Tree, machine: str, folders: list[str], bundled: set[str]):
        self.tree, self.machine, self.folders, self.bundled = tree, machine, folders, bundled
        self.system_cache: dict[str, str | None] = {}
        self.missing: dict[str, list[str]] = defaultdict(list)
        self.from_system: dict[str, str] = {}
        self.driver: set[str] = set()

    def resolve(self, elf: ElfFile) -> None:
        """Every DT_NEEDED of one file: RPATH/RUNPATH, a bundled copy, the system, the driver."""
        origin = posixpath.dirname(elf.path)
        search = [] if elf.runpath else list(elf.rpath)
        search += list(elf.runpath)
        search = [_expand(entry, origin, self.machine) for entry in search]
        for soname in elf.needed:
            if "/" in soname:
                target = soname if soname.startswith("/") else posixpath.join(origin, soname)
                if not self.tree.exists(target):
                    self.missing[soname].append(elf.path)
                continue
            if soname in self.bundled or any(
                self.tree.exists(posixpath.join(folder, soname)) for folder in search
            ):
                continue
            found = self._system(soname)
            if found is not None:
                self.from_system[soname] = found
            elif provided_by_driver(soname):
                self.driver.add(soname)
            else:
                self.missing[soname].append(elf.path)

    def _system(self, soname: str) -> str | None:
        if soname not in self.system_cache:
            self.system_cache[soname] = next(
                (
                    posixpath.join(folder, soname)
                    for folder in self.folders
                    if self.tree.exists(posixpath.join(folder, soname))
                ),
                None,
            )
        return self.system_cache[soname]


def interpreter_lib_dirs(venv: Path) -> list[str]:
    """The base interpreter's lib folder (where a shared libpython lives), from pyvenv.cfg."""
    home = pyvenv_cfg(venv).get("home")
    return [str(Path(home).parent / "lib")] if home else []
