"""A rebuild after a source change checks only what changed, and the verdict stays as strict:
the audit read from layers equals the audit of the exported image, and a change that
reaches the import smoke runs it again."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from noxgrid.cell.image_doctor import audit_image
from noxgrid.model.audit import audit
from noxgrid.model.layers import merge
from noxgrid.tools.docker import Docker
from noxgrid.tools.layers import LayerStore, layer_folders
from noxgrid.tools.runner import Runner
from tests.docker.test_doctor import stages
from tests.integration.conftest import noxgrid

CELL = "3.11-cpu-lean"
TAG = f"noxgrid/refservice:{CELL}"


@pytest.fixture
def layered():
    """Layer folders are read as root only; CI runs as root."""
    if os.geteuid() != 0:
        pytest.skip("the engine's layer folders are read as root only")


def image_detail(service: Path) -> str:
    result = noxgrid("image", "-q", CELL, cwd=service, env=_env())
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    return stages(service, CELL)["image"]["detail"]


def _env() -> dict[str, str]:
    from tests.docker.conftest import BASE_MAP

    return {"NOXGRID_BASE_IMAGE_MAP": os.environ.get("NOXGRID_BASE_IMAGE_MAP", BASE_MAP)}


def test_the_audit_read_from_layers_is_the_audit_of_the_export(service, layered):
    image_detail(service)
    docker = Docker.find(Runner())
    inspect = docker.inspect_image(TAG)
    folders = layer_folders(docker.client.root_dir, inspect)
    assert folders is not None, "overlay2 layer folders should be readable here"
    with tempfile.TemporaryDirectory() as folder:
        scans, _read = LayerStore(Path(folder)).scans(inspect["RootFS"]["Layers"], folders)
    tree, scan = merge(scans)
    layered_result = audit(scan, tree).as_dict()
    exported = audit_image(docker, TAG, timeout=600).as_dict()
    layered_result.pop("seconds"), exported.pop("seconds")
    assert layered_result == exported
    assert layered_result["elf_files"] > 0 and layered_result["from_system"]


def test_a_source_change_reads_two_layers_and_a_shadowing_module_runs_the_smoke(service, layered):
    first = image_detail(service)
    assert "import smoke run (no earlier run to compare with)" in first, first
    module = service / "src" / "refservice" / "pagemeta.py"
    module.write_text(module.read_text() + "\n# a source-only change\n")
    second = image_detail(service)
    assert "(1 of 11 read now, the rest kept)" in second, second  # /app only
    assert "import smoke as when it last passed" in second, second
    # anyio is imported by fastapi, not by name: a folder of that name in /app (the
    # working folder, first on sys.path) shadows it, and the smoke must see that.
    (service / "anyio").mkdir()
    (service / "anyio" / "__init__.py").write_text("raise ImportError('shadowed by /app/anyio')\n")
    result = noxgrid("image", "-q", CELL, cwd=service, env=_env())
    assert result.returncode == 1, result.stdout[-3000:]
    failed = stages(service, CELL)["image"]
    assert failed["status"] == "failed", failed
    assert "import fastapi (fastapi): ImportError: shadowed by /app/anyio" in failed["detail"]


SCRIPT = '[project.scripts]\nrefservice-hello = "refservice.hello:main"\n\n'


def test_a_source_change_runs_no_backend_and_new_modules_and_entry_points_work(service):
    """PROJECT_INSTALL=source: the backend runs for the build configuration only."""
    pyproject = service / "pyproject.toml"
    text = pyproject.read_text()
    # A build configuration no earlier run built (BuildKit keeps the metadata stage's layer
    # of a run before: the same bytes would not run the backend here either).
    unique = f"# {uuid.uuid4()}\n"
    pyproject.write_text(
        unique
        + text.replace(
            "[tool.setuptools.packages.find]", SCRIPT + "[tool.setuptools.packages.find]"
        )
    )
    hello = service / "src" / "refservice" / "hello.py"
    hello.write_text("def main():\n    print('hello 1')\n")
    image_detail(service)
    log = service / ".noxgrid" / "reports" / "logs" / f"{CELL}.image.log"
    assert "Building refservice" in log.read_text(), "the metadata is built once"
    notes = json.loads((service / ".noxgrid" / "reports" / f"{CELL}.json").read_text())["notes"]
    assert any("(PROJECT_INSTALL=source)" in note for note in notes), notes
    assert _in_image("refservice-hello") == "hello 1"
    hello.write_text("def main():\n    print('hello 2')\n")
    (service / "src" / "refservice" / "added.py").write_text("X = 42\n")
    image_detail(service)
    assert "Building refservice" not in log.read_text(), "a source change runs no backend"
    assert _in_image("refservice-hello") == "hello 2"
    probe = (
        "import importlib.metadata as m, os, refservice.added as a; "
        "print(a.X, a.__file__, m.version('refservice'), os.access('/app/src', os.W_OK))"
    )
    assert _in_image("python", "-c", probe) == "42 /app/src/refservice/added.py 0.1.0 False"
    pyproject.write_text(pyproject.read_text().replace('version = "0.1.0"', 'version = "0.2.0"'))
    image_detail(service)
    assert "Building refservice" in log.read_text(), "a metadata change builds it again"
    assert _in_image("python", "-c", probe).split()[2] == "0.2.0"


def _in_image(*argv: str) -> str:
    client = os.environ.get("NOXGRID_DOCKER", "docker")
    done = subprocess.run(
        [client, "run", "--rm", "--entrypoint", argv[0], TAG, *argv[1:]],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()
