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
    # library no system has: the audit must find it unresolvable.
    data, needed = an_extension_needing_libc()
    assert data.count(needed) >= 1
    broken = data.replace(needed, b"libq.so.6", 1)
    site = next((tiny / ".noxgrid" / "venvs" / "3.11-cpu-lean").glob("lib/python*/site-packages"))
    (site / "vendored").mkdir()
    (site / "vendored" / "_native.so").write_bytes(broken)
    result = noxgrid("run", "3.11-cpu-lean", cwd=tiny, env=NO_DOCKER)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr
    data = json.loads((tiny / ".noxgrid" / "reports" / "3.11-cpu-lean.json").read_text())
    stages = {stage["name"]: stage for stage in data["stages"]}
    assert stages["doctor"]["status"] == "failed"
    assert stages["suite"]["status"] == "skipped", "the suite never ran"
    detail = stages["doctor"]["detail"]
    assert "libq.so.6 -> no Debian package known: needed by vendored/_native" in detail, detail
    assert "fix: find the package of libq.so.6: apt-file search libq.so.6" in detail, detail
    log = tiny / ".noxgrid" / "reports" / "logs" / "3.11-cpu-lean.doctor-venv.log"
    assert "1 library missing" in log.read_text()
