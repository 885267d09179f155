"""The image budget with a base that is not in the local store (as with a BuildKit builder
other than the engine): measured in the image by the base's manifest, or said to be
unmeasured; never the whole image in the project's place."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest

from noxgrid.cell.image import measure_base
from noxgrid.model.basesize import unmeasured_budget
from noxgrid.model.image import image_problems
from noxgrid.model.matrix import Cell
from noxgrid.tools.docker import Docker
from noxgrid.tools.runner import Runner

LOCAL_BASE = "noxgrid-local/python:3.11-slim-bookworm"


def client() -> str:
    return os.environ.get("NOXGRID_DOCKER") or shutil.which("docker") or "docker"


def docker_cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([client(), *args], capture_output=True, text=True, check=False, **kwargs)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture
def built(tmp_path):
    """An image built FROM a base tag of its own (3 MB added), that tag then removed."""
    name = uuid.uuid4().hex[:10]
    base, tag = f"noxgrid-test/budgetbase:{name}", f"noxgrid-test/budget:{name}"
    docker_cli("tag", LOCAL_BASE, base)
    (tmp_path / "Dockerfile").write_text(
        f"FROM {base}\nRUN head -c 3000000 /dev/urandom > /blob\n", encoding="utf-8"
    )
    try:
        docker_cli(
            "build", "-q", "-t", tag, str(tmp_path), env={**os.environ, "DOCKER_BUILDKIT": "1"}
        )
        yield base, tag
    finally:
        subprocess.run([client(), "rmi", "-f", tag, base], capture_output=True, check=False)


def test_a_base_not_in_the_local_store_is_measured_or_said(built, monkeypatch):
    base, tag = built
    docker = Docker.find(Runner(), os.environ)
    inspect = docker.inspect_image(tag)
    size = int(inspect["Size"])
    here = docker.inspect_image(base)
    assert measure_base(docker, base, tag, inspect).size == int(here["Size"])
    # What the base's registry manifest says (read here before the tag goes).
    history = docker_cli("history", "-q", "--no-trunc", base).stdout.split()
    config = {"rootfs": {"diff_ids": here["RootFS"]["Layers"]}, "history": [{}] * len(history)}
    docker_cli("rmi", base)

    budget = (size - int(here["Size"])) + 1_000_000  # the project's 3 MB fit, the image not
    cell = Cell(python="3.11", accelerator="cpu", profile="lean")
    # What main did: the base not here, the whole image judged against the budget.
    assert any("size-budget" in p for p in image_problems(inspect, cell=cell, budget=budget))

    unknown = measure_base(docker, base, tag, inspect)
    assert unknown.size is None and f"{base} is not in the local store" in unknown.problem
    said = unmeasured_budget(size, budget, unknown, base)
    assert said is not None and "could NOT be measured" in said

    monkeypatch.setattr(docker, "base_config", lambda name: config if name == base else None)
    measured = measure_base(docker, base, tag, inspect)
    assert measured.size == int(here["Size"]), measured
    assert unmeasured_budget(size, budget, measured, base) is None
    problems = image_problems(inspect, cell=cell, budget=budget, base_size=measured.size)
    assert not any("size-budget" in p for p in problems), problems
