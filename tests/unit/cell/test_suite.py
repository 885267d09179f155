"""The suite stage's setup steps (run before pytest, recorded, failing the stage with the
step), and the note a shell suite command gets."""

from __future__ import annotations

import json
from pathlib import Path

from noxgrid.model.results import Status
from noxgrid.tools.runner import Outcome
from tests.unit.cell.test_run import FakeRunner, project, run, stage, write_locks

__all__ = ["project"]  # the fixture, imported to be used here

SETUP = """
[project]
name = "demo"
version = "0.1.0"

[tool.noxgrid]
python = ["3.10"]
accelerators = ["cpu"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]

[tool.noxgrid.suite]
setup = [["cp", ".env.example", ".env"], "python scripts/gen.py --out 'a b'"]
command = ["pytest", "-q"]
"""


def with_setup(project, make_project, pyproject=SETUP):
    root, env = project
    make_project(pyproject)
    write_locks(root)
    return root, env


class FailingStep(FakeRunner):
    """Plays a setup step that fails: ``cp`` exits 2 with a message."""

    def run(self, command, *, sink=None):
        if command.argv[0] == "cp":
            self.commands.append(command)
            return Outcome(
                command=command, returncode=2, duration=0.02, output="cp: no .env.example\n"
            )
        return super().run(command, sink=sink)


def test_setup_steps_run_in_order_before_pytest_with_the_suites_environment(project, make_project):
    root, env = with_setup(project, make_project)
    config, runner, result = run(root, env)
    assert result.status is Status.PASSED
    names = [Path(c.argv[0]).name for c in runner.commands]
    first = names.index("cp")
    assert names[first:] == ["cp", "python", "pytest"]
    cp, gen, tests = runner.commands[first:]
    assert cp.argv == ("cp", ".env.example", ".env"), "a program the venv lacks: found on PATH"
    assert gen.argv[0] == str(config.venvs_dir / "3.10-cpu-lean" / "bin" / "python")
    assert gen.argv[1:] == ("scripts/gen.py", "--out", "a b"), "a string is split, no shell"
    for command in (cp, gen):
        assert command.cwd == config.root
        assert command.env["PATH"].startswith(str(config.venvs_dir / "3.10-cpu-lean" / "bin"))
        assert command.env["NOXGRID_CELL"] == "3.10-cpu-lean"
    assert tests.argv[1] == "-q" and any(a.startswith("--junitxml=") for a in tests.argv), (
        "pytest keeps its JUnit report"
    )
    assert [s.argv for s in result.setup_steps] == [
        ("cp", ".env.example", ".env"),
        ("python", "scripts/gen.py", "--out", "a b"),
    ]
    data = json.loads((config.reports_dir / "3.10-cpu-lean.json").read_text())
    assert data["setup_steps"][0] == {
        "argv": ["cp", ".env.example", ".env"],
        "returncode": 0,
        "duration": 0.01,
        "timed_out": False,
        "in_image": False,
    }
    log = (config.reports_dir / "logs" / "3.10-cpu-lean.suite.log").read_text()
    assert log.startswith("$ cp .env.example .env\n")
    assert "$ python scripts/gen.py --out 'a b'\n" in log and "(exit 0, 0.01s)" in log


def test_a_failing_setup_step_fails_the_suite_naming_the_step_and_its_output(project, make_project):
    root, env = with_setup(project, make_project)
    _, runner, result = run(root, env, runner=FailingStep())
    suite = stage(result, "suite")
    assert suite.status is Status.FAILED
    assert "setup step `cp .env.example .env` exited with 2" in suite.detail
    assert "[tool.noxgrid.suite] setup[0] (1 of 2)" in suite.detail
    assert "cp: no .env.example" in suite.detail and "fix:" in suite.detail
    assert not any(Path(c.argv[0]).name == "pytest" for c in runner.commands), "no tests ran"
    assert [(s.argv[0], s.returncode) for s in result.setup_steps] == [("cp", 2)]


def test_a_shell_suite_command_gets_a_note_with_the_declaration_that_keeps_pytest(
    project, make_project
):
    root, env = with_setup(
        project,
        make_project,
        SETUP.replace("setup = ", "# setup = ").replace(
            'command = ["pytest", "-q"]', 'command = ["sh", "-c", "cp .env.example .env && pytest"]'
        ),
    )
    _, runner, result = run(root, env)
    note = next(n for n in result.notes if "runs a shell" in n)
    assert "no JUnit report" in note
    assert 'setup = [["cp", ".env.example", ".env"]] and command = ["pytest"]' in note
    assert runner.commands[-1].argv[:2] == ("sh", "-c"), "the command itself is left as it is"
