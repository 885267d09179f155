from __future__ import annotations

from pathlib import Path

from noxgrid.model.gpufiles import gpu_evidence, gpu_swaps, torch_backend_needed


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_cpu_only_repository_has_no_evidence(tmp_path):
    root = write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nRUN pip install onnxruntime\n",
            "requirements.txt": "onnxruntime==1.17.0\nnumpy\n",
            "requirements-latest.txt": "torch==2.3.0\n",
            "pyproject.toml": '[project]\nname = "x"\ndependencies = ["scikit-learn"]\n',
            ".venv/lib/requirements-gpu.txt": "cupy\n",
        },
    )
    assert gpu_evidence(root) == []


def test_gpu_files_bases_and_pins(tmp_path):
    root = write(
        tmp_path,
        {
            "requirements-gpu.txt": "onnxruntime-gpu==1.17.0\n",
            "docker/Dockerfile.gpu": "ARG X\nFROM nvidia/cuda:12.2.0-runtime-ubuntu22.04 AS base\n",
            "docker/Dockerfile": "FROM pytorch/pytorch:2.1.0-cuda12.1-cudnn8-runtime\n",
            "requirements/extra.txt": "torch==2.1.0+cu121\n# cupy in a comment\n",
            "pyproject.toml": '[project.optional-dependencies]\ngpu = [\n  "cupy-cuda12x>=13",\n]\n',
        },
    )
    found = {(item.where, item.what) for item in gpu_evidence(root)}
    assert ("requirements-gpu.txt", "a GPU build's file") in found
    assert ("requirements-gpu.txt:1", "onnxruntime-gpu==1.17.0") in found
    assert ("docker/Dockerfile.gpu", "a GPU build's file") in found
    assert (
        "docker/Dockerfile.gpu:2",
        "FROM nvidia/cuda:12.2.0-runtime-ubuntu22.04",
    ) in found
    assert ("docker/Dockerfile:1", "FROM pytorch/pytorch:2.1.0-cuda12.1-cudnn8-runtime") in found
    assert ("requirements/extra.txt:1", "torch==2.1.0+cu121") in found
    assert ("pyproject.toml:3", "cupy-cuda12x>=13") in found
    assert not any("comment" in what for _, what in found)


def test_torch_by_name():
    assert torch_backend_needed({"torchvision", "numpy"})
    assert not torch_backend_needed({"torchmetrics-lite", "numpy"})


def test_a_gpu_requirement_file_gives_the_swaps_of_its_cpu_builds():
    cpu = {"onnxruntime", "faiss-cpu", "tensorflow-cpu", "fastapi", "numpy"}
    gpu = {
        "onnxruntime-gpu": 1,
        "faiss-gpu-cu12": 2,
        "tensorflow": 3,
        "fastapi": 4,
        "cupy-cuda12x": 5,
        "numpy": 6,
    }
    swaps = gpu_swaps(cpu, gpu)
    assert swaps.replace == {
        "onnxruntime": "onnxruntime-gpu",
        "faiss-cpu": "faiss-gpu-cu12",
        "tensorflow-cpu": "tensorflow",
    }
    assert swaps.unmatched == [("cupy-cuda12x", 5)]


def test_a_gpu_file_that_keeps_the_cpu_build_too_swaps_nothing():
    swaps = gpu_swaps({"onnxruntime"}, {"onnxruntime": 1, "onnxruntime-gpu": 2})
    assert swaps.replace == {}
    assert swaps.unmatched == [("onnxruntime-gpu", 2)]
