"""The suite in the image runs the setup steps of [tool.noxgrid.suite] too: in one
container of the image, from a writable copy of /app, in order, each recorded, the first
that fails failing the stage; the container is removed whatever happens."""

from __future__ import annotations

import pytest

from noxgrid.cell.progress import SilentProgress
from noxgrid.cell.smoke import SUITE_COPY, _suite_in_image
from noxgrid.cell.state import CellRun
from noxgrid.errors import StageFailure
from noxgrid.model.declaration import load_config
from noxgrid.model.matrix import Cell
from noxgrid.tools.docker import Client, Docker
from noxgrid.tools.runner import Outcome, Runner
from tests.unit.cell.test_suite import SETUP

TAG = "demo:3.10-cpu-lean"


class Engine(Runner):
    """Plays the docker client: records each command; ``fail`` names a word of a
    ``docker exec`` command that exits 3."""

    def __init__(self, fail: str | None = None) -> None:
        super().__init__()
        self.commands: list[tuple[str, ...]] = []
        self.fail = fail

    def run(self, command, *, sink=None):
        argv = command.argv[1:]
        self.commands.append(argv)
        output, code = "", 0
        if argv[0] == "run" and "-d" in argv:
            output = "c0ffee\n"
        elif argv[0] == "exec" and self.fail is not None and self.fail in argv:
            output, code = f"{self.fail}: went wrong\n", 3
        elif "pytest" in argv:
            output = "2 passed in 0.1s\n"
        if sink is not None and output:
            sink(output)
        return Outcome(command=command, returncode=code, duration=0.01, output=output)


def state_for(make_project, engine: Engine, pyproject: str = SETUP) -> CellRun:
    root = make_project(pyproject)
    config = load_config(root)
    return CellRun(
        config=config,
        cell=Cell(python="3.10", accelerator="cpu", profile="lean"),
        runner=engine,
        progress=SilentProgress(),
        env={"NOXGRID_GPU": "0"},
        in_image=True,
    )


def docker(engine: Engine) -> Docker:
    return Docker(engine, Client(path="docker", buildx=True))


def exec_argv(argv: tuple[str, ...]) -> tuple[str, ...]:
    """What a ``docker exec`` runs in the container, after its options."""
    return argv[argv.index("c0ffee") + 1 :]


def test_the_setup_steps_run_in_the_image_before_the_suite_in_a_writable_copy(make_project):
    engine = Engine()
    state = state_for(make_project, engine)
    detail = _suite_in_image(state, docker(engine), TAG)
    assert (
        detail == f"suite in the image: 2 passed in 0.1s (after 2 setup step(s), in {SUITE_COPY})"
    )
    run, *execs, remove = engine.commands
    assert run[:2] == ("run", "-d") and run[-3:] == ("sleep", TAG, "infinity")
    assert "io.noxgrid.smoke=3.10-cpu-lean" in run, "found by the leftover check"
    ran = [exec_argv(argv) for argv in execs]
    assert ran[0] == ("cp", "-R", "/app", SUITE_COPY)
    assert ran[1] == ("cp", ".env.example", ".env")
    assert ran[2] == ("python", "scripts/gen.py", "--out", "a b"), "the image's PATH: no venv"
    assert ran[3][0] == "pytest" and "--junitxml" not in " ".join(ran[3])
    for argv in execs[1:]:
        assert argv[argv.index("-w") + 1] == SUITE_COPY
        assert "NOXGRID_CELL=3.10-cpu-lean" in argv
    assert remove == ("rm", "-f", "c0ffee")
    steps = [(s.argv[0], s.returncode, s.in_image) for s in state.setup_steps]
    assert steps == [("cp", 0, True), ("python", 0, True)]
    assert "in the image" in state.setup_steps[0].describe()
    log = (state.config.reports_dir / "logs" / "3.10-cpu-lean.suite-in-image.log").read_text()
    assert "$ cp .env.example .env\n" in log and "$ pytest" in log


def test_a_failing_step_in_the_image_fails_the_stage_naming_it_and_removes_the_container(
    make_project,
):
    engine = Engine(fail="scripts/gen.py")
    state = state_for(make_project, engine)
    with pytest.raises(StageFailure) as failure:
        _suite_in_image(state, docker(engine), TAG)
    text = str(failure.value)
    assert "setup step `python scripts/gen.py --out 'a b'` exited with 3" in text
    assert "before the tests ran in the image" in text
    assert "[tool.noxgrid.suite] setup[1] (2 of 2)" in text
    assert "scripts/gen.py: went wrong" in text and f"writable copy of /app ({SUITE_COPY})" in text
    assert not any("pytest" in argv for argv in engine.commands), "no tests ran"
    assert engine.commands[-1] == ("rm", "-f", "c0ffee")
    assert [s.returncode for s in state.setup_steps] == [0, 3]


def test_a_copy_that_fails_says_why_and_what_to_do(make_project):
    engine = Engine(fail="/app")
    state = state_for(make_project, engine)
    with pytest.raises(StageFailure, match=r"`cp -R /app /tmp/noxgrid-suite` failed \(exit 3\)"):
        _suite_in_image(state, docker(engine), TAG)
    assert engine.commands[-1] == ("rm", "-f", "c0ffee") and state.setup_steps == []


def test_without_setup_steps_the_suite_runs_in_a_fresh_container_from_app(make_project):
    engine = Engine()
    state = state_for(make_project, engine, SETUP.replace("setup = ", "# setup = "))
    assert _suite_in_image(state, docker(engine), TAG) == "suite in the image: 2 passed in 0.1s"
    (argv,) = engine.commands
    assert argv[:4] == ("run", "--rm", "-w", "/app")
