"""The suite stage: the test command in the cell's venv, GPU tests deselected where none is."""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path

from noxgrid.cell.project import project_modules
from noxgrid.cell.state import CellRun, Stage, requirements_shown
from noxgrid.errors import CommandFailed, StageFailure
from noxgrid.model.bytecode import bytecode_env
from noxgrid.model.diagnose import last_line, suite_failure
from noxgrid.model.gpu import (
    deselect_marker,
    deselected_count,
    detect_gpu,
    is_pytest,
    marker_declared,
)
from noxgrid.model.installed import read_installed
from noxgrid.model.pytest_junit import read_counts
from noxgrid.model.results import (
    SetupStep,
    no_gpu_allowance,
    no_gpu_allowed_line,
    without_gpu_text,
)
from noxgrid.model.shellsuite import shell_suite_note
from noxgrid.model.text import clean_text
from noxgrid.render.annotations import failed_test_annotations
from noxgrid.tools.runner import Command


def suite_command(state: CellRun, *, in_image: bool = False) -> tuple[list[str], str | None]:
    """The suite argv for this cell and, when GPU tests are deselected, why.

    ``in_image``: for a run inside the cell's image (no junit file on the host,
    no pytest cache in the read-only-for-the-user /app, the image's own PATH).
    """
    suite = state.config.suite
    argv = [*suite.command, *state.suite_args]
    reason = None
    accelerator = state.config.accelerators.get(state.cell.accelerator)
    if is_pytest(argv):
        needs_gpu = accelerator.needs_gpu if accelerator else False
        present, why = detect_gpu(state.env)
        if not needs_gpu:
            reason = f"{state.cell.accelerator} cell"
        elif not present:
            reason = f"no GPU on this machine: {why}"
        if reason is not None and not marker_declared(state.config.root, suite.gpu_marker):
            reason = None  # no such marker in the project: no test can carry it
        if reason is not None:
            argv = deselect_marker(argv, suite.gpu_marker)
        if in_image:
            return [*argv, "-p", "no:cacheprovider"], reason
        # xunit1 keeps each test's file and line: the annotations need them.
        argv += [f"--junitxml={junit_path(state)}", "-o", "junit_family=xunit1"]
    if in_image:
        return argv, reason
    candidate = state.venv_bin / argv[0]
    if not Path(argv[0]).is_absolute() and candidate.exists():
        argv[0] = str(candidate)
    elif is_pytest(argv) and not Path(argv[0]).is_absolute():
        # Another pytest would import another interpreter's packages: the cell would
        # pass without its venv having been tested.
        raise StageFailure(
            f"{argv[0]} is not installed in the cell's venv (it is not in the lock), so the "
            f"suite would run outside the cell; fix: add {argv[0]} to "
            f"{requirements_shown(state)}, then noxgrid lock {state.cell.id}"
        )
    return argv, reason


def code_path(state: CellRun, root: str, env: Mapping[str, str]) -> dict[str, str]:
    """``PYTHONPATH`` with the project's folder (``root``) first where the cell's profile
    does not install the project (a service whose code is its tree); else nothing."""
    if state.config.profiles[state.cell.profile].install_project:
        return {}
    rest = dict(state.config.suite.env).get("PYTHONPATH", env.get("PYTHONPATH", ""))
    return {"PYTHONPATH": root + (os.pathsep + rest if rest else "")}


def junit_path(state: CellRun) -> Path:
    """Where pytest writes this cell's JUnit XML."""
    return state.config.reports_dir / f"{state.cell.id}.pytest.xml"


def _junit_text(state: CellRun) -> str | None:
    try:
        return junit_path(state).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _test_annotations(state: CellRun) -> list[str]:
    junit = _junit_text(state)
    if junit is None:
        return []
    return failed_test_annotations(junit, state.config.root, cell=state.cell.id)


def setup_argv(state: CellRun, step: tuple[str, ...]) -> list[str]:
    """A setup step's argv, its program taken from the venv where the venv has it."""
    argv = list(step)
    candidate = state.venv_bin / argv[0]
    if "/" not in argv[0] and candidate.exists():
        argv[0] = str(candidate)
    return argv


def run_setup(
    state: CellRun,
    sink: Callable[[str], None],
    command_for: Callable[[tuple[str, ...], float], Command],
    *,
    place: str,
    in_image: bool = False,
) -> float:
    """Run the suite's setup steps in order (recorded in the report); the seconds they took.
    The first that fails fails the stage, naming it, its exit status and its output.
    ``command_for``: the command of a step with the time left; ``place``: where the steps
    run, for the fix (``from the project folder with the venv's bin first on PATH``)."""
    steps = state.config.suite.setup
    spent = 0.0
    for index, step in enumerate(steps):
        shown = shlex.join(step)
        sink(f"$ {shown}\n")
        command = command_for(step, max(state.config.suite.timeout - spent, 1.0))
        where = f"[tool.noxgrid.suite] setup[{index}] ({index + 1} of {len(steps)})"
        try:
            outcome = state.runner.run(command, sink=sink)
        except CommandFailed as error:  # no such program
            state.setup_steps.append(
                SetupStep(argv=step, returncode=127, duration=0.0, in_image=in_image)
            )
            raise StageFailure(
                f"setup step `{shown}` could not start: {error.message}; it is {where}; "
                f"fix: {error.fix} (it runs {place})"
            ) from error
        spent += outcome.duration
        state.setup_steps.append(
            SetupStep(
                argv=step,
                returncode=outcome.returncode,
                duration=outcome.duration,
                timed_out=outcome.timed_out,
                in_image=in_image,
            )
        )
        sink(f"(exit {outcome.returncode}, {outcome.duration:.2f}s)\n")
        if not outcome.ok:
            end = "timed out" if outcome.timed_out else f"exited with {outcome.returncode}"
            tail = outcome.tail(15)
            inside = " in the image" if in_image else ""
            raise StageFailure(
                f"setup step `{shown}` {end} before the tests ran{inside}; it is {where}"
                + (f":\n{tail}" if tail else "")
                + f"\nfix: make the step pass when run {place}, or correct it"
            )
    return spent


