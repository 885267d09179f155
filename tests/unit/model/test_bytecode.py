from pathlib import Path

from noxgrid.model.bytecode import PYCACHE, bytecode_env


def test_bytecode_goes_into_the_venv_and_is_written_whatever_the_user_set():
    venv = Path("/p/.noxgrid/venvs/3.11-cpu-lean")
    env = bytecode_env(venv, {"PYTHONDONTWRITEBYTECODE": "1"})
    assert env == {"PYTHONPYCACHEPREFIX": str(venv / PYCACHE), "PYTHONDONTWRITEBYTECODE": ""}
    assert bytecode_env(venv, {}) == env


def test_a_users_own_prefix_is_kept_with_their_setting():
    venv = Path("/p/.noxgrid/venvs/3.11-cpu-lean")
    assert bytecode_env(venv, {"PYTHONPYCACHEPREFIX": "/c", "PYTHONDONTWRITEBYTECODE": "1"}) == {}
    assert bytecode_env(venv, {"PYTHONPYCACHEPREFIX": ""}) != {}, "empty is unset"
