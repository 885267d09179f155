"""scripts/debian_sonames.py: which lines of Debian's Contents index it keeps, and which
package it chooses for a name several packages ship."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from noxgrid.model.sonames import TABLE

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "debian_sonames.py"


def load():
    spec = importlib.util.spec_from_file_location("debian_sonames", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CONTENTS = """\
usr/lib/x86_64-linux-gnu/libvips.so.42                  libs/libvips42
usr/lib/x86_64-linux-gnu/libvips.so.42.16.1             libs/libvips42
usr/lib/x86_64-linux-gnu/libvips.so                     libdevel/libvips-dev
usr/lib/x86_64-linux-gnu/libavcodec.so.59               libs/libavcodec-extra59,libs/libavcodec59
usr/lib/x86_64-linux-gnu/libX11.so.6                    libs/libx11-6
usr/lib/x86_64-linux-gnu/libfoo.so.1                    debug/libfoo1-dbg,libs/zzfoo
lib/x86_64-linux-gnu/libbz2.so.1.0                      libs/libbz2-1.0
usr/lib/gcc/x86_64-linux-gnu/12/libgomp.so.1            libdevel/libgcc-12-dev
usr/lib32/libgomp.so.1                                  libs/lib32gomp1
usr/lib/pristine-tar/suse-bzip2/libbz2.so.1.0           utils/pristine-tar
lib/x86_64-linux-gnu/ld-linux-x86-64.so.2               libs/libc6
usr/lib/x86_64-linux-gnu/libgeos_c.so.1                 libs/libgeos-c1v5,libs/aaa
"""


def test_only_libraries_in_the_loaders_folders_are_kept_and_dev_dbg_never_chosen():
    module = load()
    found = module.libraries(CONTENTS.splitlines())
    assert sorted(found) == [
        "libX11.so.6",
        "libavcodec.so.59",
        "libbz2.so.1.0",
        "libfoo.so.1",
        "libgeos_c.so.1",
        "libvips.so.42",
        "libvips.so.42.16.1",
    ]
    assert found["libbz2.so.1.0"] == {"libbz2-1.0"}, "pristine-tar's copy is in no loader folder"
    assert found["libfoo.so.1"] == {"zzfoo"}, "a -dbg package is never chosen"


def test_the_package_named_after_the_soname_wins_every_time():
    module = load()
    table = module.table(module.libraries(CONTENTS.splitlines()))
    assert table["libavcodec59"] == ["libavcodec.so.59"]
    assert table["libx11-6"] == ["libX11.so.6"]
    assert table["libgeos-c1v5"] == ["libgeos_c.so.1"], "a name that starts like the soname's"
    assert table["libvips42"] == ["libvips.so.42", "libvips.so.42.16.1"]
    assert module.derived("libglib-2.0.so.0") == "libglib-2.0-0"
    assert module.choose("libglib-2.0.so.0", ["libglib2.0-0", "libglib2.0-0-dbgx"]) == (
        "libglib2.0-0"
    )
    text = module.render(table, source="http://x/Contents-amd64.gz", release="bookworm", today="d")
    assert text.startswith("# Shared library file name -> Debian package.")
    assert "libvips42\tlibvips.so.42 libvips.so.42.16.1\n" in text


def test_release_line_names_the_version_and_the_index_date():
    module = load()
    text = (
        "Origin: Debian\nVersion: 12.15\nCodename: bookworm\nDate: Sat, 11 Jul 2026 10:16:37 UTC\n"
    )
    assert module.release_line(text) == (
        "bookworm (Debian 12.15), amd64, main; index date: Sat, 11 Jul 2026 10:16:37 UTC"
    )


def test_the_shipped_table_names_its_source_and_stays_small():
    head = TABLE.read_text(encoding="utf-8").splitlines()[:6]
    assert any("Contents-amd64.gz" in line for line in head)
    assert any("bookworm" in line and "index date" in line for line in head)
    assert TABLE.stat().st_size < 2_000_000
