"""The dynamic section of an ELF file read the way the loader reads it, with ``struct``.

Only the ELF header, the program headers, the ``PT_DYNAMIC`` entries and the
string bytes they point to are read (a few kilobytes, whatever the file's size):
``DT_NEEDED``, ``DT_RPATH`` and ``DT_RUNPATH``, their strings found through
``DT_STRTAB`` mapped to a file offset by the ``PT_LOAD`` segment holding it. A
file this reader does not fully understand (an unknown machine, a table out of
the file's bounds, no string table, a file shorter than its segments) gives None,
and :func:`noxgrid.model.elf.read_elf` reads it with pyelftools instead: the fast
path never decides a file is broken.
"""

from __future__ import annotations

import struct
from typing import IO

MACHINES = {62: "EM_X86_64", 183: "EM_AARCH64", 3: "EM_386", 21: "EM_PPC64", 22: "EM_S390"}

PT_LOAD, PT_DYNAMIC = 1, 2
DT_NULL, DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_RPATH, DT_RUNPATH = 0, 1, 5, 10, 15, 29
MAX_DYNAMIC = 1 << 20  # bytes of dynamic entries a sane file never exceeds
MAX_STRING = 1 << 16  # bytes of one name or search path


def _read(stream: IO[bytes], offset: int, size: int) -> bytes:
    if offset < 0 or size < 0 or size > MAX_DYNAMIC:
        raise ValueError("left to pyelftools")
    stream.seek(offset)
    data = stream.read(size)
    if len(data) != size:
        raise ValueError("left to pyelftools")
    return data


def _segments(stream: IO[bytes], header: bytes, wide: bool, end: str) -> list[tuple[int, ...]]:
    """(type, offset, vaddr, filesz) of each program header."""
    if wide:
        phoff, phentsize, phnum = (
            struct.unpack_from(end + "Q", header, 32)[0],
            *struct.unpack_from(end + "HH", header, 54),
        )
        layout, size = end + "IIQQQQ", 56
    else:
        phoff, phentsize, phnum = (
            struct.unpack_from(end + "I", header, 28)[0],
            *struct.unpack_from(end + "HH", header, 42),
        )
        layout, size = end + "IIII", 32
    if phentsize < size or phnum == 0xFFFF:
        raise ValueError("left to pyelftools")
    table = _read(stream, phoff, phentsize * phnum)
    result: list[tuple[int, ...]] = []
    for index in range(phnum):
        fields = struct.unpack_from(layout, table, index * phentsize)
        if wide:  # p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz
            result.append((fields[0], fields[2], fields[3], fields[5]))
        else:  # p_type, p_offset, p_vaddr, p_paddr (p_filesz follows)
            filesz = struct.unpack_from(end + "I", table, index * phentsize + 16)[0]
            result.append((fields[0], fields[1], fields[2], filesz))
    return result


def _entries(
    stream: IO[bytes], dynamic: tuple[int, ...], wide: bool, end: str
) -> list[tuple[int, int]]:
    """(tag, value) of each dynamic entry up to DT_NULL."""
    layout = end + ("qQ" if wide else "iI")
    width = struct.calcsize(layout)
    data = _read(stream, dynamic[1], min(dynamic[3], MAX_DYNAMIC) // width * width)
    entries: list[tuple[int, int]] = []
    for tag, value in struct.iter_unpack(layout, data):
        if tag == DT_NULL:
            return entries
        entries.append((tag, value))
    raise ValueError("no DT_NULL")  # truncated


def _file_offset(segments: list[tuple[int, ...]], address: int) -> int:
    for kind, offset, vaddr, filesz in segments:
        if kind == PT_LOAD and vaddr <= address < vaddr + filesz:
            return address - vaddr + offset
    raise ValueError("left to pyelftools")


def _whole(
    stream: IO[bytes], header: bytes, segments: list[tuple[int, ...]], wide: bool, end: str
) -> None:
    """A file cut short (every loaded segment and the section headers must lie within it)
    is left to pyelftools: its headers and dynamic entries may read fine while the loader
    would fault on the missing bytes."""
    size = stream.seek(0, 2)
    if wide:
        shoff = struct.unpack_from(end + "Q", header, 40)[0]
        shentsize, shnum = struct.unpack_from(end + "HH", header, 58)
    else:
        shoff = struct.unpack_from(end + "I", header, 32)[0]
        shentsize, shnum = struct.unpack_from(end + "HH", header, 46)
    if shoff and shoff + shentsize * shnum > size:
        raise ValueError("left to pyelftools")
    for kind, offset, _vaddr, filesz in segments:
        if kind == PT_LOAD and offset + filesz > size:
            raise ValueError("left to pyelftools")


def dynamic_of(stream: IO[bytes]) -> tuple[str, list[str], list[str], list[str]] | None:
    """(machine, needed, rpath, runpath) of an ELF file; None where pyelftools must decide
    (not ELF, an unknown machine, anything out of bounds or unusual)."""
    try:
        return _dynamic(stream)
    except (struct.error, OSError, ValueError, UnicodeDecodeError):
        return None


def _dynamic(stream: IO[bytes]) -> tuple[str, list[str], list[str], list[str]]:
    header = _read(stream, 0, 64)
    if header[:4] != b"\x7fELF" or header[4] not in (1, 2) or header[5] not in (1, 2):
        raise ValueError("left to pyelftools")
    wide, end = header[4] == 2, "<" if header[5] == 1 else ">"
    machine = MACHINES.get(struct.unpack_from(end + "H", header, 18)[0])
    if machine is None:
        raise ValueError("left to pyelftools")
    segments = _segments(stream, header, wide, end)
    _whole(stream, header, segments, wide, end)
    dynamics = [segment for segment in segments if segment[0] == PT_DYNAMIC]
    if not dynamics:
        return machine, [], [], []
    entries = _entries(stream, dynamics[0], wide, end)
    table = dict(entries)
    wanted = [(tag, value) for tag, value in entries if tag in (DT_NEEDED, DT_RPATH, DT_RUNPATH)]
    if not wanted:
        return machine, [], [], []
    if DT_STRTAB not in table or DT_STRSZ not in table:
        raise ValueError("left to pyelftools")
    base, size = _file_offset(segments, table[DT_STRTAB]), table[DT_STRSZ]
    found: dict[int, list[str]] = {DT_NEEDED: [], DT_RPATH: [], DT_RUNPATH: []}
    for tag, value in wanted:  # each string alone: a library's table can be megabytes
        if value >= size:
            raise ValueError("left to pyelftools")
        chunk = _read(stream, base + value, min(MAX_STRING, size - value))
        stop = chunk.find(b"\0")
        if stop < 0:
            raise ValueError("left to pyelftools")
        found[tag].append(chunk[:stop].decode("utf-8"))
    split = [part for value in found[DT_RPATH] for part in value.split(":") if part]
    runpath = [part for value in found[DT_RUNPATH] for part in value.split(":") if part]
    return machine, found[DT_NEEDED], split, runpath
