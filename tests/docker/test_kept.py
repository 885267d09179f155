"""An exclusive group allowed on purpose, in a real image: two OpenCV builds that write the
same cv2/ files, keep installed last by the template (KEEP_LAST), its files proved to be the
image's from the layers and from an export, and a Dockerfile that does not keep it refused
or failed by the doctor (the Docker variant of tests/integration/test_allow.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from noxgrid.render.dockerfile import TEMPLATE
from tests.integration.conftest import noxgrid
from tests.integration.test_allow import ALLOW, KEEP, OTHER, REQUIREMENTS

CELL = "3.11-cpu-lean"
TAG = f"noxgrid-test/cvkeep:{CELL}"

PROJECT = f"""
[project]
name = "cvkeep"
version = "0.1.0"

[tool.noxgrid]
python = ["3.11"]
accelerators = ["cpu"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
install-project = false

[tool.noxgrid.docker]
image = "noxgrid-test/cvkeep"
health = {{ path = "/", port = 8000 }}
{ALLOW}
"""

# Run in the image as its user: each file opencv-python-headless's RECORD shares with
# contrib's must hold contrib's bytes, and cv2 must be contrib's build.
CHECK = """
import base64, csv, hashlib, pathlib
site = next(pathlib.Path("/opt/venv/lib").glob("python*/site-packages"))
def rows(prefix):
    (info,) = site.glob(prefix + "-*.dist-info")
    text = (info / "RECORD").read_text()
    return {r[0]: r[1] for r in csv.reader(text.splitlines()) if len(r) > 1 and r[1]}
ours, theirs = rows("opencv_contrib_python_headless"), rows("opencv_python_headless")
shared = [p for p in ours if p in theirs and not p.endswith(".pyc")]
def digest(path):
    raw = hashlib.sha256((site / path).read_bytes()).digest()
    return "sha256=" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
import cv2
print(len(shared), sum(ours[p] != theirs[p] for p in shared),
      [p for p in shared if digest(p) != ours[p]], hasattr(cv2, "ximgproc"))
"""


def client() -> str:
    return os.environ.get("NOXGRID_DOCKER") or shutil.which("docker") or "docker"


def image_stage(root: Path) -> dict:
    report = json.loads((root / ".noxgrid" / "reports" / f"{CELL}.json").read_text())
    return {stage["name"]: stage for stage in report["stages"]}["image"]


def make(tmp_path: Path) -> Path:
    root = tmp_path / "cvkeep"
    (root / "requirements").mkdir(parents=True)
    (root / "docker").mkdir()
    (root / "pyproject.toml").write_text(PROJECT)
    (root / "requirements" / "lean.in").write_text(REQUIREMENTS)
    (root / "docker" / "Dockerfile").write_text(TEMPLATE.read_text())
    result = noxgrid("lock", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def test_the_image_installs_keep_last_and_its_doctor_proves_it(tmp_path, docker_env):
    root = make(tmp_path)
    built = noxgrid("image", CELL, cwd=root, env=docker_env)
    output = built.stdout + built.stderr
    assert built.returncode == 0, output[-4000:]
    # BuildKit prints each step with its arguments (also when the step is cached).
    assert f"for keep in {KEEP}; do" in output, "synced again, alone, after the lock"
    stage = image_stage(root)
    assert f"{KEEP}'s files are the ones in the image (installed last)" in stage["detail"]
    assert "audit read from its layers" in stage["detail"] or os.geteuid() != 0
    done = subprocess.run(
        [client(), "run", "--rm", TAG, "python", "-c", CHECK],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    shared, differ, wrong, contrib = done.stdout.split(" ", 3)
    assert int(shared) > 10 and int(differ) > 0, "the two builds share files that differ"
    assert wrong == "[]" and contrib.strip() == "True", done.stdout

    # The same proof on an export of the image (where layers cannot be read).
    from noxgrid.cell.image_doctor import audit_export, exported, prove_kept_image
    from noxgrid.model.kept import TarFiles
    from noxgrid.tools.docker import Docker
    from noxgrid.tools.runner import Runner

    docker = Docker.find(Runner(), {**os.environ, **docker_env})
    with exported(docker, TAG, timeout=600) as archive:
        _, tree = audit_export(archive)
        with tarfile.open(archive, "r:") as tar:
            proved = prove_kept_image([(KEEP, [OTHER])], tree.entries, TarFiles(tar))
    assert proved == f"; {KEEP}'s files are the ones in the image (installed last)"


def test_a_dockerfile_that_does_not_keep_it_is_refused_or_fails_the_doctor(tmp_path, docker_env):
    root = make(tmp_path)
    template = TEMPLATE.read_text()
    dockerfile = root / "docker" / "Dockerfile"
    dockerfile.write_text(template.replace('ARG KEEP_LAST=""\n', ""))
    refused = noxgrid("image", CELL, cwd=root, env=docker_env)
    assert refused.returncode == 1, refused.stdout[-3000:]
    assert "docker/Dockerfile has no `ARG KEEP_LAST`" in image_stage(root)["detail"]
    # The other member synced last: its copy of the shared files is the image's.
    wrong = template.replace('--reinstall-package "$keep"', f"--reinstall-package {OTHER}")
    assert wrong != template
    dockerfile.write_text(wrong)
    failed = noxgrid("image", CELL, cwd=root, env=docker_env)
    assert failed.returncode == 1, failed.stdout[-3000:]
    detail = image_stage(root)["detail"]
    assert detail.startswith(
        f"the image {TAG} fails the doctor: "
    ) and f"file(s) that {KEEP} shares with {OTHER} are not {KEEP}'s, though the exclusive " in (
        detail
    ), detail
    assert f"is {OTHER}'s copy; fix: install {KEEP} last" in detail, detail
