"""``noxgrid check`` names the files noxgrid needs committed that .gitignore ignores (real git)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from noxgrid.check.findings import gitignored_finding
from noxgrid.model.declaration import load_config
from noxgrid.model.matrix import expand
from noxgrid.tools.git import check_ignore

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _git(root, *args):
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def test_an_ignored_lock_folder_is_a_finding_with_its_line_and_fix(make_project):
    root = make_project(
        '[tool.noxgrid]\npython = ["3.11"]\naccelerators = ["cpu"]\n'
        '[tool.noxgrid.profile.lean]\nrequirements = ["requirements/lean.in"]\n',
        {"requirements/lean.in": "numpy\n", ".gitignore": "*.pyc\nrequirements*\n"},
    )
    _git(root, "init", "-q")
    config = load_config(root)
    finding = gitignored_finding(config, expand(config))
    assert finding is not None
    assert finding["where"] == ".gitignore:2"
    assert "requirements/locks/pylock.py311-cpu-lean.toml" in finding["places"]
    assert "requirements/lean.in" in finding["places"]
    assert "add: !/requirements/" in finding["fix"]
    (root / ".gitignore").write_text("*.pyc\nrequirements*\n!/requirements/\n")
    assert gitignored_finding(config, expand(config)) is None


def test_check_ignore_leaves_out_tracked_files_and_cannot_tell_outside_git(tmp_path):
    assert check_ignore(tmp_path, [tmp_path / "a.lock"]) is None  # not a repository
    _git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("*.lock\n")
    (tmp_path / "a.lock").write_text("x")
    assert check_ignore(tmp_path, [tmp_path / "a.lock"]) == ".gitignore:1:*.lock\ta.lock\n"
    _git(tmp_path, "add", "-f", "a.lock")
    assert check_ignore(tmp_path, [tmp_path / "a.lock"]) == ""
    assert check_ignore(tmp_path, []) == ""
