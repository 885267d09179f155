"""The doctor on real images: a GUI OpenCV in a slim image, the reference service's full image."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

from tests.docker.test_images import report
from tests.integration.conftest import lock, noxgrid

GUI_PROJECT = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "guiapp"
version = "0.1.0"
requires-python = ">=3.9"

[tool.setuptools]
py-modules = ["guiapp"]

[tool.noxgrid]
python = ["3.11"]
accelerators = ["cpu"]
profiles = ["full"]

[tool.noxgrid.profile.full]
requirements = ["requirements/full.in"]
apt = []

[tool.noxgrid.policy]
# The lock stage would refuse the GUI build; this project wants to see the audit do it.
forbid-gui-opencv = false

[tool.noxgrid.docker]
dockerfile = "docker/Dockerfile"
image = "noxgrid-test/guiapp"
"""


def stages(project: Path, cell: str) -> dict[str, dict]:
    return {stage["name"]: stage for stage in report(project, cell)["stages"]}


def test_gui_opencv_in_a_slim_image_is_refused_before_the_suite(tmp_path, docker_env):
    project = tmp_path / "guiapp"
    (project / "requirements").mkdir(parents=True)
    (project / "docker").mkdir()
    (project / "tests").mkdir()
    (project / "pyproject.toml").write_text(GUI_PROJECT)
    (project / "requirements" / "full.in").write_text("opencv-python\npytest\n")
    (project / "guiapp.py").write_text(
        "def version():\n    import cv2\n    return cv2.__version__\n"
    )
    (project / "tests" / "test_guiapp.py").write_text(
        "import guiapp\n\ndef test_version():\n    assert guiapp.version()\n"
    )
    template = noxgrid("dockerfile", cwd=project)
    (project / "docker" / "Dockerfile").write_text(template.stdout)
    lock(project)
    result = noxgrid("run", "3.11-cpu-full", cwd=project, env=docker_env)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr
    found = stages(project, "3.11-cpu-full")
    # The suite never ran: the environment was refused first.
    assert found["suite"]["status"] == "skipped", found["suite"]
    refused = found["doctor"] if found["doctor"]["status"] == "failed" else found["image"]
    assert refused["status"] == "failed", found
    detail = refused["detail"]
    assert "libGL.so.1 missing (Debian package libgl1)" in detail, detail
    assert "cv2" in detail and "(opencv-python)" in detail, detail
    assert "or use opencv-python-headless" in detail, detail
    assert 'apt = ["libgl1"' in detail, detail
    assert "libgthread-2.0.so.0 missing (Debian package libglib2.0-0)" in detail, detail
    # The import smoke inside the image names the module and the likely package too.
    if refused is found["image"]:
        assert "import cv2 (opencv-python): ImportError: lib" in detail, detail
        assert "likely missing: the system library" in detail, detail
    doctor = json.loads(
        (project / ".noxgrid" / "reports" / "doctor" / "3.11-cpu-full.json").read_text()
    )
    key = "venv" if refused is found["doctor"] else "image"
    missing = {item["soname"] for item in doctor[key]["audit"]["missing"]}
    assert {"libGL.so.1", "libgthread-2.0.so.0", "libxcb.so.1"} <= missing, missing

    # The printed line, pasted into the declaration as it is, makes the image pass.
    line = re.search(r"apt = \[[^\]]*\]", detail).group(0)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("apt = []", line))
    result = noxgrid("doctor", "-q", cwd=project, env=docker_env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert result.stdout.count("every needed library found") == 2, result.stdout


def test_reference_full_image_passes_and_a_removed_apt_package_is_named(
    service,
    docker_env,
):
    result = noxgrid("doctor", "-q", "3.11-cpu-full", cwd=service, env=docker_env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "image noxgrid/refservice:3.11-cpu-full:" in result.stdout, result.stdout
    assert result.stdout.count("every needed library found") == 2, result.stdout

    pyproject = service / "pyproject.toml"
    text = pyproject.read_text()
    assert 'apt = ["libgomp1"]' in text
    pyproject.write_text(text.replace('apt = ["libgomp1"]', "apt = []"))
    result = noxgrid("doctor", "-q", "3.11-cpu-full", cwd=service, env=docker_env)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr
    expected = textwrap.dedent(
        """\
        libgomp.so.1 missing (Debian package libgomp1), needed by lightgbm/lib/lib_lightgbm.so (lightgbm)
        fix: add to [tool.noxgrid.profile.full] in pyproject.toml: apt = ["libgomp1"]
        """
    )
    flat = "\n".join(line.strip() for line in result.stdout.splitlines())
    assert expected in flat + "\n", result.stdout
    assert "import lightgbm (lightgbm): OSError: libgomp.so.1" in result.stdout, result.stdout
    found = stages(service, "3.11-cpu-full")
    assert found["doctor"]["status"] == "passed"  # this machine has libgomp1
    assert found["image"]["status"] == "failed"
