"""The install compiles no bytecode: the cell's processes write the .pyc of what they
import (``model.bytecode``): beside the venv's sources by default, into the venv's
prefix folder where the user set PYTHONDONTWRITEBYTECODE (the working tree gets none);
the file proof of the next run is not disturbed by them."""

from __future__ import annotations

from pathlib import Path

from tests.integration.conftest import noxgrid
from tests.integration.test_proof import install_detail
from tests.integration.test_trust import NO_DOCKER, simple


def pyc_times(folder: Path) -> dict[str, int]:
    return {str(path): path.stat().st_mtime_ns for path in folder.rglob("*.pyc")}


def locked_and_run(tmp_path: Path, env: dict[str, str]) -> tuple[Path, Path, Path]:
    """A simple project locked and run once: (its root, its venv, the venv's site-packages)."""
    root = simple(tmp_path)
    locked = noxgrid("lock", cwd=root, env=env)
    assert locked.returncode == 0, locked.stdout + locked.stderr
    first = noxgrid("run", "-q", cwd=root, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    venv = root / ".noxgrid/venvs/3.11-cpu-lean"
    (site,) = venv.glob("lib/python3.11/site-packages")
    return root, venv, site


def test_bytecode_is_written_into_the_venv_by_the_run_not_the_install(tmp_path):
    env = {**NO_DOCKER, "UV_CACHE_DIR": str(tmp_path / "uv-cache"), "PYTHONDONTWRITEBYTECODE": "1"}
    root, venv, site = locked_and_run(tmp_path, env)
    assert not list((site / "_pytest").rglob("__pycache__")), "the install compiled nothing"
    prefix = venv / "pycache"
    written = pyc_times(prefix)
    assert any("_pytest" in path for path in written), "the suite's imports, in the venv"
    assert any(path.endswith(".pyc") and "/tests/" in path for path in written), "pytest's too"
    in_tree = [p for p in root.rglob("__pycache__") if ".noxgrid" not in p.parts]
    assert not in_tree, f"bytecode in the working tree: {in_tree}"
    second = noxgrid("run", "-q", cwd=root, env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert install_detail(root).startswith("proved equal to"), install_detail(root)
    again = pyc_times(prefix)
    kept = [path for path in written if "_pytest" in path and again.get(path) == written[path]]
    assert kept, "the second run read the first run's bytecode instead of compiling again"


def test_by_default_the_run_writes_bytecode_beside_the_sources_of_the_venv(tmp_path):
    env = {**NO_DOCKER, "UV_CACHE_DIR": str(tmp_path / "uv-cache"), "PYTHONDONTWRITEBYTECODE": ""}
    root, venv, site = locked_and_run(tmp_path, env)
    assert not (venv / "pycache").exists(), "no prefix: the interpreter's own bytecode is used"
    written = pyc_times(site / "_pytest")
    assert written, "the suite's imports, beside their sources"
    second = noxgrid("run", "-q", cwd=root, env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert install_detail(root).startswith("proved equal to"), install_detail(root)
    assert pyc_times(site / "_pytest") == written, "read, not compiled again"
