from __future__ import annotations

from noxgrid.config import load_config
from noxgrid.docker import base_image, build_args, git_revision, image_problems, parse_image_map
from noxgrid.matrix import Cell

CELL = Cell(python="3.10", accelerator="cpu", profile="lean")
DOCKER = """
[project]
name = "svc"
[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
apt = ["curl", "libgomp1"]
size-budget = "600MB"
[tool.noxgrid.docker]
image = "ghcr.io/acme/svc"
command = "uvicorn svc:app"
health = { path = "/ready", port = 8080 }
base-image-map = { "python:{python}-slim-bookworm" = "registry.internal/python:{python}-slim" }
"""


def test_base_image_mapping_config_and_environment(make_project):
    config = load_config(make_project(DOCKER))
    assert base_image(config, CELL, {}) == "registry.internal/python:3.10-slim"
    env = {"NOXGRID_BASE_IMAGE_MAP": "python:3.10-slim-bookworm=local/py:3.10"}
    assert base_image(config, CELL, env) == "local/py:3.10", "the environment wins"
    plain = load_config(make_project())
    assert base_image(plain, CELL, {}) == "python:3.10-slim-bookworm"


def test_parse_image_map():
    assert parse_image_map("a=b; c={python}=x ;") == [("a", "b"), ("c", "{python}=x")]


def test_build_args(make_project):
    config = load_config(make_project(DOCKER))
    args = build_args(config, CELL, base="b", lock_sha256="f" * 64, revision="abc")
    assert args["LOCK"] == "requirements/locks/3.10-cpu-lean.txt"
    assert args["APT_PACKAGES"] == "curl libgomp1"
    assert args["CELL"] == "3.10-cpu-lean" and args["REVISION"] == "abc"
    assert args["PORT"] == "8080" and args["APP_COMMAND"] == "uvicorn svc:app"


GOOD = {
    "Size": 200_000_000,
    "Config": {
        "User": "app",
        "Labels": {
            "io.noxgrid.cell": "3.10-cpu-lean",
            "io.noxgrid.lock-sha256": "f" * 64,
            "org.opencontainers.image.revision": "abc",
        },
    },
}


def test_a_good_image_has_no_problems():
    assert (
        image_problems(
            GOOD,
            cell=CELL,
            budget=600_000_000,
            app_entries=["src", "pyproject.toml"],
            revision="abc",
        )
        == []
    )


def test_image_problems():
    bad = {"Size": 700_000_000, "Config": {"User": "", "Labels": {"io.noxgrid.cell": "x"}}}
    problems = image_problems(
        bad,
        cell=CELL,
        budget=600_000_000,
        app_entries=["src", ".git", ".env", "__pycache__"],
        revision="abc",
    )
    text = "\n".join(problems)
    assert "700.0 MB, over the profile's 600.0 MB size-budget" in text
    assert "runs as root" in text
    assert "io.noxgrid.cell is 'x'" in text and "lock-sha256 is missing" in text
    assert "revision is not abc" in text
    assert ".dockerignore should keep out: .env, .git, __pycache__" in text


def test_git_revision(tmp_path):
    git = tmp_path / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    assert git_revision(tmp_path / "sub") == ""
    (git / "refs" / "heads" / "main").write_text("1234abcd\n")
    assert git_revision(tmp_path) == "1234abcd"
    (git / "refs" / "heads" / "main").unlink()
    (git / "packed-refs").write_text("# pack\nfeed01 refs/heads/main\n")
    assert git_revision(tmp_path) == "feed01"


def test_docker_preflight_refuses_a_build_the_disk_cannot_hold(make_project, tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    import pytest

    from noxgrid.docker import Client, Docker
    from noxgrid.lockfile import parse_lock
    from noxgrid.pipeline import CellRun, StageFailure, _docker_preflight
    from noxgrid.progress import SilentProgress
    from noxgrid.runner import Runner

    config = load_config(make_project(DOCKER))
    state = CellRun(config=config, cell=CELL, runner=Runner(), progress=SilentProgress(), env={})
    docker = Docker(Runner(), Client(path="docker", buildx=False, root_dir=str(tmp_path)))
    lock = parse_lock("# installed-bytes: 400000000\n# download-bytes: 100000000\n")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**10, 0, 10**9))
    _docker_preflight(state, docker, lock)  # 1 GB free for 550 MB: fine
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**10, 0, 300_000_000))
    with pytest.raises(StageFailure, match=r"about 550.0 MB is needed where Docker keeps images"):
        _docker_preflight(state, docker, lock)


def test_the_reference_service_uses_the_template_as_it_is(capsys):
    from pathlib import Path

    from noxgrid.cli import main
    from noxgrid.docker import TEMPLATE

    repo = Path(__file__).resolve().parents[2]
    reference = repo / "examples" / "service" / "docker" / "Dockerfile"
    assert reference.read_text() == TEMPLATE.read_text(), "copy `noxgrid dockerfile` again"
    assert main(["dockerfile"]) == 0
    assert capsys.readouterr().out == TEMPLATE.read_text()
