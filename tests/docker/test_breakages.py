"""Recreated breakages that only an image shows, each on a small scratch project of its own:
what an image carries that it should not, a budget that measured the base, a base image no
registry gives."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

from noxgrid.render.dockerfile import TEMPLATE
from tests.integration.conftest import lock, noxgrid

PYPROJECT = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "wasteful"
version = "0.1.0"

[tool.setuptools]
py-modules = ["wasteful"]

[tool.noxgrid]
python = ["3.11"]
accelerators = ["cpu"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
size-budget = "60MB"

[tool.noxgrid.docker]
image = "noxgrid-test/wasteful"
command = "python -m http.server 8000"
health = { path = "/", port = 8000, timeout = "30s" }
"""

# The template's lean target, with what careless Dockerfiles leave behind.
WASTE = """FROM app AS lean
USER root
COPY wheels/ /tmp/wheels/
COPY wheels/ /usr/local/src/wheels/
RUN mkdir -p /root/.cache/pip/http /var/lib/apt/lists \\
 && head -c 2000000 /dev/urandom > /root/.cache/pip/http/blob \\
 && head -c 300000 /dev/urandom > /var/lib/apt/lists/deb.debian.org_bookworm_Packages
USER app
CMD ["sh", "-c", "exec $APP_COMMAND"]
"""


