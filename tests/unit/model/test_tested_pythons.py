"""The Python versions a project's own tox envlist and workflows run."""

from __future__ import annotations

from pathlib import Path

from noxgrid.model.tested_pythons import (
    PythonTested,
    ci_pythons,
    expand_braces,
    newest_tested,
    tox_pythons,
)


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_brace_expansion_as_tox_does_it():
    assert expand_braces("py3{8,9}{,-x}") == ["py38", "py38-x", "py39", "py39-x"]
    assert expand_braces("py{3{8,9},py3}") == ["py38", "py39", "pypy3"]
    assert expand_braces("plain, other") == ["plain, other"]
    assert expand_braces("unclosed{a,b") == ["unclosed{a,b"]


def test_tox_envlist_with_its_lines(tmp_path):
    tox = (
        "[tox]\nenvlist =\n    py3{12,11,10,9,8}\n    pypy310\n    style\n"
        "[testenv]\ndeps = pytest\ncommands = py313: echo not an envlist\n"
    )
    found = tox_pythons(write(tmp_path, {"tox.ini": tox}))
    assert [t.version for t in found] == ["3.8", "3.9", "3.10", "3.11", "3.12"]
    assert {t.where for t in found} == {"tox.ini:3"}, "pypy310 is not CPython 3.10's line"


def test_tox_in_setup_cfg_and_pyproject(tmp_path):
    cfg = write(
        tmp_path / "a",
        {"setup.cfg": "[metadata]\nname = x\n[tox:tox]\nenv_list = py311, py3.12-lint\n"},
    )
    assert [(t.version, t.where) for t in tox_pythons(cfg)] == [
        ("3.11", "setup.cfg:4"),
        ("3.12", "setup.cfg:4"),
    ]
    legacy = '[project]\nname = "x"\n[tool.tox]\nlegacy_tox_ini = """\n[tox]\nenvlist = py39\n"""\n'
    found = tox_pythons(write(tmp_path / "b", {"pyproject.toml": legacy}))
    assert [(t.version, t.where) for t in found] == [("3.9", "pyproject.toml:6")]


def test_the_newest_of_tox_and_the_workflows(tmp_path):
    workflow = (
        "jobs:\n  test:\n    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n"
        '        python-version: ["3.9", "3.13"]\n    steps:\n      - run: pytest\n'
    )
    root = write(
        tmp_path,
        {"tox.ini": "[tox]\nenvlist = py39,py311\n", ".github/workflows/test.yml": workflow},
    )
    assert [t.version for t in ci_pythons(root)] == ["3.9", "3.13"]
    assert newest_tested(root) == PythonTested("3.13", ".github/workflows/test.yml:6")
    assert newest_tested(write(tmp_path / "none", {"setup.cfg": "[metadata]\n"})) is None
