"""Locks made by real uv against PyPI: refusals before any download, with chains and fixes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.conftest import locked, nox, noxgrid

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
    assert not (root / "requirements" / "locks" / "pylock.py311-cpu-full.toml").exists()
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
    gpu = locked(root, "3.11-gpu-full").packages
    cpu = locked(root, "3.11-cpu-full").packages
    assert "onnxruntime-gpu" in gpu and "onnxruntime" not in gpu
    assert "onnxruntime" in cpu and "onnxruntime-gpu" not in cpu
    assert gpu["onnxruntime-gpu"].via == ("-r requirements/full.in",)


def test_locks_are_pep_751_files_and_an_older_txt_lock_is_migrated_with_its_pins(tmp_path):
    # An old pin: a fresh resolution would take a newer six, a migration keeps this one.
    root = make(tmp_path, "six<=1.16.0\n")
    result = noxgrid("lock", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    locks = root / "requirements" / "locks"
    [path] = locks.glob("pylock.*.toml")
    assert path.name == "pylock.py311-cpu-full.toml"
    six = locked(root, "3.11-cpu-full").packages["six"]
    assert six.version == "1.16.0" and six.index == "https://pypi.org/simple"
    # The same resolution as an older noxgrid wrote it: uv's requirements, a comment header.
    from noxgrid.model.lockfile import parse_lock, seal

    header = parse_lock(path.read_text()).header
    legacy = locks / "3.11-cpu-full.txt"
    legacy.write_text(
        seal(
            f"# inputs-sha256: {header['inputs-sha256']}\n\n"
            f"six==1.16.0 \\\n    --hash={six.hashes[0]}\n    # via -r requirements/full.in\n"
        )
    )
    path.unlink()
    (root / "requirements" / "full.in").write_text("six\n")  # now allows newer: pins kept
    check = noxgrid("lock", "--check", cwd=root)
    assert check.returncode == 1
    assert "requirements/locks/3.11-cpu-full.txt: legacy:" in check.stdout
    run = noxgrid("run", "-q", cwd=root, env={"NOXGRID_NO_DOCKER": "1"})
    assert run.returncode == 1
    data = json.loads((root / ".noxgrid/reports/3.11-cpu-full.json").read_text())
    detail = {s["name"]: s for s in data["stages"]}["lock"]["detail"]
    assert "is a .txt lock of an older noxgrid" in detail and "noxgrid lock 3.11-cpu-full" in detail
    migrate = noxgrid("lock", cwd=root)
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    assert "migrated 3.11-cpu-full.txt (an older noxgrid's .txt lock) to PEP 751" in migrate.stdout
    assert "the same pins" in migrate.stdout
    assert not legacy.exists() and path.is_file()
    assert locked(root, "3.11-cpu-full").packages["six"].version == "1.16.0"


def test_a_version_without_a_wheel_for_the_cell_gives_way_to_the_newest_with_one(tmp_path):
    # brotlicffi's newest releases ship no wheel for Python 3.8; older ones do. The lock
    # takes the newest with a wheel instead of refusing a source build (no interpreter
    # is needed: uv resolves for the cell's python version).
    root = make(tmp_path, "brotlicffi\n")
    text = (root / "pyproject.toml").read_text().replace('python = ["3.11"]', 'python = ["3.8"]')
    (root / "pyproject.toml").write_text(text)
    result = noxgrid("lock", cwd=root)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "has no wheel for 3.8-cpu-full: locked" in output, output
    assert "the newest version with one" in output
    import tomllib

    path = root / "requirements" / "locks" / "pylock.py38-cpu-full.toml"
    (package,) = [
        p for p in tomllib.loads(path.read_text())["packages"] if p["name"] == "brotlicffi"
    ]
    assert package.get("wheels"), "the locked version has a wheel"
    assert locked(root, "3.8-cpu-full").source_builds() == []


def test_a_cell_whose_inputs_did_not_change_is_resolved_from_uvs_cache(tmp_path):
    root = make(tmp_path, "six\n")
    first = noxgrid("lock", cwd=root)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "resolved from uv's cache" not in first.stdout, "a new lock asks the index"
    before = locked(root, "3.11-cpu-full").packages
    # No network at all: every request goes to a port nothing listens on.
    dead = "http://127.0.0.1:9"
    cut_off = {"HTTPS_PROXY": dead, "HTTP_PROXY": dead, "ALL_PROXY": dead, "NO_PROXY": ""}
    again = noxgrid("lock", cwd=root, env=cut_off)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "inputs unchanged: resolved from uv's cache (--refresh asks the index)" in again.stdout
    assert locked(root, "3.11-cpu-full").packages == before
    # --refresh asks the index, which cannot be reached here.
    refresh = noxgrid("lock", "--refresh", cwd=root, env=cut_off)
    assert refresh.returncode != 0, refresh.stdout
    # Changed inputs are resolved against the index too.
    (root / "requirements" / "full.in").write_text("six\niniconfig\n")
    changed = noxgrid("lock", cwd=root)
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert "resolved from uv's cache" not in changed.stdout
    assert "iniconfig" in locked(root, "3.11-cpu-full").packages
