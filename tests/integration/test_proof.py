"""A fresh venv is proved, not taken on uv's word: a file changed in uv's cache fails the
cell naming the distribution, the file and the fix. Each test has a private uv cache: the
shared one is never touched."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.integration.conftest import noxgrid
from tests.integration.test_trust import NO_DOCKER, simple


def report(root: Path) -> dict:
    return json.loads((root / ".noxgrid/reports/3.11-cpu-lean.json").read_text())


def install_detail(root: Path) -> str:
    stages = {stage["name"]: stage for stage in report(root)["stages"]}
    return stages["install"]["detail"]


def test_a_file_changed_in_uvs_cache_fails_a_fresh_venv(tmp_path):
    cache = tmp_path / "uv-cache"
    env = {**NO_DOCKER, "UV_CACHE_DIR": str(cache)}
    root = simple(tmp_path)
    locked = noxgrid("lock", cwd=root, env=env)
    assert locked.returncode == 0, locked.stdout + locked.stderr
    first = noxgrid("run", "-q", cwd=root, env=env)  # warms the private cache
    assert first.returncode == 0, first.stdout + first.stderr
    fresh = install_detail(root)
    (unpacked,) = cache.glob("archive-v0/*/iniconfig/__init__.py")
    text = unpacked.read_text()
    unpacked.unlink()  # a new file: the first venv's hard link keeps the original
    unpacked.write_text(text + "# changed in the cache\n")  # harmless: the suite still passes
    venv = root / ".noxgrid/venvs/3.11-cpu-lean"
    subprocess.run(["rm", "-rf", str(venv)], check=True)
    second = noxgrid("run", "-q", cwd=root, env=env)
    output = second.stdout + second.stderr
    assert second.returncode != 0, output
    error = report(root)["stages"][-1].get("error", "")
    message = output + error + json.dumps(report(root))
    assert "iniconfig" in message and "iniconfig/__init__.py differs from the hash" in message
    assert "fix: uv cache clean iniconfig" in message
    # The fix it names, then the same venv: the altered copy is installed again, proved.
    cleaned = subprocess.run(
        ["uv", "cache", "clean", "iniconfig"],
        env={**os.environ, "UV_CACHE_DIR": str(cache)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert cleaned.returncode == 0, cleaned.stderr
    third = noxgrid("run", "-q", cwd=root, env=env)
    assert third.returncode == 0, third.stdout + third.stderr
    assert "1 installed again" in install_detail(root)
    assert "hashed against their RECORD" in fresh, "the first, fresh venv was proved too"
    site = next(venv.glob("lib/python*/site-packages"))
    assert "changed in the cache" not in (site / "iniconfig" / "__init__.py").read_text()
