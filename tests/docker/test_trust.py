"""What an image may carry, checked on the image itself: secrets, leftovers, ownership.

The image check reads the whole of /app in the built image (never a tail of a
listing), so an offending file is found after ten thousand others.
"""

from __future__ import annotations

import json
import subprocess

from tests.docker.test_images import client, report
from tests.integration.conftest import noxgrid


def run_in(tag: str, *argv: str, user: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [client(), "run", "--rm", "--entrypoint", argv[0]]
    if user:
        command += ["--user", user]
    return subprocess.run(
        [*command, tag, *argv[1:]], capture_output=True, text=True, check=False, timeout=120
    )


def test_a_secret_deep_in_a_long_tree_fails_the_image_check_by_path(service, docker_env):
    # A project's own, older .dockerignore that keeps out only the obvious.
    (service / ".dockerignore").write_text(".git\n.noxgrid\n**/__pycache__\n")
    data = service / "data"
    data.mkdir()
    for index in range(10_050):
        (data / f"f{index:05d}.txt").write_text("x")
    last = service / "zz" / "deploy"
    last.mkdir(parents=True)
    (last / "id_ed25519").write_text("not really a key\n")
    (service / "zz" / "state.sqlite3").write_text("")
    result = noxgrid("image", "3.11-cpu-lean", cwd=service, env=docker_env)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr
    image = {s["name"]: s for s in report(service, "3.11-cpu-lean")["stages"]}["image"]
    detail = image["detail"]
    assert "holds 1 secret-like file(s) by name" in detail, detail
    assert "zz/deploy/id_ed25519 (a secret by its name)" in detail
    keep_out = next(line for line in detail.splitlines() if "should keep out:" in line)
    assert "zz/state.sqlite3" in keep_out
    assert "data/f" not in detail, "only what is wrong is named"


# Built from pieces, so that this file holds no token a scanner would stop at.
GITHUB = "ghp_" + "a1B2c3D4e5" * 3 + "F6g7H8"
AWS = "AKIA" + "IOSFODNN7" + "QWERTYU"
JWT = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9."
    "eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdCJ9."
    "c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl"
)


def test_secrets_are_found_by_what_they_are_before_they_reach_a_layer(service, docker_env):
    # A project's own .dockerignore that lets all three in; none is a secret by its name.
    (service / ".dockerignore").write_text(".git\n.noxgrid\n**/__pycache__\n")
    (service / ".kube").mkdir()
    (service / ".kube" / "config").write_text(
        f"apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: {JWT}\n"
    )
    (service / "token.txt").write_text(GITHUB + "\n")
    (service / "aws_keys.txt").write_text(f"[default]\naws_access_key_id = {AWS}\n")
    (service / ".env").write_text("")  # empty: a placeholder, not a secret
    result = noxgrid("image", "3.11-cpu-lean", cwd=service, env=docker_env)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr
    image = {s["name"]: s for s in report(service, "3.11-cpu-lean")["stages"]}["image"]
    detail = image["detail"]
    assert "the build context (what .dockerignore lets in) holds 3 secret(s)" in detail, detail
    for where in (
        ".kube/config:6 (JSON Web Token)",
        "token.txt:1 (GitHub Token)",
        "aws_keys.txt:2 (AWS Access Key)",
    ):
        assert where in detail, where
    for value in (GITHUB, AWS, JWT):
        assert value not in result.stdout + result.stderr + detail, "never the secret"
    assert ".env" not in detail


def test_the_default_dockerignore_keeps_secrets_out_and_app_is_root_owned(service, docker_env):
    (service / ".dockerignore").unlink()  # noxgrid writes its default
    (service / "id_rsa").write_text("-----BEGIN RSA PRIVATE KEY-----\n")
    (service / ".env").write_text("TOKEN=secret\n")
    (service / ".pypirc").write_text("[pypi]\npassword = secret\n")
    (service / "certs").mkdir()
    (service / "certs" / "server.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    (service / ".kube").mkdir()
    (service / ".kube" / "config").write_text(f"users:\n- user:\n    token: {JWT}\n")
    (service / "gcp_credentials.json").write_text('{"private_key_id": "x"}\n')
    subprocess.run(["git", "init", "-q"], cwd=service, check=True)
    subprocess.run(["git", "add", "-A"], cwd=service, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "x"],
        cwd=service,
        check=True,
    )
    (service / "src" / "refservice" / "settings.py").write_text(
        (service / "src" / "refservice" / "settings.py").read_text() + "\n# changed\n"
    )
    result = noxgrid("image", "3.11-cpu-lean", cwd=service, env=docker_env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    image = {s["name"]: s for s in report(service, "3.11-cpu-lean")["stages"]}["image"]
    # The reference service passes its own rules: its tests in /app are intended content.
    assert "no secret in /app's " in image["detail"], image["detail"]
    assert "no waste (" in image["detail"] and "carries its tests for --in-image" in image["detail"]
    tag = "noxgrid/refservice:3.11-cpu-lean"
    listing = run_in(tag, "find", "/app", "-maxdepth", "2")
    for secret in ("id_rsa", ".env", ".pypirc", "server.pem", ".kube", "credentials"):
        assert secret not in listing.stdout, secret
    owner = run_in(tag, "stat", "-c", "%u", "/app/pyproject.toml")
    assert owner.stdout.strip() == "0"
    write = run_in(tag, "touch", "/app/pyproject.toml")
    assert write.returncode != 0, "the runtime user cannot change the application"
    inspect = subprocess.run(
        [client(), "image", "inspect", "--format", "{{json .Config.Labels}}", tag],
        capture_output=True,
        text=True,
        check=True,
    )
    labels = json.loads(inspect.stdout)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=service, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert labels["org.opencontainers.image.revision"] == f"{head}-dirty"
