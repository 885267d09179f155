"""A fresh venv is proved, not taken on uv's word: a file changed in uv's cache fails the
cell naming the distribution, the file and the fix. Each test has a private uv cache: the
shared one is never touched."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from noxgrid.tools.uv import find_uv
from tests.integration.conftest import noxgrid
from tests.integration.test_trust import NO_DOCKER, simple


def report(root: Path) -> dict:
    return json.loads((root / ".noxgrid/reports/3.11-cpu-lean.json").read_text())


def install_detail(root: Path) -> str:
    stages = {stage["name"]: stage for stage in report(root)["stages"]}
    return stages["install"]["detail"]


def test_a_file_changed_in_uvs_cache_fails_a_fresh_venv(tmp_path):
    cache = tmp_path / "uv-cache"
    env = {**NO_DOCKER, "UV_CACHE_DIR": str(cache)}
    root = simple(tmp_path)
    locked = noxgrid("lock", cwd=root, env=env)
    assert locked.returncode == 0, locked.stdout + locked.stderr
    first = noxgrid("run", "-q", cwd=root, env=env)  # warms the private cache
    assert first.returncode == 0, first.stdout + first.stderr
    fresh = install_detail(root)
    (unpacked,) = cache.glob("archive-v0/*/iniconfig/__init__.py")
    text = unpacked.read_text()
    unpacked.unlink()  # a new file: the first venv's hard link keeps the original
    unpacked.write_text(text + "# changed in the cache\n")  # harmless: the suite still passes
    venv = root / ".noxgrid/venvs/3.11-cpu-lean"
    subprocess.run(["rm", "-rf", str(venv)], check=True)
    second = noxgrid("run", "-q", cwd=root, env=env)
    output = second.stdout + second.stderr
    assert second.returncode != 0, output
    error = report(root)["stages"][-1].get("error", "")
    message = output + error + json.dumps(report(root))
    assert "iniconfig" in message and "iniconfig/__init__.py differs from the hash" in message
    assert "fix: uv cache clean iniconfig" in message
    # The fix it names, then the same venv: the altered copy is installed again, proved.
    cleaned = subprocess.run(
        [find_uv(), "cache", "clean", "iniconfig"],  # the uv noxgrid runs
        env={**os.environ, "UV_CACHE_DIR": str(cache)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert cleaned.returncode == 0, cleaned.stderr
    third = noxgrid("run", "-q", cwd=root, env=env)
    assert third.returncode == 0, third.stdout + third.stderr
    assert "1 installed again" in install_detail(root)
    assert "hashed against their RECORD" in fresh, "the first, fresh venv was proved too"
    site = next(venv.glob("lib/python*/site-packages"))
    assert "changed in the cache" not in (site / "iniconfig" / "__init__.py").read_text()


CEXT = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "fastnum"
version = "0.1.0"

[tool.setuptools]
py-modules = []

[tool.noxgrid]
python = ["3.11"]
accelerators = ["cpu"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
"""

C_SOURCE = """
#include <Python.h>
static PyObject *value(PyObject *self, PyObject *args) { return PyLong_FromLong(%d); }
static PyMethodDef methods[] = {{"value", value, METH_NOARGS, "a number"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "fastnum", NULL, -1, methods};
PyMODINIT_FUNC PyInit_fastnum(void) { return PyModule_Create(&module); }
"""

C_TEST = "import fastnum\n\n\ndef test_value():\n    assert fastnum.value() == %d\n"


def test_an_edited_c_source_rebuilds_the_editable_project_in_a_warm_venv(tmp_path):
    root = tmp_path / "fastnum"
    (root / "requirements").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(CEXT)
    (root / "setup.py").write_text(
        "from setuptools import Extension, setup\n\n"
        'setup(ext_modules=[Extension("fastnum", ["fastnum.c"])])\n'
    )
    (root / "fastnum.c").write_text(C_SOURCE % 1)
    (root / "tests" / "test_fast.py").write_text(C_TEST % 1)
    (root / "requirements" / "lean.in").write_text("pytest\n")
    (root / "noxfile.py").write_text("import noxgrid\n\nnoxgrid.sessions()\n")
    env = {**NO_DOCKER, "UV_CACHE_DIR": str(tmp_path / "uv-cache")}
    locked = noxgrid("lock", cwd=root, env=env)
    assert locked.returncode == 0, locked.stdout + locked.stderr
    first = noxgrid("run", "-q", cwd=root, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    # The C source edited (and the test with it): the warm cell must run the new code.
    (root / "fastnum.c").write_text(C_SOURCE % 2)
    (root / "tests" / "test_fast.py").write_text(C_TEST % 2)
    second = noxgrid("run", "-q", cwd=root, env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "the project rebuilt (editable, no deps): fastnum.c changed" in install_detail(root)
    # Nothing changed since: the venv and the build are reused, proved.
    third = noxgrid("run", "-q", cwd=root, env=env)
    assert third.returncode == 0, third.stdout + third.stderr
    assert install_detail(root).startswith("proved equal to"), install_detail(root)
    assert "rebuilt" not in install_detail(root)


DYNAMIC = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "dynsvc"
version = "0.1.0"
dynamic = ["dependencies"]

[tool.setuptools]
py-modules = ["dynsvc"]

[tool.setuptools.dynamic]
dependencies = { file = ["deps.txt"] }

[tool.noxgrid]
python = ["3.11"]
accelerators = ["cpu"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
"""


def test_the_import_smoke_imports_what_the_build_backend_declared(tmp_path):
    root = tmp_path / "dynsvc"
    (root / "requirements").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(DYNAMIC)
    (root / "deps.txt").write_text("six\npytest\n")  # read through PEP 517 only
    (root / "requirements" / "lean.in").write_text("# the project's own dependencies\n")
    (root / "dynsvc.py").write_text("import six\n")
    (root / "tests" / "test_dyn.py").write_text("import dynsvc\n\n\ndef test_it():\n    pass\n")
    (root / "noxfile.py").write_text("import noxgrid\n\nnoxgrid.sessions()\n")
    env = {**NO_DOCKER, "UV_CACHE_DIR": str(tmp_path / "uv-cache")}
    locked = noxgrid("lock", cwd=root, env=env)
    assert locked.returncode == 0, locked.stdout + locked.stderr
    result = noxgrid("run", "-q", cwd=root, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    doctor = json.loads((root / ".noxgrid/reports/doctor/3.11-cpu-lean.json").read_text())
    imported = doctor["venv"]["imports"]["imported"]
    assert "six" in imported and "pytest" in imported, doctor["venv"]["text"]
    assert "nothing to import" not in json.dumps(report(root))
