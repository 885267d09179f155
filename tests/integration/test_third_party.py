"""noxgrid pointed at a real project written elsewhere: itsdangerous's sdist and its own suite."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.conftest import lock, nox, unpacked_sdist

TABLE = """
[tool.noxgrid]
python = ["3.9", "3.10", "3.11"]
accelerators = ["cpu"]
profiles = ["lean"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/tests.txt"]
"""


def test_itsdangerous_lean_cells_are_green(tmp_path: Path):
    project = unpacked_sdist("itsdangerous", "2.2.0", tmp_path)
    with (project / "pyproject.toml").open("a") as stream:
        stream.write(TABLE)
    (project / "noxfile.py").write_text("import noxgrid\n\nnoxgrid.sessions()\n")

    lock(project)
    result = nox("-s", "ci-lean", cwd=project)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    for python in ("3.9", "3.10", "3.11"):
        data = json.loads(
            (project / ".noxgrid" / "reports" / f"{python}-cpu-lean.json").read_text()
        )
        assert data["status"] == "passed"
        suite = {stage["name"]: stage for stage in data["stages"]}["suite"]
        assert " passed" in suite["detail"]
