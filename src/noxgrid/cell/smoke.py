"""The smoke stage: start the image, wait for its health endpoint, always remove it."""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Callable

from noxgrid.cell.image import docker_for
from noxgrid.cell.report import log_path
from noxgrid.cell.state import CellRun, Stage
from noxgrid.cell.suite import code_path, run_setup, suite_command
from noxgrid.errors import NoxgridError, StageFailure
from noxgrid.model.app import container_failure
from noxgrid.model.diagnose import disk_full, fatal_error, last_line
from noxgrid.model.gpu import detect_gpu
from noxgrid.model.image import image_tag
from noxgrid.tools.docker import Docker
from noxgrid.tools.http import status_of
from noxgrid.tools.runner import Command, Outcome


def stage_smoke(state: CellRun) -> str:
    """Start the image with the CI environment, wait for its health endpoint, remove it."""
    docker = docker_for(state)
    config, cell = state.config, state.cell
    tag = image_tag(config, cell)
    extra = list(config.accelerators[cell.accelerator].run_args)
    present, why = detect_gpu(state.env)
    if extra and not present:
        state.note(f"started without {' '.join(extra)}: no GPU on this machine ({why})")
        extra = []
    name = f"noxgrid-{cell.id}-{os.getpid()}"
    container = docker.run_detached(
        tag,
        name=name,
        port=config.docker.health.port,
        env=dict(config.docker.env),
        labels={"io.noxgrid.smoke": cell.id},
        extra=extra,
    )
    try:
        healthy = _wait_healthy(state, docker, container) + f" (container {name}, removed)"
        if state.in_image:
            healthy += "; " + _suite_in_image(state, docker, tag)
        return healthy
    finally:
        docker.remove(container)


def _wait_healthy(state: CellRun, docker: Docker, container: str) -> str:
    """Poll the health endpoint until it answers 200; StageFailure when the container exits
    or the timeout passes, with the container's log saved."""
    health = state.config.docker.health
    start = time.monotonic()
    last = "no answer yet"
    url: str | None = None
    while time.monotonic() - start < health.timeout:
        status, code = docker.state(container)
        if status in ("exited", "dead"):
            took = time.monotonic() - start
            what = f"the container exited with {code} after {took:.1f}s"
            raise StageFailure(_smoke_failure(state, docker, container, what))
        if url is None:
            try:  # a container that exits at once has no port: its state says so next
                url = f"http://127.0.0.1:{docker.host_port(container, health.port)}{health.path}"
            except NoxgridError:
                time.sleep(0.2)
                continue
        answer, last = status_of(url)
        if answer == 200:
            return f"{url} answered 200 after {time.monotonic() - start:.1f}s"
        time.sleep(0.5)
    where = url or f"port {health.port}"
    what = f"{where} did not answer 200 within {health.timeout:.0f}s (last: {last})"
    raise StageFailure(_smoke_failure(state, docker, container, what))


# Where the suite runs in the image when it has setup steps: a copy of /app the image's
# user may write to (/app belongs to root and is read-only to that user).
SUITE_COPY = "/tmp/noxgrid-suite"


def _suite_in_image(state: CellRun, docker: Docker, tag: str) -> str:
    """The suite command run in a fresh container of the image, from /app; with setup
    steps, in a container of its own from a writable copy of /app, the steps first (in
    order, each recorded, the first that fails failing the stage, as on the host)."""
    argv, reason = suite_command(state, in_image=True)
    if reason is not None:
        state.note(
            f"in the image too, tests marked '{state.config.suite.gpu_marker}' are "
            f"deselected: {reason}"
        )
    setup = bool(state.config.suite.setup)
    env = {
        **dict(state.config.docker.env),
        **dict(state.config.suite.env),
        **code_path(state, SUITE_COPY if setup else "/app", {}),
        "NOXGRID_CELL": state.cell.id,
    }
    with state.log("suite-in-image") as sink:
        if setup:
            outcome = _with_setup(state, docker, tag, argv, env, sink)
        else:
            outcome = docker.run_once(
                tag, argv, env=env, workdir="/app", sink=sink, timeout=state.config.suite.timeout
            )
    summary = last_line(outcome.output)
    if not outcome.ok:
        cause = fatal_error(outcome.output, "/app") or disk_full(outcome.output) or summary
        raise StageFailure(
            f"the suite failed inside the image (exit {outcome.returncode}, its output in "
            f"{state.logs['suite-in-image']}): {cause}"
        )
    where = f" (after {len(state.config.suite.setup)} setup step(s), in {SUITE_COPY})"
    return f"suite in the image: {summary}" + (where if setup else "")


def _with_setup(
    state: CellRun,
    docker: Docker,
    tag: str,
    argv: list[str],
    env: dict[str, str],
    sink: Callable[[str], None],
) -> Outcome:
    """The setup steps, then the suite, in one container of ``tag`` (removed after), run
    as the image's user from a copy of /app that the steps may write to."""
    name = f"noxgrid-suite-{state.cell.id}-{os.getpid()}"
    container = docker.start_idle(tag, name=name, labels={"io.noxgrid.smoke": state.cell.id})
    try:
        copy = state.runner.run(
            docker.exec_command(
                container, ["cp", "-R", "/app", SUITE_COPY], env={}, workdir="/", timeout=300
            ),
            sink=sink,
        )
        if not copy.ok:
            raise StageFailure(
                f"the setup steps of [tool.noxgrid.suite] need a writable copy of /app in the "
                f"image, and `cp -R /app {SUITE_COPY}` failed (exit {copy.returncode}): "
                f"{last_line(copy.output)}; fix: build the image from a base with coreutils "
                "(cp) and /tmp writable to its user, or drop the setup steps"
            )

        def command_for(step: tuple[str, ...], left: float) -> Command:
            return docker.exec_command(container, step, env=env, workdir=SUITE_COPY, timeout=left)

        spent = run_setup(
            state,
            sink,
            command_for,
            place=f"in the image, as its user, from a writable copy of /app ({SUITE_COPY})",
            in_image=True,
        )
        sink(f"$ {shlex.join(argv)}\n")
        left = max(state.config.suite.timeout - spent, 1.0)
        return state.runner.run(command_for(tuple(argv), left), sink=sink)
    finally:
        docker.remove(container)


def _smoke_failure(state: CellRun, docker: Docker, container: str, what: str) -> str:
    logs = docker.logs(container)
    path = log_path(state.config.reports_dir, state.cell.id, "smoke")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(logs, encoding="utf-8")
    state.logs["smoke"] = path
    tail = "\n".join(logs.strip().splitlines()[-15:])
    quote, fix = container_failure(logs)
    return (
        f"{what}; its last error: {quote}\n  likely fix: {fix}\n"
        f"the container's log is in {path}:\n{tail}"
    )


def describe(state: CellRun) -> str:
    """What the smoke stage says it does when it starts."""
    return f"start the image, wait for {state.config.docker.health.path}"


STAGE = Stage(
    name="smoke",
    needs=("docker",),
    adds=(),
    run=stage_smoke,
    describe=describe,
)
