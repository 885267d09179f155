"""The cell pipeline, driven through a fake runner: order, skips, reuse, GPU deselection."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from noxgrid.config import load_config
from noxgrid.matrix import Cell
from noxgrid.pipeline import run_cell
from noxgrid.result import Status
from noxgrid.runner import Command, Outcome, Runner
from noxgrid.uv import Uv


class FakeRunner(Runner):
    """Plays uv and pytest: makes venv files, answers with canned exit codes."""

    def __init__(self, *, fail_on: str | None = None, suite_output: str = "3 passed in 0.1s\n"):
        super().__init__()
        self.commands: list[Command] = []
        self.fail_on = fail_on
        self.suite_output = suite_output

    def run(self, command, *, sink=None):
        self.commands.append(command)
        argv = command.argv
        output, code = "", 0
        kind = "suite"
        if argv[1:2] == ("venv",):
            kind = "venv"
            venv = Path(argv[-1])
            (venv / "bin").mkdir(parents=True, exist_ok=True)
            (venv / "bin" / "python").write_text("")
            python = argv[argv.index("--python") + 1]
            version = python.rsplit("python", 1)[-1]
            (venv / "pyvenv.cfg").write_text(f"home = /x\nversion_info = {version}.4\n")
        elif argv[1:3] == ("pip", "install"):
            kind = "install"
            output = "Installed 3 packages\n"
        else:
            output = self.suite_output
        if self.fail_on == kind or (self.fail_on == "offline" and "--offline" in argv):
            code, output = 1, "boom: it broke\n"
        if sink:
            for line in output.splitlines(keepends=True):
                sink(line)
        return Outcome(command=command, returncode=code, duration=0.01, output=output)


@pytest.fixture
def project(make_project, tmp_path):
    root = make_project()
    bin_dir = tmp_path / "pythons"
    bin_dir.mkdir()
    for version in ("3.9", "3.10", "3.11"):
        exe = bin_dir / f"python{version}"
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)
    return root, {
        "PATH": str(bin_dir),
        "PYENV_ROOT": str(tmp_path / "none"),
        "UV_PYTHON_INSTALL_DIR": str(tmp_path / "none"),
        "NOXGRID_GPU": "0",
    }


def run(root, env, cell_id="3.10-cpu-lean", runner=None):
    config = load_config(root)
    python, accelerator, profile = cell_id.split("-")
    runner = runner or FakeRunner()
    result = run_cell(
        config,
        Cell(python=python, accelerator=accelerator, profile=profile),
        runner=runner,
        env=env,
        uv=Uv(runner, binary="uv"),
    )
    return config, runner, result


def test_stages_run_in_order_and_the_report_is_written(project):
    root, env = project
    config, runner, result = run(root, env)
    assert [s.name for s in result.stages] == ["interpreter", "venv", "install", "suite"]
    assert result.status is Status.PASSED
    argvs = [c.argv for c in runner.commands]
    assert argvs[0][:2] == ("uv", "venv") and "--clear" in argvs[0]
    assert argvs[1][:4] == ("uv", "pip", "install", "--python")
    assert "--exact" in argvs[1] and "-e" in argvs[1] and "--compile-bytecode" in argvs[1]
    assert Path(argvs[2][0]).name == "pytest"
    assert runner.commands[2].env["NOXGRID_CELL"] == "3.10-cpu-lean"
    assert runner.commands[0].env["UV_PYTHON_DOWNLOADS"] == "never"
    data = json.loads((config.reports_dir / "3.10-cpu-lean.json").read_text())
    assert data["status"] == "passed" and data["stages"][3]["detail"] == "3 passed in 0.1s"
    suite = ET.parse(config.reports_dir / "3.10-cpu-lean.xml").getroot().find("testsuite")
    assert suite.get("name") == "3.10-cpu-lean" and suite.get("tests") == "4"
    assert (
        config.reports_dir / "logs" / "3.10-cpu-lean.suite.log"
    ).read_text() == "3 passed in 0.1s\n"


def test_gpu_tests_deselected_with_the_reason(project):
    root, env = project
    _, runner, result = run(root, env, "3.11-gpu-lean")
    suite_argv = runner.commands[-1].argv
    assert suite_argv[1:3] == ("-m", "not gpu")
    assert any("no GPU on this machine: NOXGRID_GPU=0" in note for note in result.notes)
    _, runner, result = run(root, env, "3.11-cpu-lean")
    assert any("cpu cell" in note for note in result.notes)


def test_gpu_tests_run_where_a_gpu_is_present(project):
    root, env = project
    _, runner, result = run(root, {**env, "NOXGRID_GPU": "1"}, "3.11-gpu-lean")
    assert "-m" not in runner.commands[-1].argv and not result.notes


def test_second_run_reuses_the_venv_and_verifies_without_rebuilding(project):
    root, env = project
    config, _, _ = run(root, env)
    site = config.venvs_dir / "3.10-cpu-lean" / "lib" / "python3.10" / "site-packages"
    (site / "demo-0.1.0.dist-info").mkdir(parents=True)
    _, runner, result = run(root, env)
    argvs = [c.argv for c in runner.commands]
    assert argvs[0][1:3] == ("pip", "install"), "no new venv"
    assert "-e" not in argvs[0] and argvs[0][-1] == "demo", "project named, not rebuilt"
    assert "--offline" in argvs[0] and "--exact" in argvs[0]
    assert result.stages[2].detail.startswith("verified")
    (root / "requirements" / "lean.in").write_text("pytest\nrequests\n")
    _, runner, result = run(root, env)
    assert "-e" in runner.commands[0].argv and result.stages[2].detail.startswith("installed")


def test_a_failed_install_skips_the_suite_and_fails_the_cell(project):
    root, env = project
    _, runner, result = run(root, env, runner=FakeRunner(fail_on="install"))
    assert result.status is Status.FAILED
    assert [s.status for s in result.stages] == [
        Status.PASSED,
        Status.PASSED,
        Status.FAILED,
        Status.SKIPPED,
    ]
    assert "boom: it broke" in result.stages[2].detail
    assert result.first_error.startswith("install: uv pip install exited with 1")
    assert len(runner.commands) == 2


def test_a_failing_suite_names_pytest_summary(project):
    root, env = project
    runner = FakeRunner(fail_on="suite", suite_output="")
    _, _, result = run(root, env, runner=runner)
    assert result.stages[3].status is Status.FAILED
    assert result.stages[3].detail.startswith("the suite exited with 1: boom: it broke")


def test_missing_interpreter_fails_the_first_stage(project):
    root, env = project
    _, runner, result = run(root, {**env, "PATH": ""}, "3.9-cpu-lean")
    assert result.stages[0].status is Status.FAILED
    assert "no Python 3.9 interpreter found" in result.stages[0].detail
    assert runner.commands == []


def test_verification_that_fails_offline_falls_back_to_a_full_install(project):
    root, env = project
    config, _, _ = run(root, env)
    site = config.venvs_dir / "3.10-cpu-lean" / "lib" / "python3.10" / "site-packages"
    (site / "demo-0.1.0.dist-info").mkdir(parents=True)
    _, runner, result = run(root, env, runner=FakeRunner(fail_on="offline"))
    installs = [c.argv for c in runner.commands if c.argv[1:3] == ("pip", "install")]
    assert len(installs) == 2 and "--offline" in installs[0] and "-e" in installs[1]
    assert result.status is Status.PASSED and result.stages[2].detail.startswith("installed")


def test_a_second_run_of_the_same_cell_waits_for_the_first(project):
    import fcntl
    import threading

    root, env = project
    config = load_config(root)
    lock_path = config.venvs_dir / ".3.10-cpu-lean.lock"
    lock_path.parent.mkdir(parents=True)
    outcome = {}
    with lock_path.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        worker = threading.Thread(target=lambda: outcome.update(result=run(root, env)[2]))
        worker.start()
        worker.join(timeout=1.0)
        assert worker.is_alive(), "the second run must wait while the cell is locked"
        fcntl.flock(held, fcntl.LOCK_UN)
    worker.join(timeout=10)
    result = outcome["result"]
    assert result.status is Status.PASSED
    assert any("another run of 3.10-cpu-lean holds" in note for note in result.notes)


def test_only_this_runs_logs_are_linked(project):
    root, env = project
    run(root, env)
    _, _, result = run(root, env)
    by_name = {stage.name: stage for stage in result.stages}
    assert by_name["venv"].log is None, "the venv was reused: no log this time"
    assert by_name["install"].log.endswith("3.10-cpu-lean.install.log")


def test_an_os_error_fails_the_stage_not_the_run(project, monkeypatch):
    root, env = project

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("noxgrid.pipeline._install_stamp", full_disk)
    _, _, result = run(root, env)
    assert result.stages[2].status is Status.FAILED
    assert "No space left on device" in result.stages[2].detail
