"""The fast ELF reader: the loader's view (headers and dynamic entries only), checked
against pyelftools on built files and on this machine's real ones."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest

from noxgrid.model.elf import read_elf, read_elf_slow
from noxgrid.model.elfdynamic import MAX_DYNAMIC, dynamic_of
from tests.unit.model.test_audit import a_real_extension_module

BASE = 0x10000


def build_elf(
    needed: tuple[str, ...] = ("libc.so.6",),
    rpath: str | None = None,
    runpath: str | None = None,
    *,
    wide: bool = True,
    little: bool = True,
    machine: int = 62,
    padding: int = 0,
) -> bytes:
    """A minimal shared object: one PT_LOAD mapping the whole file, one PT_DYNAMIC, a string
    table (``padding`` bytes of symbol names after the strings the entries name)."""
    end = "<" if little else ">"
    header_size, ph_size = (64, 56) if wide else (52, 32)
    strings = b"\0"
    offsets = []
    for text in (*needed, rpath, runpath):
        offsets.append(len(strings) if text is not None else None)
        strings += (text or "").encode() + b"\0" if text is not None else b""
    strings += b"s" * padding + b"\0"
    strtab = header_size + 2 * ph_size
    dynamic_at = strtab + len(strings)
    entries = [(1, offset) for offset in offsets[: len(needed)]]
    if rpath is not None:
        entries.append((15, offsets[len(needed)]))
    if runpath is not None:
        entries.append((29, offsets[len(needed) + 1]))
    entries += [(5, BASE + strtab), (10, len(strings)), (0, 0)]
    layout = end + ("qQ" if wide else "iI")
    dynamic = b"".join(struct.pack(layout, tag, value) for tag, value in entries)
    total = dynamic_at + len(dynamic)
    ident = b"\x7fELF" + bytes([2 if wide else 1, 1 if little else 2, 1]) + b"\0" * 9
    if wide:
        header = ident + struct.pack(
            end + "HHIQQQIHHHHHH", 3, machine, 1, 0, header_size, 0, 0, 64, 56, 2, 64, 0, 0
        )
        load = struct.pack(end + "IIQQQQQQ", 1, 5, 0, BASE, BASE, total, total, 0x1000)
        dyn = struct.pack(
            end + "IIQQQQQQ", 2, 6, dynamic_at, BASE + dynamic_at, 0, len(dynamic), len(dynamic), 8
        )
    else:
        header = ident + struct.pack(
            end + "HHIIIIIHHHHHH", 3, machine, 1, 0, header_size, 0, 0, 52, 32, 2, 40, 0, 0
        )
        load = struct.pack(end + "IIIIIIII", 1, 0, BASE, BASE, total, total, 5, 0x1000)
        dyn = struct.pack(
            end + "IIIIIIII", 2, dynamic_at, BASE + dynamic_at, 0, len(dynamic), len(dynamic), 6, 4
        )
    return header + load + dyn + strings + dynamic


@pytest.mark.parametrize("wide", [True, False])
@pytest.mark.parametrize("little", [True, False])
def test_the_fast_reader_reads_what_pyelftools_reads(wide, little):
    data = build_elf(
        ("libz.so.1", "libc.so.6"), "$ORIGIN/../lib:/opt/x", "$ORIGIN", wide=wide, little=little
    )
    assert dynamic_of(io.BytesIO(data)) == (
        "EM_X86_64",
        ["libz.so.1", "libc.so.6"],
        ["$ORIGIN/../lib", "/opt/x"],
        ["$ORIGIN"],
    )
    assert read_elf(io.BytesIO(data), "x.so") == read_elf_slow(io.BytesIO(data), "x.so")


def test_a_string_table_of_megabytes_is_read_name_by_name():
    data = build_elf(("libtorch_cpu.so",), padding=MAX_DYNAMIC + 10)
    assert dynamic_of(io.BytesIO(data)) == ("EM_X86_64", ["libtorch_cpu.so"], [], [])


def test_what_the_fast_reader_leaves_open_pyelftools_decides():
    unknown_machine = build_elf(machine=243)  # RISC-V: not in the fast reader's table
    assert dynamic_of(io.BytesIO(unknown_machine)) is None
    elf = read_elf(io.BytesIO(unknown_machine), "x.so")
    assert elf is not None and elf.machine == "EM_RISCV" and elf.needed == ("libc.so.6",)
    truncated = build_elf()[:-20]  # the dynamic entries cut before DT_NULL
    assert dynamic_of(io.BytesIO(truncated)) is None
    assert read_elf(io.BytesIO(truncated), "x.so") == read_elf_slow(io.BytesIO(truncated), "x.so")
    assert dynamic_of(io.BytesIO(b"\x7fELF" + b"\0" * 10)) is None
    assert dynamic_of(io.BytesIO(b"not an ELF file")) is None


def test_a_library_cut_short_after_its_dynamic_entries_is_left_to_pyelftools():
    """Its headers and dynamic entries read fine, but the loader would fault on the bytes
    its segments miss: the fast reader does not call it whole."""
    module = a_real_extension_module()
    data = module.read_bytes()
    assert dynamic_of(io.BytesIO(data)) is not None
    half = data[: len(data) // 2]
    assert dynamic_of(io.BytesIO(half)) is None
    assert read_elf(io.BytesIO(half), "x.so") == read_elf_slow(io.BytesIO(half), "x.so")


def test_a_real_extension_module_reads_the_same_both_ways():
    module = a_real_extension_module()
    with module.open("rb") as stream:
        fast = dynamic_of(stream)
        slow = read_elf_slow(stream, str(module))
    assert fast is not None and slow is not None
    assert (fast[0], tuple(fast[1]), tuple(fast[2]), tuple(fast[3])) == (
        slow.machine,
        slow.needed,
        slow.rpath,
        slow.runpath,
    )


def test_a_library_in_a_venv_or_an_image_is_read_without_pyelftools(tmp_path, monkeypatch):
    import tarfile

    import noxgrid.model.elf as elf
    from noxgrid.model.audit import scan_folders, scan_tar

    def refused(stream, path):
        raise AssertionError(f"pyelftools read {path}")

    monkeypatch.setattr(elf, "read_elf_slow", refused)
    site = tmp_path / "root" / "venv" / "lib" / "python3.11" / "site-packages"
    (site / "pkg").mkdir(parents=True)
    (site / "pkg" / "big.so").write_bytes(build_elf(("libz.so.1",), padding=3 << 20))
    (site / "pkg" / "real.so").write_bytes(a_real_extension_module().read_bytes())
    scan = scan_folders([site])
    assert sorted(Path(item.path).name for item in scan.files) == ["big.so", "real.so"]
    archive = tmp_path / "image.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(tmp_path / "root", arcname=".")
    _, image = scan_tar(archive)
    assert {Path(item.path).name: item.needed for item in image.files}["big.so"] == ("libz.so.1",)
