"""The doctor stage on this machine: a real venv, a real ELF file whose library is absent."""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path

import pytest

from tests.integration.conftest import noxgrid

NO_DOCKER = {"NOXGRID_NO_DOCKER": "1"}


def an_extension_needing_libc() -> tuple[bytes, bytes]:
    """(bytes, needed name) of one of this interpreter's compiled modules linking libc."""
    from elftools.elf.elffile import ELFFile

    folder = Path(sysconfig.get_path("platstdlib")) / "lib-dynload"
    for path in sorted(folder.glob("*.so")):
        with path.open("rb") as stream:
            dynamic = ELFFile(stream).get_section_by_name(".dynamic")
            needed = [tag.needed for tag in dynamic.iter_tags() if tag.entry.d_tag == "DT_NEEDED"]
        if "libc.so.6" in needed:
            return path.read_bytes(), b"libc.so.6"
    pytest.skip(f"no compiled module in {folder} links libc.so.6")


def test_doctor_passes_a_clean_venv_and_names_a_library_this_machine_lacks(tiny):
    result = noxgrid("doctor", "--json", "3.11-cpu-lean", cwd=tiny, env=NO_DOCKER)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    (document,) = json.loads(result.stdout)
    assert "3.11-cpu-lean] doctor passed" in result.stderr, "progress on stderr"
    assert document["cell"] == "3.11-cpu-lean" and document["status"] == "passed"
    assert document["venv"]["audit"]["missing"] == []
    assert "pytest" in document["venv"]["imports"]["imported"]
    assert "image" not in document, "--no-docker: no image audit"

    # A real extension module with one DT_NEEDED renamed, byte for byte, to a
    # library no system has. Nothing imports it (an optional plugin): a note.
    data, needed = an_extension_needing_libc()
    assert data.count(needed) >= 1
    broken = data.replace(needed, b"libq.so.6", 1)
    site = next((tiny / ".noxgrid" / "venvs" / "3.11-cpu-lean").glob("lib/python*/site-packages"))
    (site / "vendored").mkdir()
    (site / "vendored" / "_native.so").write_bytes(broken)
    result = noxgrid("run", "3.11-cpu-lean", cwd=tiny, env=NO_DOCKER)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    report = tiny / ".noxgrid" / "reports" / "3.11-cpu-lean.json"
    data = json.loads(report.read_text())
    assert any("libq.so.6 missing, needed only by vendored/_native.so" in n for n in data["notes"])

    # The project's own files name it (its RECORD lists the module): the cell fails,
    # and the failure's first line says why and what to do.
    (record,) = site.glob("tinyproj-*.dist-info/RECORD")
    record.write_text(record.read_text() + "vendored/_native.so,,\n")
    result = noxgrid("run", "3.11-cpu-lean", cwd=tiny, env=NO_DOCKER)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr
    data = json.loads(report.read_text())
    stages = {stage["name"]: stage for stage in data["stages"]}
    assert stages["doctor"]["status"] == "failed"
    assert stages["suite"]["status"] == "skipped", "the suite never ran"
    first = stages["doctor"]["detail"].splitlines()[0]
    assert first == (
        "libq.so.6 missing (no Debian package known), needed by vendored/_native.so (tinyproj); "
        "fix: find the package of libq.so.6: apt-file search libq.so.6"
    ), first
    assert "failed cells: 3.11-cpu-lean (doctor: libq.so.6 missing (no" in result.stderr
    log = tiny / ".noxgrid" / "reports" / "logs" / "3.11-cpu-lean.doctor-venv.log"
    assert "1 library missing" in log.read_text()


def test_the_import_smoke_records_the_compiled_modules_it_loaded():
    """A real interpreter runs the smoke on PyYAML (its C module): the record names it."""
    import subprocess
    import sys

    yaml = pytest.importorskip("yaml")
    if not yaml.__with_libyaml__:
        pytest.skip("PyYAML without its compiled module")
    from noxgrid.model.doctor import IMPORT_SMOKE, parse_imports

    done = subprocess.run(
        [sys.executable, "-c", IMPORT_SMOKE, "pyyaml"], capture_output=True, text=True, check=False
    )
    report = parse_imports(done.stdout)
    assert "yaml" in report.imported, done.stdout + done.stderr
    assert report.loaded is not None
    compiled = [path for path in report.loaded if "/yaml/_yaml" in path]
    assert compiled and Path(compiled[0]).is_absolute(), report.loaded
