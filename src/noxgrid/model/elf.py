"""ELF files and the trees they are found in (this machine, or an image's exported tar),
read as the loader reads them (:mod:`noxgrid.model.elfdynamic`; pyelftools for what that
leaves open): what each file needs (DT_NEEDED) and where it looks (RPATH, RUNPATH).
Nothing is executed.
"""

from __future__ import annotations

import fnmatch
import posixpath
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from noxgrid.model.elfdynamic import dynamic_of

if TYPE_CHECKING:
    from elftools.elf.dynamic import DynamicSection, DynamicSegment

ELF_MAGIC = b"\x7fELF"

_TRIPLETS = {
    "EM_X86_64": "x86_64-linux-gnu",
    "EM_AARCH64": "aarch64-linux-gnu",
    "EM_386": "i386-linux-gnu",
    "EM_PPC64": "powerpc64le-linux-gnu",
    "EM_S390": "s390x-linux-gnu",
}


@dataclass(frozen=True)
class ElfFile:
    """What the loader reads from one ELF file: the libraries it needs and where to look."""

    path: str
    needed: tuple[str, ...]
    rpath: tuple[str, ...] = ()
    runpath: tuple[str, ...] = ()
    machine: str = "EM_X86_64"


def read_elf(stream: IO[bytes], path: str) -> ElfFile | None:
    """Parse ``stream`` as ELF; None when it is not one (or is too damaged to read).

    The loader's view first (:mod:`noxgrid.model.elfdynamic`: headers and dynamic
    entries only, a few kilobytes a file); pyelftools for what that leaves open."""
    fast = dynamic_of(stream)
    if fast is not None:
        machine, needed, rpath, runpath = fast
        return ElfFile(path, tuple(needed), tuple(rpath), tuple(runpath), machine)
    return read_elf_slow(stream, path)


def read_elf_slow(stream: IO[bytes], path: str) -> ElfFile | None:
    """``read_elf`` with pyelftools alone (sections first, then segments)."""
    # pyelftools is imported when a file is read (30 ms a process that reads none spares).
    from elftools.common.exceptions import ELFError
    from elftools.elf.dynamic import DynamicSection, DynamicSegment
    from elftools.elf.elffile import ELFFile

    try:
        stream.seek(0)
        elf = ELFFile(stream)
        machine = str(elf["e_machine"])
        dynamic: DynamicSection | DynamicSegment | None = None
        section = elf.get_section_by_name(".dynamic")
        if isinstance(section, DynamicSection):
            dynamic = section
        else:
            for segment in elf.iter_segments():
                if isinstance(segment, DynamicSegment):
                    dynamic = segment
                    break
        needed: list[str] = []
        rpath: list[str] = []
        runpath: list[str] = []
        if dynamic is not None:
            for tag in dynamic.iter_tags():
                kind = tag.entry.d_tag
                if kind == "DT_NEEDED":
                    needed.append(str(vars(tag).get("needed", "")))
                elif kind == "DT_RPATH":
                    rpath += [part for part in str(vars(tag).get("rpath", "")).split(":") if part]
                elif kind == "DT_RUNPATH":
                    value = str(vars(tag).get("runpath", ""))
                    runpath += [part for part in value.split(":") if part]
    except (ELFError, ValueError, KeyError, AttributeError, OSError, TypeError):
        return None
    return ElfFile(
        path=path,
        needed=tuple(needed),
        rpath=tuple(rpath),
        runpath=tuple(runpath),
        machine=machine,
    )


def _might_be_library(name: str) -> bool:
    return name.endswith(".so") or ".so." in name


class Tree(Protocol):
    """A file system to resolve libraries in: this machine's, or an image's."""

    def exists(self, path: str) -> bool:
        """True when ``path`` (absolute, POSIX) names something, links followed."""

    def read_text(self, path: str) -> str | None:
        """A small text file's content, or None."""

    def listdir(self, path: str) -> list[str]:
        """The names in a folder (empty when it is not one)."""


