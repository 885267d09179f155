from __future__ import annotations

import io
import zipfile

from noxgrid.model.zipdir import directory_offset, member_sizes


def archive(members: dict[str, int], comment: bytes = b"", zip64: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as made:
        for name, size in members.items():
            with made.open(name, "w", force_zip64=zip64) as stream:
                stream.write(b"x" * size)
        made.comment = comment
    return buffer.getvalue()


MEMBERS = {
    "pkg/__init__.py": 120,
    "pkg/data/model.bin": 70_000,
    "pkg/ünï.py": 3,
    "pkg-1.0.dist-info/RECORD": 0,
}


def as_zipfile_reads(data: bytes) -> dict[str, int]:
    with zipfile.ZipFile(io.BytesIO(data)) as read:
        return {info.filename: info.file_size for info in read.infolist()}


def test_the_directory_read_from_the_tail_is_what_zipfile_reads():
    data = archive(MEMBERS, comment=b"a comment")
    assert member_sizes(data, len(data)) == as_zipfile_reads(data) == MEMBERS
    tail = data[-2000:]  # compressed members: the directory is in the last bytes
    assert member_sizes(tail, len(data)) == MEMBERS


def test_a_tail_without_the_whole_directory_is_left_to_zipfile():
    data = archive({f"pkg/module_{n}.py": 1 for n in range(500)})
    assert member_sizes(data[-1000:], len(data)) is None
    start = directory_offset(data[-1000:])
    assert start is not None and start < len(data) - 1000
    assert member_sizes(data[start:], len(data)) == as_zipfile_reads(data)
    assert len(member_sizes(data, len(data)) or {}) == 500


def test_zip64_data_before_the_archive_and_garbage_are_left_to_zipfile():
    data = archive(MEMBERS, zip64=True)  # ZIP64 local headers; the directory needs none
    assert member_sizes(data, len(data)) == as_zipfile_reads(data) == MEMBERS
    plain = archive(MEMBERS)
    entry = plain.index(b"PK\x01\x02")
    marked = plain[: entry + 24] + b"\xff\xff\xff\xff" + plain[entry + 28 :]
    assert member_sizes(marked, len(marked)) is None, "a size kept in the ZIP64 extra field"
    plain = archive(MEMBERS)
    prefixed = b"#!/bin/sh\n" + plain
    assert member_sizes(prefixed, len(prefixed)) is None
    assert member_sizes(b"not a zip at all", 16) is None
    assert directory_offset(b"not a zip at all") is None
    assert member_sizes(plain[:-30], len(plain) - 30) is None, "a truncated end record"
