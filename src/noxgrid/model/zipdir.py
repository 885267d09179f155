"""A zip archive's central directory read from its last bytes: each member's name and
size, without zipfile's objects (sizing hundreds of wheels reads tens of thousands of
members). Anything unusual (ZIP64, a directory the bytes do not hold, data before the
archive) answers None: zipfile reads that archive instead.
"""

from __future__ import annotations

import struct

END = b"PK\x05\x06"
ENTRY = b"PK\x01\x02"
ZIP64_LOCATOR = b"PK\x06\x07"
END_SIZE = 22
ENTRY_SIZE = 46
UTF8_NAMES = 0x800


def directory_offset(tail: bytes) -> int | None:
    """Where the central directory starts, from the end record in ``tail`` (the archive's
    last bytes); None when there is none or it is ZIP64."""
    at = tail.rfind(END, max(0, len(tail) - END_SIZE - 65535))
    if at < 0 or len(tail) - at < END_SIZE:
        return None
    offset: int = struct.unpack_from("<I", tail, at + 16)[0]
    return None if offset == 0xFFFFFFFF else offset


def member_sizes(tail: bytes, archive_size: int) -> dict[str, int] | None:
    """{member name: uncompressed size} from ``tail``, the last bytes of an archive of
    ``archive_size`` bytes, when they hold its whole central directory; else None."""
    at = tail.rfind(END, max(0, len(tail) - END_SIZE - 65535))
    if at < 0 or len(tail) - at < END_SIZE:
        return None
    disk, directory_disk, _, count, size, offset = struct.unpack_from("<HHHHII", tail, at + 4)
    zip64 = at >= 20 and tail[at - 20 : at - 16] == ZIP64_LOCATOR
    if zip64 or disk or directory_disk or count == 0xFFFF:
        return None
    position = offset - (archive_size - len(tail))
    if position < 0 or position + size != at:  # not in these bytes, or data before it
        return None
    members: dict[str, int] = {}
    for _ in range(count):
        if tail[position : position + 4] != ENTRY or position + ENTRY_SIZE > at:
            return None
        (flags,) = struct.unpack_from("<H", tail, position + 8)
        unpacked, name_length, extra, comment = struct.unpack_from("<IHHH", tail, position + 24)
        if unpacked == 0xFFFFFFFF:
            return None
        raw = tail[position + ENTRY_SIZE : position + ENTRY_SIZE + name_length]
        name = raw.decode("utf-8" if flags & UTF8_NAMES else "cp437", errors="replace")
        members[name] = unpacked
        position += ENTRY_SIZE + name_length + extra + comment
    return members if position == at else None
