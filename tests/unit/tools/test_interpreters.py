from __future__ import annotations

from pathlib import Path

import pytest

from noxgrid.errors import InterpreterNotFound
from noxgrid.tools.interpreters import find_interpreter, override_variable


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def home(tmp_path):
    return tmp_path


def env_for(home: Path, path_dirs=()):
    return {
        "PATH": ":".join(str(p) for p in path_dirs),
        "PYENV_ROOT": str(home / "pyenv"),
        "UV_PYTHON_INSTALL_DIR": str(home / "uv"),
    }


def test_override_variable_name():
    assert override_variable("3.10") == "NOXGRID_PYTHON_3_10"


def versions(table):
    """A probe answering from a table of path -> version, as the interpreter would."""

    def probe(path):
        return table.get(path)

    return probe


def test_the_newest_patch_wins_wherever_it_is(home):
    on_path = executable(home / "bin" / "python3.10")
    pyenv = executable(home / "pyenv" / "versions" / "3.10.13" / "bin" / "python3.10")
    newer = versions({on_path: (3, 10, 14)})
    found = find_interpreter("3.10", env=env_for(home, [home / "bin"]), probe=newer)
    assert found.path == on_path
    assert found.source == "PATH: 3.10.14, the newest of 2 found (PATH 3.10.14, pyenv 3.10.13)"
    older = versions({on_path: (3, 10, 2)})  # a system python behind pyenv's newer build
    found = find_interpreter("3.10", env=env_for(home, [home / "bin"]), probe=older)
    assert found.path == pyenv and found.source.startswith("pyenv: 3.10.13, the newest of 2")


def test_a_virtual_environments_own_interpreter_is_never_taken(home):
    venv = home / "venv"
    executable(venv / "bin" / "python3.10")
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    pyenv = executable(home / "pyenv" / "versions" / "3.10.13" / "bin" / "python3.10")
    env = {**env_for(home, [venv / "bin"]), "VIRTUAL_ENV": str(venv)}
    found = find_interpreter("3.10", env=env, probe=versions({}))
    assert found.path == pyenv and found.source == "pyenv"


def test_pyenv_shims_are_skipped_and_highest_patch_wins(home):
    executable(home / "pyenv" / "shims" / "python3.10")
    executable(home / "pyenv" / "versions" / "3.10.2" / "bin" / "python3.10")
    newest = executable(home / "pyenv" / "versions" / "3.10.13" / "bin" / "python3.10")
    executable(home / "pyenv" / "versions" / "3.11.7" / "bin" / "python3.11")
    found = find_interpreter("3.10", env=env_for(home, [home / "pyenv" / "shims"]))
    assert found.path == newest and found.source.startswith("pyenv: 3.10.13, the newest of 2")


def test_uv_managed(home):
    path = executable(home / "uv" / "cpython-3.9.20-linux-x86_64-gnu" / "bin" / "python3.9")
    executable(home / "uv" / "cpython-3.9.21+freethreaded-linux-x86_64-gnu" / "bin" / "python3.9")
    found = find_interpreter("3.9", env=env_for(home))
    assert found.path == path and found.source == "uv"


def test_environment_override_wins(home):
    special = executable(home / "opt" / "python")
    executable(home / "bin" / "python3.10")
    env = {**env_for(home, [home / "bin"]), "NOXGRID_PYTHON_3_10": str(special)}
    found = find_interpreter("3.10", env=env)
    assert found.path == special and found.source == "NOXGRID_PYTHON_3_10"


def test_config_override(home):
    special = executable(home / "opt" / "python3.12")
    found = find_interpreter("3.12", overrides={"3.12": special}, env=env_for(home))
    assert found.source == "[tool.noxgrid.interpreters]"


def test_broken_override_is_an_error(home):
    env = {**env_for(home), "NOXGRID_PYTHON_3_10": str(home / "nope")}
    with pytest.raises(InterpreterNotFound, match="NOXGRID_PYTHON_3_10=.*is not an executable"):
        find_interpreter("3.10", env=env)


def test_not_found_says_what_was_found_and_where_it_looked(home):
    executable(home / "pyenv" / "versions" / "3.11.7" / "bin" / "python3.11")
    with pytest.raises(InterpreterNotFound) as info:
        find_interpreter("3.9", env=env_for(home, [home / "bin"]))
    text = str(info.value)
    assert "no Python 3.9 interpreter found" in text
    assert "found: 3.11.7" in text
    assert str(home / "uv") in text
    assert "pyenv install 3.9" in text and "NOXGRID_PYTHON_3_9=" in text


def test_an_override_of_another_version_or_no_python_is_refused(home):
    from noxgrid.tools.interpreters import verify_override

    special = executable(home / "opt" / "python")
    env = {**env_for(home), "NOXGRID_PYTHON_3_11": str(special)}
    found = find_interpreter("3.11", env=env)
    with pytest.raises(InterpreterNotFound, match=r"is not a Python 3.11: it is Python 3.10.4"):
        verify_override(found, probe=lambda path: (3, 10, 4))
    configured = find_interpreter("3.11", overrides={"3.11": special}, env=env_for(home))
    with pytest.raises(InterpreterNotFound) as info:
        verify_override(configured, probe=lambda path: None)
    assert '[tool.noxgrid.interpreters] "3.11" = ' in info.value.message
    assert "did not answer as a Python interpreter" in info.value.message
    assert "point it at a Python 3.11 interpreter" in str(info.value)
    verify_override(found, probe=lambda path: (3, 11, 9))  # the version declared: taken


def test_an_interpreter_found_by_search_is_not_asked_again(home):
    from noxgrid.tools.interpreters import Interpreter, verify_override

    searched = Interpreter(version="3.11", path=home / "python3.11", source="PATH")
    verify_override(searched, probe=lambda path: (3, 10, 0))  # not an override: no probe
