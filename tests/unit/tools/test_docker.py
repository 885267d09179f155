from __future__ import annotations

import pytest

from noxgrid.model.declaration import load_config
from noxgrid.model.engine import engine_problem
from noxgrid.model.image import (
    AppTree,
    base_image,
    build_args,
    git_revision,
    image_problems,
    parse_image_map,
    revision_label,
    tree_problems,
)
from noxgrid.model.matrix import Cell
from noxgrid.render.dockerfile import default_dockerignore
from noxgrid.tools.docker import Docker, EngineUnavailable
from noxgrid.tools.runner import Outcome, Runner

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
    assert args["LOCK"] == "requirements/locks/pylock.py310-cpu-lean.toml"
    assert args["APT_PACKAGES"] == "curl libgomp1"
    assert args["CELL"] == "3.10-cpu-lean" and args["REVISION"] == "abc"
    assert args["PORT"] == "8080" and args["APP_COMMAND"] == "uvicorn svc:app"
    assert "INSTALL_PROJECT" not in args, "the template's default installs the project"


def test_a_profile_that_does_not_install_the_project_tells_the_template(make_project):
    from noxgrid.render.dockerfile import TEMPLATE

    text = DOCKER.replace("[tool.noxgrid.docker]", "install-project = false\n[tool.noxgrid.docker]")
    config = load_config(make_project(text))
    args = build_args(config, CELL, base="b", lock_sha256="", revision="")
    assert args["INSTALL_PROJECT"] == "0"
    template = TEMPLATE.read_text()
    assert "ARG INSTALL_PROJECT=1" in template
    assert 'if [ "$INSTALL_PROJECT" = 1 ]; then' in template


KEPT = """
[[tool.noxgrid.allow]]
rule = "exclusive"
packages = ["opencv-python-headless", "opencv-contrib-python-headless"]
keep = "opencv-contrib-python-headless"
cells = "*-cpu-*"
reason = "the detectors need contrib's modules"
"""


def test_an_exclusive_allowance_tells_the_template_what_to_install_last(make_project):
    from noxgrid.model.kept import keep_last_problem
    from noxgrid.render.dockerfile import TEMPLATE

    config = load_config(make_project(DOCKER + KEPT))
    both = ["numpy", "opencv-contrib-python-headless", "opencv-python-headless"]
    args = build_args(config, CELL, base="b", lock_sha256="", revision="", locked=both)
    assert args["KEEP_LAST"] == "opencv-contrib-python-headless"
    alone = ["numpy", "opencv-contrib-python-headless"]
    assert "KEEP_LAST" not in build_args(
        config, CELL, base="b", lock_sha256="", revision="", locked=alone
    ), "nothing shares its files: nothing to install last"
    gpu = Cell(python="3.10", accelerator="gpu", profile="lean")
    assert "KEEP_LAST" not in build_args(
        config, gpu, base="b", lock_sha256="", revision="", locked=both
    ), "the allowance is for cpu cells only"
    plain = load_config(make_project(DOCKER))
    assert "KEEP_LAST" not in build_args(
        plain, CELL, base="b", lock_sha256="", revision="", locked=both
    )
    template = TEMPLATE.read_text()
    assert keep_last_problem(template, "docker/Dockerfile", ["opencv-contrib-python"]) is None
    sync = template.index("/tmp/pylock.toml \\\n    && for keep in $KEEP_LAST")
    assert '--reinstall-package "$keep" /tmp/pylock.toml' in template[sync:]


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
            tree=tree(("src", 0o40755), ("src/app.py", 0o100644), ("pyproject.toml", 0o100644)),
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
        tree=tree(("src", 0o40755), (".git", 0o40755), ("__pycache__", 0o40755)),
        revision="abc",
    )
    text = "\n".join(problems)
    assert "700.0 MB, over the profile's 600.0 MB size-budget" in text
    assert "runs as root" in text
    assert "io.noxgrid.cell is 'x'" in text and "lock-sha256 is missing" in text
    assert "revision is not abc" in text
    assert ".dockerignore should keep out: .git, __pycache__" in text


def tree(*entries, uid=10001, gid=10001, owner=0, size=10):
    items = [{"p": path, "u": owner, "g": 0, "m": mode, "z": size} for path, mode in entries]
    return AppTree(uid=uid, gid=gid, entries=tuple(items))


def test_secrets_in_the_app_tree_are_named_by_path():
    problems = tree_problems(
        tree(
            ("src", 0o40755),
            ("deploy/id_rsa", 0o100600),
            ("config/.env.production", 0o100644),
            (".env.example", 0o100644),
            ("certs/server.key", 0o100644),
            (".aws/credentials", 0o100644),
            (".kube/config", 0o100644),
            ("aws_credentials.json", 0o100644),
            ("src/app/credentials.py", 0o100644),
            ("notes/readme.txt", 0o100644),
        )
    )
    (text,) = problems
    assert "holds 6 secret-like file(s) by name" in text
    for path in (
        "deploy/id_rsa",
        "config/.env.production",
        "certs/server.key",
        ".aws/credentials",
        ".kube/config",
        "aws_credentials.json",
    ):
        assert f"{path} (a secret by its name)" in text
    assert ".env.example" not in text, "a template is no secret"
    assert "credentials.py" not in text, "a Python module is code, found by its content"


