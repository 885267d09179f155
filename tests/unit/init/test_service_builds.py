"""A requirement-file service's GPU build and what locking leaves out of its declaration:
a gpu accelerator proposed from its GPU files (and only its own), torch's backend, and
the service's pyproject.toml written again without a python value that cannot lock."""

from __future__ import annotations

import sys
from pathlib import Path

from noxgrid.commands.init_services import _redeclarer
from noxgrid.init.axis import Cut, LeftOut
from noxgrid.init.service_files import render_service_table
from noxgrid.init.services import plan_service
from noxgrid.model.declaration import load_config
from tests.unit.init.test_services import write

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

WORKFLOW = ".github/workflows/noxgrid-svc.yml"


def plan(root: Path, directory: str = "svc", others: tuple[str, ...] = ("svc",)):
    return plan_service(
        root / directory if directory != "." else root,
        root,
        jobs=[],
        others=list(others),
        available=lambda version: version in ("3.11", "3.13"),
    )


def gpu_service(root: Path) -> Path:
    return write(
        root,
        {
            "svc/requirements.txt": "onnxruntime==1.19.2\nfastapi\n",
            "svc/requirements-gpu.txt": "onnxruntime-gpu==1.19.2\nfastapi\n",
            "svc/requirements-dev.txt": "pytest\n",
            "svc/Dockerfile": "FROM python:3.11-slim-bookworm\n",
            "svc/Dockerfile.gpu": "FROM nvidia/cuda:12.2.0-runtime-ubuntu22.04\n",
        },
    )


def test_a_service_shipping_gpu_files_gets_a_gpu_accelerator_said_with_its_files(tmp_path):
    found = plan(gpu_service(tmp_path))
    where = {item.where for item in found.gpu}
    assert {"svc/requirements-gpu.txt", "svc/Dockerfile.gpu", "svc/Dockerfile.gpu:1"} <= where
    assert any(
        n.startswith("accelerators: cpu and gpu (the repository builds for GPUs: svc/")
        for n in found.notes
    )
    assert (
        "gpu accelerator: proposed for svc/Dockerfile.gpu, svc/requirements-gpu.txt; its cells "
        "install the profiles' requirement files (a declaration has no requirement file or "
        "Dockerfile per accelerator) with replace: onnxruntime -> onnxruntime-gpu"
    ) in found.notes
    table = tomllib.loads(render_service_table(found, workflow=WORKFLOW))["tool"]["noxgrid"]
    assert table["accelerators"] == ["cpu", "gpu"]
    gpu = table["accelerator"]["gpu"]
    assert gpu["replace"] == {"onnxruntime": "onnxruntime-gpu"}
    assert gpu["runs-on"] == ["self-hosted", "linux", "gpu"]
    assert "torch-backend" not in gpu


def test_a_service_without_gpu_files_stays_cpu(tmp_path):
    write(tmp_path, {"svc/requirements.txt": "fastapi\n", "svc/Dockerfile": "FROM python:3.11\n"})
    found = plan(tmp_path)
    assert found.gpu == []
    table = tomllib.loads(render_service_table(found, workflow=WORKFLOW))["tool"]["noxgrid"]
    assert table["accelerators"] == ["cpu"]
    assert "accelerators: cpu (no GPU requirement file, GPU Dockerfile or CUDA pin found)" in (
        found.notes
    )


def test_another_services_gpu_files_do_not_make_the_root_service_gpu(tmp_path):
    gpu_service(tmp_path)
    write(tmp_path, {"requirements.txt": "six\n"})
    root = plan(tmp_path, ".", others=(".", "svc"))
    assert root.gpu == []
    assert plan(tmp_path).gpu != []


def test_torch_named_by_the_requirements_writes_its_backends(tmp_path):
    gpu_service(tmp_path)
    (tmp_path / "svc" / "requirements.txt").write_text("torch==2.5.1\n")
    found = plan(tmp_path)
    assert found.torch
    table = tomllib.loads(render_service_table(found, workflow=WORKFLOW))["tool"]["noxgrid"]
    assert table["accelerator"]["cpu"]["torch-backend"] == "cpu"
    assert table["accelerator"]["gpu"]["torch-backend"] == "cu126"


def test_redeclare_leaves_a_python_value_out_of_the_services_pyproject(tmp_path):
    write(
        tmp_path,
        {
            "svc/requirements.txt": "numpy==1.26.4\n",
            "svc/requirements-dev.txt": "pytest\n",
            "svc/Dockerfile": "FROM python:3.11-slim\n",
            ".github/workflows/ci.yml": """
                jobs:
                  t:
                    strategy:
                      matrix:
                        python-version: ["3.11", "3.13"]
            """,
        },
    )
    found = plan(tmp_path)
    found.pythons = ["3.11", "3.13"]
    pyproject = tmp_path / "svc" / "pyproject.toml"
    pyproject.write_text(render_service_table(found, workflow=WORKFLOW))
    assert load_config(tmp_path / "svc").pythons == ("3.11", "3.13")
    reason = "no wheel for Python 3.13: numpy would be built from source"
    config = _redeclarer(found, WORKFLOW)(Cut(left_out=[LeftOut("3.13", reason)], torch=True))
    assert config.pythons == ("3.11",)
    assert config.accelerators["cpu"].torch_backend == "cpu"
    assert config.workflow.directory == "svc"
    text = pyproject.read_text()
    assert f"# left out python 3.13: {reason}" in text
    assert load_config(tmp_path / "svc") == config


def test_redeclare_excludes_a_single_cell(tmp_path):
    gpu_service(tmp_path)
    found = plan(tmp_path)
    (tmp_path / "svc" / "pyproject.toml").write_text(render_service_table(found, workflow="w.yml"))
    config = _redeclarer(found, "w.yml")(
        Cut(left_out=[LeftOut("3.11", "uv found no solution: Because x", "gpu", "lean")])
    )
    assert config.pythons == tuple(found.pythons)
    assert config.exclude == ({"python": "3.11", "accelerator": "gpu", "profile": "lean"},)


def test_gpu_only_pins_without_a_cpu_build_are_said_with_their_line(tmp_path):
    gpu_service(tmp_path)
    (tmp_path / "svc" / "requirements-gpu.txt").write_text(
        "onnxruntime-gpu==1.19.2\nfastapi\ncupy-cuda12x\n"
    )
    found = plan(tmp_path)
    assert found.gpu_replace == {"onnxruntime": "onnxruntime-gpu"}
    assert any(
        n.endswith(
            "; not in them: cupy-cuda12x (svc/requirements-gpu.txt:3) (add to a profile, "
            "or write a [tool.noxgrid.accelerator.gpu] replace)"
        )
        for n in found.notes
    )


def test_a_cuda_dockerfile_alone_proposes_gpu_without_swaps(tmp_path):
    write(
        tmp_path,
        {
            "svc/requirements.txt": "fastapi\n",
            "svc/Dockerfile": "FROM nvidia/cuda:12.2.0-runtime-ubuntu22.04\n",
        },
    )
    found = plan(tmp_path)
    assert [item.where for item in found.gpu] == ["svc/Dockerfile:1"]
    assert found.gpu_replace is None
    table = tomllib.loads(render_service_table(found, workflow=WORKFLOW))["tool"]["noxgrid"]
    assert table["accelerators"] == ["cpu", "gpu"]
    assert "replace" not in table["accelerator"]["gpu"]
