"""The inputs of a project's compiled code: what is counted, and what a change reads as."""

from __future__ import annotations

from pathlib import Path

from noxgrid.model.compiled import build_inputs, changed_inputs, stale_message

PYPROJECT = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "fastnum"
version = "0.1.0"
dependencies = ["six"]
"""


def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    (root / "src").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "setup.py").write_text("from setuptools import setup\nsetup()\n")
    (root / "src" / "fastnum.c").write_text("int one(void) { return 1; }\n")
    (root / "src" / "pkg.py").write_text("x = 1\n")
    return root


def test_a_pure_python_project_has_no_build_inputs(tmp_path):
    root = project(tmp_path)
    (root / "src" / "fastnum.c").unlink()
    assert build_inputs(root) == {}


def test_sources_build_files_and_the_build_system_are_counted(tmp_path):
    root = project(tmp_path)
    for folder in ("build/temp", ".noxgrid/venvs/x", "venvs/y", "target"):
        (root / folder).mkdir(parents=True)
        (root / folder / "copy.c").write_text("int two(void);\n")
    (root / "env" / "include").mkdir(parents=True)
    (root / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (root / "env" / "include" / "numpy.h").write_text("/* a venv's header */\n")
    found = build_inputs(root, (root / "venvs",))
    assert sorted(found) == ["pyproject.toml [build-system]", "setup.py", "src/fastnum.c"]


def test_an_edit_names_what_changed(tmp_path):
    root = project(tmp_path)
    before = build_inputs(root)
    (root / "src" / "pkg.py").write_text("x = 2\n")  # pure Python: the tree is imported
    pyproject = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(pyproject.replace('["six"]', '["six", "idna"]'))
    assert changed_inputs(before, build_inputs(root)) == [], "dependencies are not build inputs"
    (root / "src" / "fastnum.c").write_text("int one(void) { return 2; }\n")
    (root / "src" / "extra.pyx").write_text("def f(): pass\n")
    changed = changed_inputs(before, build_inputs(root))
    assert changed == ["src/extra.pyx", "src/fastnum.c"]
    assert stale_message(changed) == "src/extra.pyx, src/fastnum.c changed since its editable build"
    (root / "pyproject.toml").write_text(pyproject.replace(">=68", ">=69"))
    assert "pyproject.toml [build-system]" in changed_inputs(before, build_inputs(root))