def test_an_empty_env_file_is_not_a_secret():
    assert tree_problems(tree((".env", 0o100644), size=0)) == []
    assert tree_problems(tree((".env", 0o100644), size=12))


def test_the_app_trees_text_is_kept_apart_from_its_entries_for_the_scan():
    parsed = AppTree.parse(
        '{"user": "app", "uid": 1, "gid": 1}\n'
        '{"p": "token.txt", "u": 0, "g": 0, "m": 33188, "z": 5, "t": "ghp_x"}\n'
        '{"p": "model.bin", "u": 0, "g": 0, "m": 33188, "z": 5, "t": null}\n'
        '{"p": "big.csv", "u": 0, "g": 0, "m": 33188, "z": 5, "t": false}\n'
    )
    assert parsed.texts == {"token.txt": "ghp_x"}
    assert parsed.unread == 1, "past the scan's total: counted, to be said"
    assert all("t" not in entry for entry in parsed.entries)


def test_an_app_tree_the_runtime_user_can_write_is_a_problem():
    owned = tree_problems(tree(("src/app.py", 0o100644), owner=10001))
    assert owned and "belong to or are writable by the runtime user" in owned[0]
    world = tree_problems(tree(("src/app.py", 0o100666)))
    assert world and "(first: src/app.py)" in world[0]
    assert tree_problems(tree(("src/app.py", 0o100644), ("src", 0o40755))) == []


def test_a_symbolic_links_0777_mode_is_not_a_writable_app_tree():
    # As SeldonIO/MLServer's openapi/dataplane.json -> ../mlserver/rest/openapi/dataplane.json
    link = ("openapi/dataplane.json", 0o120777)
    assert tree_problems(tree(("openapi", 0o40755), link)) == []
    owned = tree_problems(tree(link, owner=10001))
    assert owned and "(first: openapi/dataplane.json)" in owned[0], "its owner still counts"
    assert tree_problems(tree(("openapi", 0o40777), link)), "a writable folder still counts"


def test_the_default_dockerignore_keeps_secrets_out():
    text = default_dockerignore()
    for pattern in (
        "**/id_rsa*",
        "**/*.pem",
        "**/*.key",
        "**/.pypirc",
        "**/.npmrc",
        "**/.netrc",
        "**/.git-credentials",
        "**/.aws",
        "**/.env",
        "**/.env.*",
    ):
        assert pattern in text.splitlines(), pattern
    assert "!**/.env.example" in text


def test_revision_label_says_when_the_tree_was_dirty():
    assert revision_label("abc123", dirty=True) == "abc123-dirty"
    assert revision_label("abc123", dirty=False) == "abc123"
    assert revision_label("", dirty=True) == ""


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

    from noxgrid.cell.image import docker_preflight
    from noxgrid.cell.progress import SilentProgress
    from noxgrid.cell.state import CellRun
    from noxgrid.errors import StageFailure
    from noxgrid.model.lockfile import parse_lock
    from noxgrid.tools.docker import Client, Docker
    from noxgrid.tools.runner import Runner

    config = load_config(make_project(DOCKER))
    state = CellRun(config=config, cell=CELL, runner=Runner(), progress=SilentProgress(), env={})
    docker = Docker(Runner(), Client(path="docker", buildx=False, root_dir=str(tmp_path)))
    lock = parse_lock("# installed-bytes: 400000000\n# download-bytes: 100000000\n")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**10, 0, 10**9))
    docker_preflight(state, docker, lock)  # 1 GB free for 550 MB: fine
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**10, 0, 300_000_000))
    with pytest.raises(StageFailure, match=r"about 550.0 MB is needed where Docker keeps images"):
        docker_preflight(state, docker, lock)


def test_the_reference_service_uses_the_template_as_it_is(capsys):
    from pathlib import Path

    from noxgrid.cli import main
    from noxgrid.render.dockerfile import TEMPLATE

    repo = Path(__file__).resolve().parents[3]
    reference = repo / "examples" / "service" / "docker" / "Dockerfile"
    assert reference.read_text() == TEMPLATE.read_text(), "copy `noxgrid dockerfile` again"
    assert main(["dockerfile"]) == 0
    assert capsys.readouterr().out == TEMPLATE.read_text()


class ScriptedRunner(Runner):
    """Answers docker commands from a table (argv[1:] prefix -> (exit code, output))."""

    def __init__(self, answers):
        super().__init__()
        self.answers = answers
        self.argvs = []

    def run(self, command, *, sink=None):
        self.argvs.append(command.argv)
        for prefix, (code, output) in self.answers.items():
            if command.argv[1 : 1 + len(prefix)] == prefix:
                return Outcome(command=command, returncode=code, duration=0.0, output=output)
        return Outcome(command=command, returncode=127, duration=0.0, output="unknown")


