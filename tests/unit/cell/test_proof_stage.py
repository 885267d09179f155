"""The install stage proves file contents, not only sizes; the doctor says when its import
smoke had nothing to import."""

from __future__ import annotations

import json
from pathlib import Path

from noxgrid.model.results import Status
from noxgrid.tools.runner import Outcome
from tests.unit.cell.test_run import FakeRunner, project, run, stage

__all__ = ["project"]  # the fixture, imported to be used here


def test_a_reused_venvs_file_edited_in_place_with_the_same_size_is_installed_again(project):
    root, env = project
    config, _, first = run(root, env)
    assert "files: 1 hashed against their RECORD" in stage(first, "install").detail
    site = FakeRunner.site(config.venvs_dir / "3.10-cpu-lean" / "bin" / "python")
    module = site / "pytest_module.py"
    module.write_text(module.read_text().upper())  # same size: only its hash tells
    _, runner, result = run(root, env)
    sync = next(c.argv for c in runner.commands if c.argv[1:3] == ("pip", "sync"))
    assert sync[sync.index("--reinstall-package") + 1] == "pytest"
    log = (root / ".noxgrid/reports/logs/3.10-cpu-lean.install.log").read_text()
    assert "pytest 8.0.0: pytest_module.py differs from the hash its RECORD lists" in log
    assert result.status is Status.PASSED
    manifest = json.loads((config.venvs_dir / "3.10-cpu-lean/noxgrid-installed.json").read_text())
    assert "stat" in manifest["packages"]["pytest"], "proved again after the sync"
    _, runner, result = run(root, env)
    assert "0 hashed against their RECORD, 1 unchanged since (stat)" in (
        stage(result, "install").detail
    )


def test_a_file_that_differs_right_after_the_sync_fails_naming_the_cache_fix(project):
    class AlteredCache(FakeRunner):
        def _install(self, argv):
            super()._install(argv)
            if argv[2] == "sync":
                site = self.site(Path(argv[argv.index("--python") + 1]))
                module = site / "pytest_module.py"
                module.write_text(module.read_text().upper())

    root, env = project
    _, _, result = run(root, env, runner=AlteredCache())
    install = stage(result, "install")
    assert install.status is Status.FAILED
    assert install.detail.startswith(
        "pytest 8.0.0: pytest_module.py differs from the hash its RECORD lists, right after uv "
        "installed it: uv's cache holds an altered copy of the wheel; fix: uv cache clean pytest"
    )
    log = (root / ".noxgrid/reports/logs/3.10-cpu-lean.install.log").read_text()
    assert "files proved against their RECORD" not in log, "never 'proved' before 'tampered'"


def test_an_import_smoke_with_nothing_to_import_says_so(project):
    class NoModules(FakeRunner):
        def run(self, command, *, sink=None):
            outcome = super().run(command, sink=sink)
            if command.argv[1:2] == ("-c",) and "NOXGRID-IMPORTS" in command.argv[2]:
                return Outcome(
                    command=command, returncode=0, duration=0.01, output="NOXGRID-IMPORTS []\n"
                )
            return outcome

    root, env = project
    _, _, result = run(root, env, runner=NoModules())
    doctor = stage(result, "doctor")
    assert doctor.status is Status.PASSED
    assert "imported 0 modules (nothing to import: pytest install(s) no importable module)" in (
        doctor.detail
    )
    assert any("the import smoke had nothing to import" in note for note in result.notes)