def _host_setup(state: CellRun, env: Mapping[str, str], sink: Callable[[str], None]) -> float:
    """The setup steps in the project folder, the venv's bin first on PATH."""

    def command_for(step: tuple[str, ...], left: float) -> Command:
        argv = tuple(setup_argv(state, step))
        return Command(argv=argv, cwd=state.config.root, env=env, timeout=left)

    place = f"from the project folder with the venv's bin first on PATH ({state.venv_bin})"
    return run_setup(state, sink, command_for, place=place)


def suite_env(state: CellRun) -> dict[str, str]:
    """The suite's additions to the environment: the venv first on PATH, the cell's
    names, bytecode written into the venv (``model.bytecode``), the project's own."""
    return {
        "PATH": f"{state.venv_bin}{os.pathsep}{state.env.get('PATH', '')}",
        "VIRTUAL_ENV": str(state.venv),
        "NOXGRID_CELL": state.cell.id,
        "NOXGRID_PYTHON": state.cell.python,
        "NOXGRID_ACCELERATOR": state.cell.accelerator,
        "NOXGRID_PROFILE": state.cell.profile,
        **bytecode_env(state.venv, state.env),  # the imports' .pyc in the venv, for the next run
        **dict(state.config.suite.env),
        **code_path(state, str(state.config.root), state.env),
    }


def stage_suite(state: CellRun) -> str:
    argv, reason = suite_command(state)
    marker = state.config.suite.gpu_marker
    if reason is not None:
        state.note(f"tests marked '{marker}' deselected (-m 'not {marker}'): {reason}")
    shell = shell_suite_note(state.config.suite.command)
    if shell is not None:
        state.note(shell)
    env = suite_env(state)
    junit_path(state).unlink(missing_ok=True)  # an earlier run's would be read as this one's
    with state.log("suite") as sink:
        spent = _host_setup(state, env, sink)
        command = Command(
            argv=tuple(argv),
            cwd=state.config.root,
            env=env,
            timeout=max(state.config.suite.timeout - spent, 1.0),
        )
        if state.config.suite.setup:
            sink(f"$ {command.display()}\n")
        outcome = state.runner.run(command, sink=sink)
    record_without_gpu(state, outcome.output, deselected=reason is not None)
    if outcome.timed_out:
        raise StageFailure(f"the suite timed out after {outcome.duration:.0f}s")
    if outcome.returncode == 5 and is_pytest(argv):
        raise StageFailure("pytest collected no tests (exit 5)")
    summary = last_line(clean_text(outcome.output))
    if not outcome.ok:
        raise StageFailure(
            suite_failure(
                outcome.output,
                outcome.returncode,
                cell=state.cell.id,
                profile=state.cell.profile,
                requirements=requirements_shown(state),
                project=state.config.project_name,
                project_modules=tuple(
                    project_modules(
                        read_installed(state.venv), state.config.project_name, state.config.root
                    )
                )
                if state.config.project_name
                else (),
                junit=read_counts(_junit_text(state) or ""),
                root=str(state.config.root),
            )
            + f"\n(command: {command.display()})",
            annotations=_test_annotations(state),
        )
    return summary or "passed"


def record_without_gpu(state: CellRun, output: str, *, deselected: bool) -> None:
    """A gpu cell on a machine without a GPU: the count of gpu tests its suite deselected
    (``output``: pytest's), in the report; a release counts it as NOT VERIFIED unless an
    allowance ``rule = "no-gpu"`` accepts it."""
    accelerator = state.config.accelerators.get(state.cell.accelerator)
    if accelerator is None or not accelerator.needs_gpu or detect_gpu(state.env)[0]:
        return
    count = deselected_count(output) if deselected else 0
    state.without_gpu = count
    allowance = no_gpu_allowance(state.config.allowances, state.cell)
    if allowance is not None:
        state.allow(no_gpu_allowed_line(count, allowance))
    else:
        state.note(
            f"{without_gpu_text(count)}: this cell is NOT VERIFIED for a release until it "
            'runs on a GPU (or [[tool.noxgrid.allow]] rule = "no-gpu" accepts it, with a reason)'
        )


def describe(state: CellRun) -> str:
    """What the suite stage says it does when it starts."""
    setup = state.config.suite.setup
    steps = f"{len(setup)} setup step(s), then " if setup else ""
    return steps + " ".join(state.config.suite.command)


STAGE = Stage(
    name="suite",
    needs=("interpreter", "install_stamp"),
    adds=(),
    run=stage_suite,
    describe=describe,
)
