"""Locks made by real uv against PyPI: refusals before any download, with chains and fixes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.conftest import nox, noxgrid

PROJECT = """
[project]
name = "mlsvc"
version = "0.1.0"

[tool.noxgrid]
python = ["3.11"]
accelerators = ["cpu"]
profiles = ["full"]

[tool.noxgrid.profile.full]
requirements = ["requirements/full.in"]
{budget}
"""


def make(tmp_path: Path, requirements: str, budget: str = "") -> Path:
    root = tmp_path / "mlsvc"
    (root / "requirements").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PROJECT.format(budget=budget))
    (root / "requirements" / "full.in").write_text(requirements)
    (root / "noxfile.py").write_text("import noxgrid\n\nnoxgrid.sessions()\n")
    return root


def test_cuda_torch_in_a_cpu_cell_is_refused_with_the_chain_and_the_fix(tmp_path):
    # No torch-backend for cpu: uv resolves PyPI's torch, the CUDA build.
    root = make(tmp_path, "torch\n")
    result = noxgrid("lock", cwd=root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "3.11-cpu-full: REFUSED" in result.stdout
    finding = next(line for line in result.stdout.splitlines() if line.startswith("[forbidden]"))
    assert "package(s) forbidden in cpu cells:" in finding
    assert "nvidia-" in finding
    assert "<- torch <- requirements/full.in" in result.stdout
    assert result.stdout.count("[forbidden]") == 1, "one finding for everything torch pulls"
    assert 'set torch-backend = "cpu" in [tool.noxgrid.accelerator.cpu]' in result.stdout
    assert not (root / "requirements" / "locks" / "3.11-cpu-full.txt").exists()
    # And the cell itself installs nothing without an accepted lock.
    cell = nox("-s", "ci-full-3.11(cpu)", cwd=root)
    assert cell.returncode != 0
    data = json.loads((root / ".noxgrid" / "reports" / "3.11-cpu-full.json").read_text())
    assert [s["status"] for s in data["stages"]] == ["passed", "failed"] + ["skipped"] * 6


def test_both_opencv_variants_are_refused_naming_both(tmp_path):
    root = make(tmp_path, "opencv-python\nopencv-python-headless\n")
    result = noxgrid("lock", cwd=root)
    assert result.returncode == 1
    out = result.stdout
    assert "[exclusive] opencv-python and opencv-python-headless are both in the lock" in out
    assert "opencv-python <- requirements/full.in" in out
    assert "opencv-python-headless <- requirements/full.in" in out
    assert "[gui-opencv]" in out and "libGL.so.1" in out


def test_a_budget_breach_is_refused_with_the_largest_packages(tmp_path):
    root = make(tmp_path, "numpy\nonnxruntime\n", budget='size-budget = "40MB"')
    result = noxgrid("lock", cwd=root)
    assert result.returncode == 1
    assert "[budget] the installed size is estimated at" in result.stdout
    assert "over the 40.0 MB budget of profile 'full'" in result.stdout
    assert "onnxruntime==" in result.stdout and "numpy==" in result.stdout


def test_a_budget_lowered_after_locking_stops_the_cell_before_any_install(tmp_path):
    root = make(tmp_path, "numpy\n", budget='size-budget = "1GB"')
    locked = noxgrid("lock", cwd=root)
    assert locked.returncode == 0, locked.stdout + locked.stderr
    text = (root / "pyproject.toml").read_text().replace('"1GB"', '"1MB"')
    (root / "pyproject.toml").write_text(text)
    result = noxgrid("run", cwd=root)
    assert result.returncode == 1
    data = json.loads((root / ".noxgrid" / "reports" / "3.11-cpu-full.json").read_text())
    lock_stage = {s["name"]: s for s in data["stages"]}["lock"]
    assert lock_stage["status"] == "failed" and "over the 1.0 MB budget" in lock_stage["detail"]
    assert "numpy==" in lock_stage["detail"]
    assert not (root / ".noxgrid" / "venvs" / "3.11-cpu-full").exists(), "no venv, no download"


def test_gpu_cells_swap_packages_before_resolving(tmp_path):
    root = make(tmp_path, "onnxruntime\n")
    text = (
        (root / "pyproject.toml")
        .read_text()
        .replace('accelerators = ["cpu"]', 'accelerators = ["cpu", "gpu"]')
    )
    text += '\n[tool.noxgrid.accelerator.gpu]\nreplace = { onnxruntime = "onnxruntime-gpu" }\n'
    (root / "pyproject.toml").write_text(text)
    result = noxgrid("lock", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    gpu = (root / "requirements" / "locks" / "3.11-gpu-full.txt").read_text()
    cpu = (root / "requirements" / "locks" / "3.11-cpu-full.txt").read_text()
    assert "\nonnxruntime-gpu==" in gpu and "\nonnxruntime==" not in gpu
    assert "\nonnxruntime==" in cpu and "onnxruntime-gpu" not in cpu.split("\n\n", 1)[1]
    assert "# via -r requirements/full.in" in gpu
