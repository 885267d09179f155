"""Bad input at the edges, through the real command line (issue 23 §4-§5): a broken file or
a value that cannot work is named with its fix and exit 2 (or 1 for a lock), never a
traceback."""

from __future__ import annotations

from pathlib import Path

from tests.integration.conftest import noxgrid

PROJECT = """
[project]
name = "tinyproj"
version = "0.1.0"
requires-python = ">=3.9"

[tool.noxgrid]
python = ["3.11"]
accelerators = ["cpu"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
install-project = false
"""


def small(tmp_path: Path, extra: str = "") -> Path:
    root = tmp_path / "small"
    (root / "requirements").mkdir(parents=True)
    (root / "requirements" / "lean.in").write_text("iniconfig\n")
    (root / "pyproject.toml").write_text(PROJECT + extra)
    return root


def no_traceback(result) -> str:
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "crashed" not in output, output
    return output


def test_a_folder_where_the_lock_goes_is_named_with_its_fix_not_a_crash(tmp_path):
    root = small(tmp_path)
    (root / "requirements" / "locks" / "pylock.py311-cpu-lean.toml").mkdir(parents=True)
    result = noxgrid("lock", cwd=root)
    output = no_traceback(result)
    assert result.returncode == 1, output
    assert (
        "is a folder" in output and "rm -r requirements/locks/pylock.py311-cpu-lean.toml" in output
    )


def test_a_lock_that_is_not_utf8_is_unreadable_for_check_and_made_again_by_lock(tmp_path):
    root = small(tmp_path)
    lock = root / "requirements" / "locks" / "pylock.py311-cpu-lean.toml"
    lock.parent.mkdir(parents=True)
    lock.write_bytes(b"\xff\xfe not a lock")
    result = noxgrid("lock", "--check", cwd=root)
    output = no_traceback(result)
    assert result.returncode == 1, output
    assert "unreadable: it is not UTF-8 text" in output and "noxgrid lock 3.11-cpu-lean" in output
    assert noxgrid("lock", cwd=root).returncode == 0
    assert "lock-version" in lock.read_text(encoding="utf-8")
