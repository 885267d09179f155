"""A cell stopped by an interrupt: no stage starts after it, and it is recorded as interrupted."""

from __future__ import annotations

import json

from noxgrid.errors import Interrupted
from noxgrid.model.results import Status
from tests.unit.cell.test_run import FakeRunner, project, run

__all__ = ["project"]


class InterruptedAtInstall(FakeRunner):
    """Ctrl-C arrives while uv installs: the runner stops it and raises, as the real one."""

    def run(self, command, *, sink=None):
        if command.argv[1:3] == ("pip", "sync"):
            self.commands.append(command)
            self.stop_all()
            raise Interrupted(f"interrupted after 0.5s: {command.display()}")
        self.check()
        return super().run(command, sink=sink)


def test_no_stage_starts_after_an_interrupt_and_the_cell_is_interrupted(project):
    root, env = project
    runner = InterruptedAtInstall()
    config, _, result = run(root, env, runner=runner)
    assert runner.commands[-1].argv[1:3] == ("pip", "sync"), "a command started after it"
    statuses = {stage.name: stage.status for stage in result.stages}
    assert statuses["install"] is Status.INTERRUPTED
    assert {statuses[name] for name in ("doctor", "image", "smoke", "suite")} == {
        Status.INTERRUPTED
    }
    install = next(stage for stage in result.stages if stage.name == "install")
    assert install.detail.startswith("interrupted after 0.5s: uv pip sync")
    assert result.status is Status.INTERRUPTED and result.first_error is None
    data = json.loads((config.reports_dir / "3.10-cpu-lean.json").read_text())
    assert data["status"] == "interrupted"
    suite = next(stage for stage in data["stages"] if stage["name"] == "suite")
    assert suite == {**suite, "status": "interrupted", "detail": "not run: noxgrid was interrupted"}
