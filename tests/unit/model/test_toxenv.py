from __future__ import annotations

from noxgrid.model.toxenv import tox_env


def test_deps_files_and_extras(tmp_path):
    (tmp_path / "tox.ini").write_text(
        "[tox]\nenvlist = py311\n\n[testenv]\n"
        "deps =\n    -r{toxinidir}/requirements/ci.txt\n    pytest>=7\n    py38: mock\n"
        "    {[base]deps}\nextras = test, yaml\ncommands = pytest\n"
    )
    env = tox_env(tmp_path)
    assert env is not None
    assert env.where == "tox.ini [testenv]"
    assert env.files == ("requirements/ci.txt",)
    assert env.requirements == ("pytest>=7", "mock")
    assert env.extras == ("test", "yaml")


def test_no_tox_or_nothing_installed(tmp_path):
    assert tox_env(tmp_path) is None
    (tmp_path / "tox.ini").write_text("[testenv]\ncommands = pytest\n")
    assert tox_env(tmp_path) is None