def scratch(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (root / "requirements").mkdir()
    (root / "requirements" / "lean.in").write_text("pytest\n")
    (root / "wasteful.py").write_text("VALUE = 1\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_wasteful.py").write_text("def test_ok():\n    assert True\n")
    (root / "wheels").mkdir()
    (root / "wheels" / "fake-1.0-py3-none-any.whl").write_bytes(os.urandom(200_000))
    (root / ".dockerignore").write_text(".git\n.noxgrid\n**/__pycache__\n*.egg-info\n")
    (root / "docker").mkdir()
    template = TEMPLATE.read_text()
    lean = template.index("FROM app AS lean")
    full = template.index("FROM app AS full")
    (root / "docker" / "Dockerfile").write_text(template[:lean] + WASTE + "\n" + template[full:])
    lock(root)
    return root


def image_stage(root: Path) -> tuple[dict, list[str]]:
    data = json.loads((root / ".noxgrid" / "reports" / "3.11-cpu-lean.json").read_text())
    return {s["name"]: s for s in data["stages"]}["image"], data["notes"]


# 3. and 4. Waste listed with its size and fix; the budget is what the project adds.
def test_waste_is_listed_and_the_budget_is_what_the_project_adds(tmp_path, docker_env):
    root = scratch(tmp_path / "wasteful")
    result = noxgrid("image", "3.11-cpu-lean", cwd=root, env=docker_env)
    stage, notes = image_stage(root)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    # The whole image is over 60 MB (its base alone is more); the project adds less.
    assert " = base " in stage["detail"] and "+ the project's " in stage["detail"], stage
    assert "waste: " in stage["detail"] and "see notes" in stage["detail"]
    waste = "\n".join(n for n in notes if n.startswith("the image carries waste"))
    assert (
        "pip's download cache (2.0 MB): /root/.cache/pip; fix: pip install --no-cache-dir" in waste
    )
    assert "apt's package lists (300.0 kB)" in waste and "rm -rf /var/lib/apt/lists/*" in waste
    assert "wheel files (600.0 kB): " in waste  # two COPY wheels/ and COPY . carry it
    assert "/tmp/wheels/fake-1.0-py3-none-any.whl" in waste
    assert "/usr/local/src/wheels/fake-1.0-py3-none-any.whl" in waste, "under /usr/local too"
    assert "/app/wheels/fake-1.0-py3-none-any.whl" in waste
    assert "under its 10.0 MB limit" in stage["detail"], "2.9 MB of waste: under the default"
    assert "carries its tests for --in-image" in stage["detail"], "tests are intended, not waste"
    assert "tests" not in waste
    assert "ensurepip" not in waste, "the interpreter's own bundled pip is not waste"


# The token is put together in the image: the Dockerfile (in the build context) holds none.
WRITE = " && printf 'ghp_%s%s%s%s\\n' a1B2c3D4e5 a1B2c3D4e5 a1B2c3D4e5 F6g7H8 >> /app/conf.txt"


# Waste over the limit (a wheels folder, pip's cache) fails the image, with its size, paths
# and fix; a token the Dockerfile writes into /app is found by what it is.
def test_waste_over_the_limit_and_a_token_in_the_image_fail_it(tmp_path, docker_env):
    root = scratch(tmp_path / "overfull")
    (root / "wheels" / "big-1.0-py3-none-any.whl").write_bytes(os.urandom(3_000_000))
    dockerfile = root / "docker" / "Dockerfile"
    token = "ghp_" + "a1B2c3D4e5" * 3 + "F6g7H8"
    dockerfile.write_text(
        dockerfile.read_text()
        .replace("head -c 2000000", "head -c 6000000")
        .replace(
            "USER app\nCMD",
            f"RUN echo 'x = 1' > /app/conf.txt{WRITE}\nUSER app\nCMD",
        )
    )
    result = noxgrid("image", "3.11-cpu-lean", cwd=root, env=docker_env)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr
    stage, _ = image_stage(root)
    detail = stage["detail"]
    assert (
        "the image carries 15.9 MB of waste, over the 10.0 MB that [tool.noxgrid.docker] waste"
        in detail
    ), detail
    assert "wheel files (9.6 MB): " in detail
    assert "/app/wheels/big-1.0-py3-none-any.whl" in detail
    assert "/tmp/wheels/big-1.0-py3-none-any.whl" in detail
    assert "pip's download cache (6.0 MB): /root/.cache/pip; fix: pip install --no-cache-dir" in (
        detail
    )
    assert "the image's /app holds 1 secret(s) in 1 file(s)" in detail
    assert "conf.txt:2 (GitHub Token)" in detail and token not in detail
    # waste = "note" (and the token gone): the same waste listed, not failing.
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(
        text.replace('command = "python', 'waste = "note"\ncommand = "python')
    )
    dockerfile.write_text(dockerfile.read_text().replace(WRITE, ""))
    result = noxgrid("image", "3.11-cpu-lean", cwd=root, env=docker_env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    stage, notes = image_stage(root)
    assert 'noted (waste = "note")' in stage["detail"], stage["detail"]
    assert any("pip's download cache (6.0 MB)" in note for note in notes)


# 5. A base image that no registry gives: the literal map in the message.
def test_a_base_image_that_cannot_be_pulled_names_the_map(tmp_path):
    root = scratch(tmp_path / "unpullable")
    env = {"NOXGRID_BASE_IMAGE_MAP": "python:{python}-slim-bookworm=noxgrid-absent/python:{python}"}
    result = noxgrid("image", "3.11-cpu-lean", cwd=root, env=env)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr
    stage, _ = image_stage(root)
    assert "the base image noxgrid-absent/python:3.11 could not be pulled" in stage["detail"]
    assert (
        'export NOXGRID_BASE_IMAGE_MAP="python:{python}-slim-bookworm='
        'noxgrid-local/python:{python}-slim-bookworm"' in stage["detail"]
    )


# 2. A container that exits at start: its last error quoted, with the likely fix.
def test_a_container_that_exits_quotes_its_last_error_and_the_fix(tmp_path, docker_env):
    root = scratch(tmp_path / "exits")
    (root / "start.sh").write_text(
        "echo reading settings\nexec python -c 'import os; print(os.environ[\"DATABASE_URL\"])'\n"
    )
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(
        text.replace('command = "python -m http.server 8000"', 'command = "sh start.sh"')
    )
    result = noxgrid("run", "-q", cwd=root, env=docker_env)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr
    data = json.loads((root / ".noxgrid" / "reports" / "3.11-cpu-lean.json").read_text())
    smoke = {s["name"]: s for s in data["stages"]}["smoke"]
    assert smoke["status"] == "failed", smoke
    assert "the container exited with 1" in smoke["detail"]
    assert "its last error: KeyError: 'DATABASE_URL'" in smoke["detail"]
    assert "likely fix: a setting the app reads at start is missing" in smoke["detail"]