def test_a_missing_configured_client_is_named_and_nothing_else_is_tried():
    runner = ScriptedRunner({})
    with pytest.raises(EngineUnavailable) as info:
        Docker.find(runner, {"NOXGRID_DOCKER": "/nowhere/docker"})
    assert str(info.value).startswith("NOXGRID_DOCKER=/nowhere/docker: no such program")
    assert "fix: point NOXGRID_DOCKER at a docker client" in str(info.value)
    assert runner.argvs == []


def test_a_configured_client_that_fails_is_not_replaced_by_another(tmp_path):
    client = tmp_path / "docker"
    client.write_text("#!/bin/sh\n")
    client.chmod(0o755)
    runner = ScriptedRunner({("buildx",): (1, "no buildx"), ("version",): (0, "28.2.2\n")})
    with pytest.raises(EngineUnavailable) as info:
        Docker.find(runner, {"NOXGRID_DOCKER": str(client)})
    assert f"NOXGRID_DOCKER={client} cannot build with BuildKit" in str(info.value)
    assert {argv[0] for argv in runner.argvs} == {str(client)}, "no fallback client"


DOWN = (
    '{"ServerErrors":["Cannot connect to the Docker daemon at unix:///var/run/docker.sock. '
    'Is the docker daemon running?"],"ClientInfo":{}}\n'
)


def test_no_engine_is_one_paragraph_without_template_noise(tmp_path):
    client = tmp_path / "docker"
    client.write_text("#!/bin/sh\n")
    client.chmod(0o755)
    noisy = (
        'template: :1:2: executing "" at <.ServerVersion>: reflect: indirection through nil\n'
        + DOWN
    )
    runner = ScriptedRunner({("buildx",): (0, "v0.12"), ("info",): (0, noisy)})
    with pytest.raises(EngineUnavailable) as info:
        Docker.find(runner, {"NOXGRID_DOCKER": str(client)})
    text = str(info.value)
    assert text.startswith("no Docker engine is running at unix:///var/run/docker.sock")
    assert "template" not in text and "reflect" not in text
    assert "fix: start the engine" in text


def test_engine_problems_name_their_cause():
    denied = "permission denied while trying to connect to the Docker daemon socket"
    what, fix = engine_problem(denied, "unix:///var/run/docker.sock", "docker")
    assert "may not use the engine's socket" in what and "docker group" in fix
    what, fix = engine_problem(
        "dial tcp 10.0.0.5:2376: i/o timeout", "tcp://10.0.0.5:2376", "docker"
    )
    assert "DOCKER_HOST=tcp://10.0.0.5:2376" in what and "DOCKER_HOST" in fix


def test_a_live_engine_gives_its_data_root(tmp_path):
    client = tmp_path / "docker"
    client.write_text("#!/bin/sh\n")
    client.chmod(0o755)
    info = '{"ServerVersion":"20.10.24","DockerRootDir":"/var/lib/docker"}\n'
    runner = ScriptedRunner({("buildx",): (0, "v0.12"), ("info",): (0, info)})
    docker = Docker.find(runner, {"NOXGRID_DOCKER": str(client)})
    assert docker.client.root_dir == "/var/lib/docker" and docker.client.buildx


def _build(runner, *, buildx):
    from pathlib import Path

    from noxgrid.tools.docker import Client

    docker = Docker(runner, Client(path="docker", buildx=buildx))
    docker.build(
        Path("."),
        dockerfile=Path("Dockerfile"),
        target="lean",
        tag="t",
        args={},
        sink=None,
        timeout=10,
    )
    return docker, next(argv for argv in runner.argvs if "build" in argv[1:3])


def test_a_build_asks_for_the_sbom_attestation_only_where_the_store_keeps_it():
    containerd = '[["driver-type","io.containerd.snapshotter.v1"]]'
    inspect = "Name: b\nDriver: docker-container\n"
    runner = ScriptedRunner(
        {
            ("buildx", "inspect"): (0, inspect),
            ("info",): (0, containerd),
            ("buildx", "build"): (0, ""),
        }
    )
    docker, argv = _build(runner, buildx=True)
    assert "--sbom=true" in argv and docker.attestation().supported
    classic = ScriptedRunner(
        {("buildx", "inspect"): (0, inspect), ("info",): (0, "[]"), ("buildx", "build"): (0, "")}
    )
    docker, argv = _build(classic, buildx=True)
    assert "--sbom=true" not in argv and not docker.attestation().supported
    legacy = ScriptedRunner({("build",): (0, "")})
    docker, argv = _build(legacy, buildx=False)
    assert "--sbom=true" not in argv
    assert docker.attestation().why.startswith("the docker client has no buildx plugin")
    assert [a[1] for a in legacy.argvs] == ["build"], "nothing asked without buildx"