class HostTree:
    """This machine's file system (or a chroot-like copy of one under ``root``)."""

    def __init__(self, root: str = "/") -> None:
        self.root = root

    def _host(self, path: str) -> Path:
        return Path(self.root) / path.lstrip("/")

    def exists(self, path: str) -> bool:
        """True when the path exists here."""
        return self._host(path).exists()

    def read_text(self, path: str) -> str | None:
        """The file's text, or None."""
        try:
            return self._host(path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None

    def listdir(self, path: str) -> list[str]:
        """The folder's entries."""
        try:
            return [entry.name for entry in self._host(path).iterdir()]
        except OSError:
            return []


@dataclass
class TarTree:
    """An image's file system, from the tar ``docker export`` writes.

    Only names, link targets and a few small text files are kept; links (to
    files or folders, absolute or relative) are followed like the kernel does.
    """

    entries: dict[str, str | None] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)

    def add(self, path: str, link: str | None = None) -> None:
        """Record one entry (``link``: a symbolic link's target)."""
        path = "/" + path.strip("/")
        self.entries[path] = link
        parent = posixpath.dirname(path)
        while parent != "/" and parent not in self.entries:
            self.entries[parent] = None
            parent = posixpath.dirname(parent)

    def _real(self, path: str, depth: int = 0) -> str | None:
        if depth > 40:
            return None
        parts = [part for part in path.split("/") if part and part != "."]
        current = "/"
        for index, part in enumerate(parts):
            if part == "..":
                current = posixpath.dirname(current)
                continue
            candidate = posixpath.join(current, part)
            if candidate not in self.entries:
                return None
            link = self.entries[candidate]
            if link is not None:
                target = link if link.startswith("/") else posixpath.join(current, link)
                rest = "/".join(parts[index + 1 :])
                return self._real(posixpath.join(target, rest) if rest else target, depth + 1)
            current = candidate
        return current

    def exists(self, path: str) -> bool:
        """True when the path exists in the image."""
        return self._real(path) is not None

    def read_text(self, path: str) -> str | None:
        """A small text file kept while reading the tar."""
        real = self._real(path)
        return self.texts.get(real) if real else None

    def listdir(self, path: str) -> list[str]:
        """The names in an image folder."""
        real = self._real(path)
        if real is None:
            return []
        prefix = real.rstrip("/") + "/"
        return sorted(
            {
                entry[len(prefix) :].split("/", 1)[0]
                for entry in self.entries
                if entry.startswith(prefix)
            }
        )


def _read_member(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    stream = archive.extractfile(member)
    if stream is None:
        return b""
    with stream:
        return stream.read(1 << 20)


def ld_so_conf_dirs(tree: Tree, path: str = "/etc/ld.so.conf", depth: int = 0) -> list[str]:
    """The folders ``/etc/ld.so.conf`` names, includes followed (as ``ldconfig`` reads them)."""
    text = tree.read_text(path)
    if text is None or depth > 8:
        return []
    folders: list[str] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("include"):
            pattern = line.split(None, 1)[1].strip() if " " in line else ""
            if not pattern.startswith("/"):
                pattern = posixpath.join(posixpath.dirname(path), pattern)
            folder, glob = posixpath.split(pattern)
            for name in sorted(tree.listdir(folder)):
                if fnmatch.fnmatchcase(name, glob):
                    folders += ld_so_conf_dirs(tree, posixpath.join(folder, name), depth + 1)
        elif line.startswith("/"):
            folders.append(line.split("=", 1)[0].rstrip("/") or "/")
    return folders


def system_dirs(tree: Tree, machine: str, extra: Iterable[str] = ()) -> list[str]:
    """Where the loader looks after RPATH/RUNPATH, in its order, for one architecture."""
    folders = [*ld_so_conf_dirs(tree), *extra]
    triplet = _TRIPLETS.get(machine)
    if triplet:
        folders += [f"/lib/{triplet}", f"/usr/lib/{triplet}"]
    folders += ["/lib64", "/usr/lib64", "/lib", "/usr/lib"]
    unique: list[str] = []
    for folder in folders:
        if folder not in unique:
            unique.append(folder)
    return unique
