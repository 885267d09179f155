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


def test_an_interpreter_override_that_is_not_its_version_fails_interpreters(tmp_path):
    from noxgrid.errors import InterpreterNotFound
    from noxgrid.tools.interpreters import find_interpreter

    root = small(tmp_path, '\n[tool.noxgrid.interpreters]\n"3.11" = "/bin/sh"\n')
    result = noxgrid("interpreters", cwd=root)
    output = no_traceback(result)
    assert result.returncode == 3, output
    assert '"3.11" = "/bin/sh" is not a Python 3.11' in output
    try:
        other = str(find_interpreter("3.10").path)
    except InterpreterNotFound:  # pragma: no cover - the machine has no 3.10
        return
    root.joinpath("pyproject.toml").write_text(PROJECT)
    result = noxgrid("interpreters", cwd=root, env={"NOXGRID_PYTHON_3_11": other})
    assert result.returncode == 3, result.stdout + result.stderr
    assert "is not a Python 3.11: it is Python 3.10." in result.stdout + result.stderr


def test_a_python_value_nox_confuses_is_bad_input_before_uv_runs(tmp_path):
    root = small(tmp_path)
    text = (root / "pyproject.toml").read_text().replace('["3.11"]', '["3.1", "3.10"]')
    (root / "pyproject.toml").write_text(text)
    result = noxgrid("lock", "3.1-cpu-lean", cwd=root)
    output = no_traceback(result)
    assert result.returncode == 2, output
    assert "tool.noxgrid.python: '3.1' is not a CPython minor" in output


def test_lock_and_run_refuse_an_override_that_is_not_its_version_with_exit_3(tmp_path):
    from noxgrid.errors import InterpreterNotFound
    from noxgrid.tools.interpreters import find_interpreter

    root = small(tmp_path)
    assert noxgrid("lock", cwd=root).returncode == 0
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(
        text + '\n[tool.noxgrid.interpreters]\n"3.11" = "/bin/sh"\n'
    )
    for args in (["lock", "--refresh"], ["run", "--no-docker"]):
        result = noxgrid(*args, cwd=root)
        output = no_traceback(result)
        assert result.returncode == 3, output
        assert '"3.11" = "/bin/sh" is not a Python 3.11' in output
    try:
        other = str(find_interpreter("3.10").path)
    except InterpreterNotFound:  # pragma: no cover - the machine has no 3.10
        return
    (root / "pyproject.toml").write_text(text)
    result = noxgrid("run", "--no-docker", cwd=root, env={"NOXGRID_PYTHON_3_11": other})
    assert result.returncode == 3, result.stdout + result.stderr
    assert "made a Python 3.10." in result.stdout + result.stderr
