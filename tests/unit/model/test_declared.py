"""The Python versions a project's metadata files declare (model.declared)."""

from __future__ import annotations

from noxgrid.model.declaration import load_config
from noxgrid.model.declared import declared_drift

SETUP_CFG = """\
[metadata]
name = svc
classifiers =
    Programming Language :: Python :: 3
    Programming Language :: Python :: 3.7
    Programming Language :: Python :: 3.8
    Programming Language :: Python :: 3.9

[options]
python_requires = >=3.7
"""

PYPROJECT = """
[project]
name = "svc"
version = "0.1.0"

[tool.noxgrid]
python = ["3.8", "3.9", "3.10"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
"""


def test_setup_cfg_classifiers_are_checked_like_pyprojects(make_project):
    root = make_project(PYPROJECT, {"requirements/lean.in": "x\n", "setup.cfg": SETUP_CFG})
    config = load_config(root)
    found = declared_drift(config, [root / "setup.cfg"], set(config.pythons))
    assert (
        "setup.cfg:5",
        "the classifier says Python 3.7, which the matrix does not test",
        'remove that classifier, or add "3.7" to python in [tool.noxgrid]',
    ) in found
    assert (
        "setup.cfg:5",
        "the matrix tests Python 3.10, but no classifier says so",
        'add "Programming Language :: Python :: 3.10" to classifiers',
    ) in found
    assert len(found) == 2, found


def test_setup_py_classifiers_and_an_ignored_setup_cfg(make_project):
    setup_py = (
        "from setuptools import setup\nsetup(classifiers=[\n"
        "    'Programming Language :: Python :: 3.8',\n"
        "    'Programming Language :: Python :: 3.9',\n"
        "    'Programming Language :: Python :: 3.10',\n"
        "    'Programming Language :: Python :: 3.12',\n])\n"
    )
    root = make_project(PYPROJECT, {"requirements/lean.in": "x\n", "setup.py": setup_py})
    config = load_config(root)
    found = declared_drift(config, [root / "setup.py"], set(config.pythons))
    assert [where for where, *_ in found] == ["setup.py:6"]
    assert declared_drift(config, [], set(config.pythons)) == [], "setup.py left out"
