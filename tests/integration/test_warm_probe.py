"""A warm re-run keeps the answer to "where does the project import from" only while
nothing it depends on moved: a copy of the project's module dropped into the venv's
site-packages is a new name there, so the venv's interpreter is asked again, and the
copy is found and refused (uv, pytest and a real interpreter)."""

from __future__ import annotations

import json

from tests.integration.conftest import lock, noxgrid
from tests.integration.test_trust import NO_DOCKER, simple

DONE = "import simple -> the working tree"
KEPT = DONE + " (as when last asked: same install, same paths)"


def _install(root):
    data = json.loads((root / ".noxgrid/reports/3.11-cpu-lean.json").read_text())
    return {s["name"]: s for s in data["stages"]}["install"]


def test_a_warm_rerun_keeps_the_answer_until_a_copy_shadows_the_working_tree(tmp_path):
    root = simple(tmp_path)
    lock(root)
    first = noxgrid("run", "-q", cwd=root, env=NO_DOCKER)
    assert first.returncode == 0, first.stdout + first.stderr
    assert DONE in _install(root)["detail"] and KEPT not in _install(root)["detail"]
    second = noxgrid("run", "-q", cwd=root, env=NO_DOCKER)
    assert second.returncode == 0, second.stdout + second.stderr
    assert KEPT in _install(root)["detail"]
    site = next((root / ".noxgrid/venvs/3.11-cpu-lean/lib").glob("python*/site-packages"))
    (site / "simple.py").write_text("VALUE = 2\n")  # a stray copy, in no RECORD
    third = noxgrid("run", "-q", cwd=root, env=NO_DOCKER)
    install = _install(root)
    assert third.returncode != 0
    assert install["status"] == "failed"
    assert f"importing simple in the venv loads {site.resolve() / 'simple.py'}" in install["detail"]
    assert "not the working tree" in install["detail"]
