"""uv's own settings are honored: a mirror in UV_INDEX_URL is the index the lock resolves from."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.conftest import locked, noxgrid, run

PROJECT = """
[project]
name = "mirrored"
version = "0.1.0"
dependencies = []

[tool.noxgrid]
python = ["3.11"]
accelerators = ["cpu"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def mirror(folder: Path) -> Path:
    """A plain PEP 503 mirror holding one wheel (iniconfig), taken from the index."""
    files = folder / "files"
    files.mkdir(parents=True)
    done = run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary",
            ":all:",
            "iniconfig",
            "-d",
            str(files),
        ],
        cwd=folder,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    wheel = next(files.glob("*.whl"))
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    page = folder / "simple" / "iniconfig"
    page.mkdir(parents=True)
    (page / "index.html").write_text(
        f'<html><body><a href="../../files/{wheel.name}#sha256={digest}">{wheel.name}</a>'
        "</body></html>\n"
    )
    return wheel


def test_a_uv_index_url_mirror_is_the_index_actually_used(tmp_path):
    wheel = mirror(tmp_path / "mirror")
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(tmp_path / "mirror"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        root = tmp_path / "proj"
        (root / "requirements").mkdir(parents=True)
        (root / "pyproject.toml").write_text(PROJECT)
        (root / "requirements" / "lean.in").write_text("iniconfig\n")
        url = f"http://127.0.0.1:{port}/simple"
        env = {
            "UV_INDEX_URL": url,
            "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
            "NOXGRID_CACHE_DIR": str(tmp_path / "noxgrid-cache"),
        }
        result = noxgrid("lock", cwd=root, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        lock = locked(root, "3.11-cpu-lean")
        iniconfig = lock.packages["iniconfig"]
        assert iniconfig.index == url.rstrip("/"), "the package came from the mirror"
        assert lock.header["indexes"] == url.rstrip("/")
        assert lock.header["unsized"] == "none", "sized from the mirror's own answers"
        assert iniconfig.version == wheel.name.split("-")[1]
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_uvs_cache_folder_is_the_one_uv_itself_names(tmp_path):
    from noxgrid.tools.runner import Runner
    from noxgrid.tools.uv import Uv

    (tmp_path / "uv.toml").write_text(f'cache-dir = "{tmp_path / "company-cache"}"\n')
    env = {k: v for k, v in os.environ.items() if k != "UV_CACHE_DIR"}
    assert Uv(Runner()).cache_dir(env, tmp_path) == tmp_path / "company-cache"
    assert Uv(Runner()).cache_dir({"UV_CACHE_DIR": "/x/y"}, tmp_path) == Path("/x/y")
