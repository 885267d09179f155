from pathlib import Path

from noxgrid.model.bytecode import NO_TREE_BYTECODE, PYCACHE, bytecode_env

VENV = Path("/p/.noxgrid/venvs/3.11-cpu-lean")


def test_by_default_python_writes_bytecode_beside_the_sources():
    assert bytecode_env(VENV, {}) == {}
    assert bytecode_env(VENV, {"PYTHONDONTWRITEBYTECODE": ""}) == {}, "empty is unset"


def test_where_the_user_writes_none_the_cell_writes_it_into_the_venv():
    env = bytecode_env(VENV, {"PYTHONDONTWRITEBYTECODE": "1"})
    assert env == {"PYTHONPYCACHEPREFIX": str(VENV / PYCACHE), "PYTHONDONTWRITEBYTECODE": ""}


def test_a_users_own_prefix_is_kept_with_their_setting():
    assert bytecode_env(VENV, {"PYTHONPYCACHEPREFIX": "/c", "PYTHONDONTWRITEBYTECODE": "1"}) == {}


def test_the_doctors_app_load_writes_no_bytecode():
    scope: dict[str, object] = {}
    import sys

    before = sys.dont_write_bytecode
    try:
        exec(NO_TREE_BYTECODE, scope)
        assert sys.dont_write_bytecode is True
    finally:
        sys.dont_write_bytecode = before
