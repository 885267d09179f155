"""The maintainer's refresh of the action pin table, against git repositories made here."""

from __future__ import annotations

import sys
from pathlib import Path

from noxgrid.render.actions import load_pins
from tests.integration.conftest import REPO, run


def repository(folder: Path, releases: dict[str, str]) -> Path:
    """A bare repository whose tags are ``releases`` (tag -> runtime in its action.yml)."""
    work = folder / "work"
    work.mkdir(parents=True)

    def git(*args: str) -> str:
        done = run(["git", *args], cwd=work)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    git("init", "-q", "-b", "main")
    for tag, runtime in releases.items():
        (work / "action.yml").write_text(
            f"name: act\ndescription: {tag}\nruns:\n  using: '{runtime}'\n  main: x.js\n"
        )
        git("add", "-A")
        git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", tag)
        git("-c", "user.name=t", "-c", "user.email=t@e", "tag", "-a", tag, "-m", tag)
    bare = folder / "acme" / "act.git"
    done = run(["git", "clone", "-q", "--bare", str(work), str(bare)], cwd=folder)
    assert done.returncode == 0, done.stderr
    return bare


def table(path: Path, version: str = "v1.0.0") -> Path:
    path.write_text(
        "# pins\n\n[[action]]\n"
        f'name = "acme/act"\nversion = "{version}"\nsha = "{"a" * 40}"\n'
        'node = "node24"\nchecked = "2026-01-01"\n'
    )
    return path


def refresh(path: Path, root: Path):
    return run(
        [
            sys.executable,
            str(REPO / "scripts" / "refresh_actions.py"),
            "--table",
            str(path),
            "--url",
            f"file://{root}/{{name}}.git",
        ],
        cwd=REPO,
    )


def test_refresh_pins_the_newest_node24_release_by_commit(tmp_path):
    bare = repository(tmp_path, {"v1.0.0": "node20", "v1.9.0": "node24", "v2.0.0": "node24"})
    path = table(tmp_path / "actions.toml")
    done = refresh(path, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    pin = load_pins(path.read_text())["acme/act"]
    tags = run(["git", "ls-remote", "--tags", str(bare)], cwd=tmp_path).stdout
    peeled = next(line.split()[0] for line in tags.splitlines() if "v2.0.0^{}" in line)
    assert (pin.version, pin.sha, pin.node) == ("v2.0.0", peeled, "node24")
    assert "acme/act: v1.0.0 -> v2.0.0" in done.stdout
    assert path.read_text().startswith("# pins\n")


def test_a_newest_release_still_on_node20_is_refused(tmp_path):
    repository(tmp_path, {"v1.0.0": "node24", "v2.0.0": "node20"})
    path = table(tmp_path / "actions.toml")
    done = refresh(path, tmp_path)
    assert "v2.0.0 runs on node20, not node24; kept v1.0.0" in done.stdout
    assert load_pins(path.read_text())["acme/act"].sha == "a" * 40
