from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

from noxgrid.cell.report import read_cell_reports, write_cell_report
from noxgrid.files import atomic_write
from noxgrid.model.matrix import Cell
from noxgrid.model.results import CellResult, StageResult, Status, format_size
from noxgrid.render.junit import render_junit
from noxgrid.render.table import text_table, timings_table


def result(status=Status.PASSED, python="3.10"):
    stages = (
        StageResult(name="venv", status=Status.PASSED, duration=0.5),
        StageResult(name="suite", status=status, duration=2.0, detail="1 failed\nmore"),
    )
    return CellResult(
        cell=Cell(python=python, accelerator="cpu", profile="lean"),
        stages=stages,
        started_at="2026-11-22T10:00:00+00:00",
        duration=2.5,
        venv_size=12_300_000,
    )


def test_junit_counts_failures():
    root = ET.fromstring(render_junit([result(Status.FAILED), result(python="3.11")]))
    assert root.get("tests") == "4" and root.get("failures") == "1"
    failure = root.find("testsuite/testcase[@name='suite']/failure")
    assert failure.get("message") == "1 failed" and failure.text == "1 failed\nmore"


def test_timings_table():
    text = timings_table([result()])
    assert text.splitlines()[0].split() == [
        "cell",
        "status",
        "total",
        "venv",
        "suite",
        "venv",
        "size",
        "image",
        "size",
    ]
    assert "3.10-cpu-lean  passed  2.5s" in text and "12.3 MB" in text
    with_image = timings_table([dataclasses.replace(result(), image_size=330_000_000)])
    assert with_image.splitlines()[-1].endswith("330.0 MB")


def test_reports_are_read_in_version_order_not_text_order(tmp_path):
    for python in ("3.10", "3.9", "3.11"):
        write_cell_report(result(python=python), tmp_path)
    assert [r.cell.python for r in read_cell_reports(tmp_path)] == ["3.9", "3.10", "3.11"]


def test_text_table_aligns():
    assert text_table(["a", "bb"], [["xxx", "y"]]).splitlines() == ["a    bb", "---  --", "xxx  y"]


def test_format_size():
    assert format_size(None) == "-" and format_size(999) == "999 B"
    assert format_size(1_500_000_000) == "1.5 GB"


def test_reports_round_trip(tmp_path):
    write_cell_report(result(Status.FAILED), tmp_path)
    write_cell_report(result(python="3.11"), tmp_path)
    loaded = read_cell_reports(tmp_path)
    assert [r.cell.id for r in loaded] == ["3.10-cpu-lean", "3.11-cpu-lean"]
    assert loaded[0] == result(Status.FAILED)


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "a.json"
    atomic_write(target, "one")
    atomic_write(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_atomic_write_gives_new_files_normal_permissions_and_keeps_existing_ones(tmp_path):
    import stat

    from noxgrid.files import _umask, atomic_write

    fresh = tmp_path / "new.txt"
    atomic_write(fresh, "x\n")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~_umask()
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    atomic_write(script, "#!/bin/sh\necho\n")
    assert stat.S_IMODE(script.stat().st_mode) == 0o755


def test_a_reason_that_spans_lines_is_summarised_whole():
    from noxgrid.model.reason import failure_line

    text = (
        "the image svc:3.11-cpu-lean fails its checks:\n"
        "- the image runs as root; fix: add a user\n"
        "- label io.noxgrid.lock-sha256 is missing or empty\n"
        "more output that is not part of the reason\n"
    )
    assert failure_line(text) == (
        "the image svc:3.11-cpu-lean fails its checks: the image runs as root; fix: add a "
        "user; label io.noxgrid.lock-sha256 is missing or empty"
    )
    assert failure_line("uv failed\n  fix: check the index\nTraceback") == (
        "uv failed; fix: check the index"
    )
    assert failure_line("one line\nthe pytest tail") == "one line"
    assert failure_line("x:" + "\n- y" * 400).endswith("...")
