"""An exclusive group allowed on purpose, with real uv and PyPI: two OpenCV builds that write
the same cv2/ files, locked with the allowance shown, kept on one version, keep installed last
(its files on disk, proved by the doctor), and refused as before without the allowance."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.conftest import locked, noxgrid, pylock_document

PROJECT = """
[project]
name = "cvsvc"
version = "0.1.0"

[tool.noxgrid]
python = ["3.11"]
accelerators = ["cpu"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
install-project = false

[tool.noxgrid.suite]
command = ["python", "-c", "import cv2; assert hasattr(cv2, 'ximgproc'), 'not contrib'"]
{allow}
"""

ALLOW = """
[[tool.noxgrid.allow]]
rule = "exclusive"
packages = ["opencv-python-headless", "opencv-contrib-python-headless"]
keep = "opencv-contrib-python-headless"
cells = "*-cpu-*"
reason = "the detectors need contrib's modules"
"""

# keep pinned, the other one free: the lock must bring it to keep's version.
REQUIREMENTS = "opencv-contrib-python-headless==4.10.0.84\nopencv-python-headless\n"

KEEP, OTHER = "opencv-contrib-python-headless", "opencv-python-headless"


def make(tmp_path: Path, allow: str) -> Path:
    root = tmp_path / "cvsvc"
    (root / "requirements").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PROJECT.format(allow=allow))
    (root / "requirements" / "lean.in").write_text(REQUIREMENTS)
    return root


def test_without_the_allowance_the_lock_is_refused_as_before(tmp_path):
    root = make(tmp_path, "")
    result = noxgrid("lock", cwd=root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "3.11-cpu-lean: REFUSED" in result.stdout
    assert f"[exclusive] {OTHER} and {KEEP} are both in the lock" in result.stdout
    assert "allowed on purpose" not in result.stdout


def test_an_allowed_group_locks_installs_keep_last_and_the_doctor_proves_it(tmp_path):
    from noxgrid.model.installed import not_kept, read_installed

    root = make(tmp_path, ALLOW)
    result = noxgrid("lock", cwd=root)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "allowed on purpose: the detectors need contrib's modules" in out
    assert f"{OTHER}==4.10.0.84: the exclusive group on its keep's version" in out
    assert f"{OTHER} <- requirements/lean.in" in out, "noxgrid's constraints are no input"
    assert "constraints.txt" not in out
    lock = locked(root, "3.11-cpu-lean")
    assert lock.packages[OTHER].version == lock.packages[KEEP].version == "4.10.0.84"
    recorded = pylock_document(root, "3.11-cpu-lean")["tool"]["noxgrid"]["allowed"]
    assert recorded.startswith("exclusive ") and "allowed on purpose: the detectors" in recorded

    run = noxgrid("run", "--no-docker", cwd=root)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads((root / ".noxgrid" / "reports" / "3.11-cpu-lean.json").read_text())
    stages = {stage["name"]: stage for stage in report["stages"]}
    assert "allowed on purpose: the detectors need contrib's modules" in stages["lock"]["detail"]
    assert [line for line in report["allowed"] if line.startswith("[exclusive]")]
    assert f"{KEEP}'s files are the ones on disk" in stages["doctor"]["detail"]
    venv = root / ".noxgrid" / "venvs" / "3.11-cpu-lean"
    assert not_kept(read_installed(venv), KEEP, [OTHER]) == []
    assert stages["suite"]["status"] == "passed", "import cv2 gives contrib's build"

    # Reused: the proof takes the files keep overwrote as keep's, so nothing is reinstalled.
    again = noxgrid("run", "--no-docker", cwd=root)
    assert again.returncode == 0, again.stdout + again.stderr
    report = json.loads((root / ".noxgrid" / "reports" / "3.11-cpu-lean.json").read_text())
    install = {stage["name"]: stage for stage in report["stages"]}["install"]
    assert install["detail"].startswith("proved equal to"), install["detail"]
    shown = noxgrid("report", cwd=root)
    assert "allowed on purpose:" in shown.stdout and "(3.11-cpu-lean)" in shown.stdout
