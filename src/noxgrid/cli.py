"""The noxgrid command line: the only place that prints results and exits.

Errors are one paragraph (what, where, fix); ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from noxgrid._version import __version__
from noxgrid.cell.doctor import doctor_path
from noxgrid.cell.progress import LiveProgress, choose_progress
from noxgrid.cell.report import atomic_write, read_cell_reports
from noxgrid.cell.run import run_cells
from noxgrid.commands.release_report import collect_results, write_release
from noxgrid.errors import (
    CellFailed,
    ConfigError,
    IndexUnavailable,
    LockOutdated,
    NoxgridError,
    SelectionError,
)
from noxgrid.model.changes import affected, changed_files
from noxgrid.model.config import Config, load_config, relative_path
from noxgrid.model.drift import version_drift
from noxgrid.model.init_plan import Written, plan_init, scaffold_files, summary, workflow_choice
from noxgrid.model.matrix import Cell, Matrix, expand
from noxgrid.model.policy import evaluate
from noxgrid.model.results import CellResult, Release, Status, release_stages
from noxgrid.render.actions import load_pins, outdated
from noxgrid.render.table import markdown_table, matrix_table, text_table, timings_table
from noxgrid.render.workflow import cell_command, matrix_json, render_workflows, self_hosted
from noxgrid.resolve import (
    LockOutcome,
    check_locks,
    describe,
    lock_cells,
    read_lock,
    refresh_command,
)
from noxgrid.tools.docker import TEMPLATE, Docker
from noxgrid.tools.interpreters import find_interpreter
from noxgrid.tools.runner import Runner, sigterm_as_interrupt

DESCRIPTION = """\
noxgrid derives a Python x accelerator x profile build matrix from the
[tool.noxgrid] table of a project's pyproject.toml, and runs each cell:
find the interpreter, check the cell's lock, make a venv with uv, install
the lock and the project, audit the libraries and imports (doctor), build,
audit and start the Docker image, run the test suite, write a report.

In a noxfile, `import noxgrid; noxgrid.sessions()` registers the same cells
as nox sessions: `nox -s ci-lean` runs every lean cell.
"""

EPILOG = """\
examples:
  noxgrid matrix                 every cell, as a table
  noxgrid matrix '3.1*-cpu-*' --json
  noxgrid lock                   write every cell's hash-pinned lock
  noxgrid lock --check           are the locks fresh? (offline)
  noxgrid run lean -j 2          every lean cell, two at a time
  noxgrid interpreters           which interpreter each Python version uses
  noxgrid doctor 3.11-cpu-full   missing system libraries, in the venv and the image
  noxgrid release                check, every cell and image, one HTML/JSON/JUnit report
  noxgrid report                 the timings of the last run of each cell
  noxgrid init                   scaffold noxgrid in an existing repository

exit status (every command; the printed verdict and the status always agree):
  0    everything asked for was checked and passed
  1    a check failed: a cell, a refused or stale or edited lock, drift, a
       release with a cell FAILED, MISSING or NOT VERIFIED
  2    bad input: the configuration (every problem listed), a pattern or
       session name that selects no cell, a matrix emptied by its excludes
  3    an interpreter of the matrix was not found (noxgrid interpreters)
  4    a program noxgrid needs could not run (uv, git)
  5    the package index could not be reached (uv's message is shown), or
       sizes could not be read from it (noxgrid lock --allow-unsized to go on)
  6    no usable Docker client or engine (NOXGRID_DOCKER, the engine's
       socket, BuildKit); --no-docker skips the image and smoke stages
  130  interrupted (Ctrl-C, SIGTERM); reports of finished cells are kept
"""


def _add_project(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-C",
        "--project",
        metavar="DIR",
        default=None,
        help="the project's folder or its pyproject.toml (default: search upwards from here)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="noxgrid",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"noxgrid {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an error (for bug reports)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    matrix = commands.add_parser(
        "matrix",
        help="list the cells of the matrix",
        description="List the cells of the matrix, optionally only those matching PATTERNs. "
        "A pattern is a glob over cell ids (3.10-cpu-lean) or an axis value (3.10, gpu, lean).",
    )
    _add_project(matrix)
    matrix.add_argument("patterns", nargs="*", metavar="PATTERN", help="cells to list")
    matrix.add_argument("--json", action="store_true", help="print JSON for machines")
    matrix.add_argument(
        "--github",
        action="store_true",
        help="print the cell job's strategy.matrix (compact JSON) and, on "
        "stderr, the command each job runs",
    )
    matrix.add_argument(
        "--no-self-hosted",
        action="store_true",
        help="leave out cells whose runners are self-hosted (the generated workflow passes "
        "it for a fork's pull request)",
    )
    matrix.add_argument(
        "--changed-since",
        metavar="REF",
        help="only the cells whose inputs changed since git REF (every cell when git cannot tell)",
    )

    run = commands.add_parser(
        "run",
        help="run cells: interpreter, lock, venv, install, doctor, image, smoke, suite",
        description="Run the selected cells (all when no PATTERN): find the interpreter, "
        "check the lock, create or verify the venv with uv, install the lock and the "
        "project, run the doctor (ELF audit, import smoke), build and smoke-test the image "
        "(unless --no-docker), run the suite. Reports go to the reports folder (JSON and "
        "JUnit XML). A live view on a terminal, timestamped lines elsewhere. "
        "Exits 1 when any cell fails.",
    )
    _add_project(run)
    run.add_argument("patterns", nargs="*", metavar="PATTERN", help="cells to run")
    run.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="cells to run at once (default 1; the uv cache is shared safely)",
    )
    run.add_argument(
        "-q", "--quiet", action="store_true", help="do not stream the commands' output"
    )
    run.add_argument(
        "--no-docker",
        action="store_true",
        help="skip the image and smoke stages (the report says so); also NOXGRID_NO_DOCKER=1",
    )
    run.add_argument(
        "--in-image",
        action="store_true",
        help="once the image is healthy, also run the suite inside it",
    )

    image = commands.add_parser(
        "image",
        help="build, check and smoke-test the Docker image of each cell",
        description="For each selected cell: check its lock, build the profile's target of "
        "the Dockerfile with the cell's build arguments (BuildKit), check the image (size "
        "budget, non-root user, labels, nothing .dockerignore keeps out), run the doctor in "
        "it (ELF audit, import smoke: see `noxgrid doctor`), start it with the "
        "declared environment and wait for the health endpoint. Containers are always "
        "removed; a failed start saves the container's log in the reports folder.",
    )
    _add_project(image)
    image.add_argument("patterns", nargs="*", metavar="PATTERN", help="cells to build")
    image.set_defaults(jobs=1)  # images build one at a time: BuildKit parallelises within one
    image.add_argument("-q", "--quiet", action="store_true", help="do not stream build output")
    image.add_argument(
        "--no-docker",
        action="store_true",
        help="skip the image and smoke stages (to see the report say so)",
    )
    image.add_argument(
        "--in-image", action="store_true", help="once healthy, also run the suite inside the image"
    )

    doctor = commands.add_parser(
        "doctor",
        help="find missing system libraries and broken imports, in the venv and the image",
        description="For each selected cell: install it (as `run` does), then read every ELF "
        "file the installed packages ship (extension modules, bundled libraries) and resolve "
        "each library it needs through its RPATH/RUNPATH, the packages' own *.libs folders "
        "and the system's library folders, first on this machine, then inside the cell's "
        "image. Each missing library is named with what needs it, the Debian package that "
        "provides it and the exact apt line for the profile. Then the top-level modules of "
        "the cell's direct dependencies are imported, in the venv and in the image. Every "
        "cell session runs the same checks as its doctor stage, before the suite.",
    )
    _add_project(doctor)
    doctor.add_argument("patterns", nargs="*", metavar="PATTERN", help="cells to examine")
    doctor.add_argument(
        "-j", "--jobs", type=int, default=1, metavar="N", help="cells at once (default 1)"
    )
    doctor.add_argument(
        "-q", "--quiet", action="store_true", help="do not stream install and build output"
    )
    doctor.add_argument(
        "--no-docker", action="store_true", help="the venv only: build and audit no image"
    )
    doctor.add_argument("--json", action="store_true", help="print the findings as JSON")
    doctor.set_defaults(in_image=False)

    commands.add_parser(
        "dockerfile",
        help="print noxgrid's Dockerfile template",
        description="Print the Dockerfile template (one target per profile, uv in a builder "
        "stage, the lock installed with hashes in a cached layer, the app copied last, a "
        "non-root user, labels, HEALTHCHECK): noxgrid dockerfile > docker/Dockerfile",
    )

    lock = commands.add_parser(
        "lock",
        help="write (or --check) the hash-pinned lock of each cell",
        description="Resolve each selected cell with uv pip compile (its python, the "
        "platform, hashes, the accelerator's torch backend, indexes and package swaps), "
        "size the result from the index, check it against policy and the profile's size "
        "budget, and write <locks>/<cell>.txt only when it passes. With --check, offline: "
        "list missing and stale locks and print the command that refreshes exactly those.",
    )
    _add_project(lock)
    lock.add_argument("patterns", nargs="*", metavar="PATTERN", help="cells to lock")
    lock.add_argument(
        "--check",
        action="store_true",
        help="only check freshness (offline, fast); exit 1 if any is stale",
    )
    lock.add_argument(
        "-j", "--jobs", type=int, default=4, metavar="N", help="cells resolved at once (default 4)"
    )
    lock.add_argument(
        "--allow-unsized",
        action="store_true",
        help="write the lock even when some packages cannot be sized (the index did not "
        "answer): the lock then says its sizes are unknown and its size budget unchecked",
    )
    lock.add_argument(
        "--upgrade",
        action="store_true",
        help="resolve afresh; by default the current lock's pins are kept where the inputs allow",
    )

    workflow = commands.add_parser(
        "workflow",
        help="write (or --check) the GitHub Actions workflow derived from the matrix",
        description="Write .github/workflows/ci.yml: a plan job (noxgrid matrix --github; on "
        "pull requests only the affected cells), one cell job per cell running its nox "
        "session, a checks job (noxgrid check), a release job on tags. --check fails, "
        "showing the diff, when the committed file differs from what would be written.",
    )
    _add_project(workflow)
    workflow.add_argument(
        "--check", action="store_true", help="compare with the committed file instead of writing it"
    )

    check = commands.add_parser(
        "check",
        help="every kind of drift: Python versions, locks, workflow, policy",
        description="Check every Python version written anywhere (requires-python, "
        "classifiers, the Dockerfile, workflows, .python-version, tox.ini, noxfiles) against "
        "the matrix, the locks' freshness and policy, and the workflow's freshness. Exits 1 "
        "on any finding, each with file:line and the fix.",
    )
    _add_project(check)
    check.add_argument("--json", action="store_true", help="print JSON for machines")

    interpreters = commands.add_parser(
        "interpreters",
        help="show the interpreter each Python version of the matrix resolves to",
        description="For each Python version of the matrix, the interpreter noxgrid would "
        "use and where it was found (override, PATH, pyenv, uv), or why none was.",
    )
    _add_project(interpreters)

    report = commands.add_parser(
        "report",
        help="print the stored results of each cell, or merge several runs into one report",
        description="Read <reports>/<cell>.json and print the status, total time, time "
        "per stage and venv size of each cell. With --from, read every cell report below "
        "the given folders instead (the artifacts of several CI jobs, downloaded), the "
        "latest run of each cell winning. With --out, also write the release report there: "
        "release.json, release.md, release.xml (JUnit, every cell) and release.html. "
        "With --from, --out or --expect the result is a release verdict over every expected "
        "cell (the whole matrix unless --expect says otherwise): a cell without a result is "
        "MISSING, one whose image or smoke stage was skipped or never ran is NOT VERIFIED, "
        "and either makes the command exit 1.",
    )
    _add_project(report)
    report.add_argument("patterns", nargs="*", metavar="PATTERN", help="cells to show")
    report.add_argument("--json", action="store_true", help="print JSON for machines")
    report.add_argument(
        "--markdown", action="store_true", help="print a Markdown table (for $GITHUB_STEP_SUMMARY)"
    )
    report.add_argument(
        "--from",
        dest="sources",
        action="append",
        type=Path,
        metavar="DIR",
        help="read cell reports below DIR (repeatable) instead of the project's reports folder",
    )
    report.add_argument(
        "--out", type=Path, metavar="DIR", help="write the four release-report files into DIR"
    )
    report.add_argument(
        "--expect",
        metavar="CELLS",
        help="the cells the merged report must cover: the plan job's strategy.matrix JSON, or "
        "cell ids separated by commas (default: every cell of the matrix); each one without "
        "a result is MISSING and fails the report",
    )

    release = commands.add_parser(
        "release",
        help="release verification: check, every cell with its image, one report",
        description="Run `noxgrid check`, then every cell of the matrix (lock, venv, install, "
        "doctor, image, smoke, suite; in parallel up to the number of cores), and write one "
        "report: release.json, release.md (also appended to $GITHUB_STEP_SUMMARY when set), "
        "release.xml (JUnit, every cell) and release.html (the matrix as a grid, time per "
        "stage and image size plotted) into <reports>/release. A failing cell does not stop "
        "the others; the run exits 1 naming each failing cell and its first error.",
    )
    _add_project(release)
    release.add_argument(
        "patterns", nargs="*", metavar="PATTERN", help="only these cells (default: every cell)"
    )
    release.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="cells at once (default: the number of cores)",
    )
    release.add_argument("-q", "--quiet", action="store_true", help="do not stream output")
    release.add_argument(
        "--no-docker", action="store_true", help="skip images and smoke tests (said in the report)"
    )
    release.add_argument(
        "--out", type=Path, metavar="DIR", help="where the report goes (default <reports>/release)"
    )
    release.set_defaults(in_image=False)

    init = commands.add_parser(
        "init",
        help="scaffold noxgrid in an existing repository",
        description="Add [tool.noxgrid] to the project's pyproject.toml (the python axis from "
        "requires-python and the version classifiers, or the interpreters found here where "
        "the project states none; a lean profile from the project's test requirements; a "
        "full profile from its other extras), and write what is missing: the lean "
        "requirements file, noxfile.py, docker/Dockerfile, .dockerignore and the GitHub "
        "workflow. Then lock every cell and run `noxgrid check`. An existing file is never "
        "replaced unless --force is given; an existing [tool.noxgrid] is never touched.",
    )
    init.add_argument(
        "-C", "--project", metavar="DIR", default=None, help="the project's folder (default: here)"
    )
    init.add_argument("--force", action="store_true", help="replace files that exist")
    init.add_argument(
        "--no-lock", action="store_true", help="write the files only (no locks, no check)"
    )
    return parser


def _load(args: argparse.Namespace) -> tuple[Config, Matrix]:
    config = load_config(Path(args.project) if args.project else None)
    return config, expand(config)


def cmd_matrix(args: argparse.Namespace) -> int:
    """``noxgrid matrix``."""
    config, matrix = _load(args)
    selected = matrix.select(args.patterns)
    if args.changed_since:
        changed = changed_files(config, args.changed_since)
        if changed is None:
            sys.stderr.write(
                f"noxgrid: git cannot tell what changed since {args.changed_since}: every cell\n"
            )
        else:
            selected = affected(config, selected, changed)
            if not selected:
                # Nothing the cells depend on changed: no cell job, said so, not a failure.
                sys.stderr.write(
                    f"noxgrid: no cell's inputs changed since {args.changed_since}: "
                    "no cell job runs (noxgrid check still does)\n"
                )
    elif not selected:  # pragma: no cover - expand and select refuse an empty matrix first
        raise SelectionError("no cell selected", fix="noxgrid matrix lists the cells")
    if args.no_self_hosted:
        # A fork's pull request: its code never reaches a self-hosted runner.
        dropped = [cell for cell in selected if self_hosted(config, cell)]
        if dropped:
            sys.stderr.write(
                "noxgrid: a fork's pull request does not run on self-hosted runners: "
                f"{', '.join(cell.id for cell in dropped)} left out (opt in with "
                "self-hosted-fork-prs = true in [tool.noxgrid.workflow])\n"
            )
            selected = Matrix(tuple(cell for cell in selected if cell not in dropped))
    if args.github:
        for cell in selected:
            sys.stderr.write(f"{cell.id}: {cell_command(cell)}\n")
        print(matrix_json(config, selected))
        return 0
    if args.json:
        print(json.dumps([cell.as_dict() for cell in selected], indent=2))
    else:
        print(matrix_table(selected))
        print(f"\n{len(selected)} of {len(matrix)} cells")
    return 0


def docker_wanted(flag: bool, env: dict[str, str] | None = None) -> bool:
    """False when --no-docker was given or NOXGRID_NO_DOCKER=1 is set."""
    env = dict(os.environ) if env is None else env
    return not flag and env.get("NOXGRID_NO_DOCKER", "") not in ("1", "true", "yes")


def require_engine(args: argparse.Namespace, config: Config, only: Sequence[str] | None) -> None:
    """Fail fast (exit 6, one paragraph) when the cells would build images and no client
    or engine can: before any cell runs, not once per cell after its install."""
    stages = only if only is not None else ("image",)
    if "image" not in stages or config.docker.image is None or not docker_wanted(args.no_docker):
        return
    Docker.find(Runner())


def cmd_run(args: argparse.Namespace, only: Sequence[str] | None = None) -> int:
    """``noxgrid run`` (and ``noxgrid image``, which runs only lock, image and smoke)."""
    config, matrix = _load(args)
    matrix.select(args.patterns)  # a bad pattern is exit 2 before the engine is asked
    require_engine(args, config, only)
    results, elapsed = _run_cells(args, config, matrix, only)
    print()
    print(timings_table(results))
    return _summary(config, results, elapsed)


def _summary(
    config: Config, results: list[CellResult], elapsed: float, stream: TextIO | None = None
) -> int:
    failed = [result for result in results if result.status is Status.FAILED]
    print(
        f"\n{len(results) - len(failed)} passed, {len(failed)} failed "
        f"in {elapsed:.1f}s; reports in {config.reports_dir}",
        file=stream or sys.stdout,
    )
    if failed:
        raise CellFailed(
            "failed cells: " + "; ".join(f"{r.cell.id} ({r.first_error})" for r in failed),
            fix="read each cell's log under " + str(config.reports_dir / "logs"),
        )
    return 0


def _run_cells(
    args: argparse.Namespace,
    config: Config,
    matrix: Matrix,
    only: Sequence[str] | None,
    stream: TextIO | None = None,
    done: list[CellResult] | None = None,
) -> tuple[list[CellResult], float]:
    """Run the selected cells, ``args.jobs`` at a time; their results in matrix order.

    ``done`` (when given) receives each result as its cell ends, so a caller
    interrupted half-way still has the finished ones.
    """
    selected = list(matrix.select(args.patterns))
    jobs = max(1, args.jobs)
    docker = docker_wanted(args.no_docker)
    progress = choose_progress(selected, stream or sys.stdout, quiet=args.quiet, jobs=jobs)
    finished = done if done is not None else []
    start = time.perf_counter()
    live = progress if isinstance(progress, LiveProgress) else contextlib.nullcontext()
    with live:
        run_cells(
            config,
            selected,
            jobs=jobs,
            progress=progress,
            docker=docker,
            in_image=args.in_image,
            only=only,
            on_done=finished.append,
        )
    order = {cell.id: index for index, cell in enumerate(selected)}
    results = sorted(finished, key=lambda result: order.get(result.cell.id, len(order)))
    return results, time.perf_counter() - start


def cmd_lock(args: argparse.Namespace) -> int:
    """``noxgrid lock``."""
    config, matrix = _load(args)
    selected = list(matrix.select(args.patterns))
    if args.check:
        states = check_locks(config, selected)
        rows = [[s.cell.id, s.state, relative_path(s.path, config.root)] for s in states]
        print(text_table(["cell", "lock", "file"], rows))
        bad = [s for s in states if s.state != "fresh"]
        if bad:
            for state in bad:
                if state.detail:
                    print(
                        f"{relative_path(state.path, config.root)}: {state.state}: {state.detail}"
                    )
            raise LockOutdated(
                f"{len(bad)} of {len(states)} locks are not fresh: "
                + ", ".join(f"{s.cell.id} ({s.state})" for s in bad),
                fix=refresh_command([s.cell for s in bad])
                + " (an edited lock is made again from its inputs; commit the result)",
            )
        print(f"\nall {len(states)} locks are fresh")
        return 0
    start = time.perf_counter()
    print(f"locking {len(selected)} cell(s), {args.jobs} at a time...", flush=True)
    outcomes = lock_cells(
        config,
        selected,
        jobs=args.jobs,
        on_done=lambda outcome: print(describe(outcome), flush=True),
        allow_unsized=args.allow_unsized,
        upgrade=args.upgrade,
    )
    failed = [o for o in outcomes if not o.written]
    print(
        f"\n{len(outcomes) - len(failed)} written, {len(failed)} refused or failed "
        f"in {time.perf_counter() - start:.1f}s"
    )
    if failed:
        raise lock_failure(failed)
    return 0


def lock_failure(failed: Sequence[LockOutcome]) -> NoxgridError:
    """The error for locks not written, with the exit code of the worst cause (5: the index
    could not be reached) and a fix that points above only where fixes were printed."""
    printed_fixes = any(o.findings for o in failed) or any(
        "fix:" in (o.error or "") for o in failed
    )
    retry = refresh_command([o.cell for o in failed])
    cells = "no lock written for: " + ", ".join(o.cell.id for o in failed)
    if any(o.exit_code == IndexUnavailable.exit_code for o in failed):
        return IndexUnavailable(
            cells, fix=("apply each fix above, then run: " if printed_fixes else "run: ") + retry
        )
    if all(o.exit_code == ConfigError.exit_code for o in failed):
        return ConfigError(cells, fix="apply each fix above, then run: " + retry)
    return CellFailed(
        cells,
        fix=("apply each fix above, then run: " + retry)
        if printed_fixes
        else f"read uv's message above, then run: {retry}",
    )


def cmd_workflow(args: argparse.Namespace) -> int:
    """``noxgrid workflow``: write (or --check) the CI workflow and the tag workflow."""
    config, _matrix = _load(args)
    workflows = render_workflows(config)
    if not args.check:
        for path, text in workflows.items():
            atomic_write(path, text)
            print(f"wrote {path}")
        return 0
    stale = []
    pins = load_pins()
    for path, text in workflows.items():
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current == text:
            print(f"{path} is up to date")
            continue
        stale.append(path)
        for problem in outdated(current, pins):
            print(f"{path}: {problem}")
        diff = difflib.unified_diff(
            current.splitlines(keepends=True),
            text.splitlines(keepends=True),
            f"{path} (committed)",
            f"{path} (generated)",
        )
        sys.stdout.writelines(diff)
    if stale:
        raise LockOutdated(
            f"{', '.join(str(path) for path in stale)} "
            f"differ{'s' if len(stale) == 1 else ''} from what the matrix generates",
            fix=f"noxgrid workflow -C {config.root}",
        )
    return 0


def check_findings(config: Config, matrix: Matrix) -> list[dict[str, str]]:
    """Every finding of ``noxgrid check`` as {kind, where, message, fix}."""
    findings = []
    for drift in version_drift(config, skip=list(render_workflows(config))):
        findings.append(
            {"kind": "python", "where": drift.where, "message": drift.message, "fix": drift.fix}
        )
    states = check_locks(config, list(matrix))
    bad = [s for s in states if s.state != "fresh"]
    for state in bad:
        findings.append(
            {
                "kind": "lock",
                "where": relative_path(state.path, config.root),
                "message": f"the lock of {state.cell.id} is {state.state}",
                "fix": refresh_command([s.cell for s in bad]),
            }
        )
    for state in states:
        if state.state != "fresh":
            continue
        lock = read_lock(state.path)
        for finding in evaluate(
            lock,
            accelerator=config.accelerators[state.cell.accelerator],
            policy=config.policy,
            profile=config.profiles[state.cell.profile],
            installed_estimate=lock.header_bytes("installed-bytes"),
            largest=lock.largest(),
        ):
            findings.append(
                {
                    "kind": "policy",
                    "where": relative_path(state.path, config.root),
                    "message": f"{state.cell.id}: {finding.message}",
                    "fix": finding.fix,
                }
            )
    pins = load_pins()
    for path, text in render_workflows(config).items():
        where = relative_path(path, config.root)
        if not path.is_file():
            findings.append(
                {
                    "kind": "workflow",
                    "where": where,
                    "message": "there is no generated workflow",
                    "fix": "noxgrid workflow",
                }
            )
            continue
        current = path.read_text(encoding="utf-8")
        if current == text:
            continue
        old = outdated(current, pins)
        findings.append(
            {
                "kind": "workflow",
                "where": where,
                "message": "the workflow differs from what the matrix generates"
                + (f" ({len(old)} action pin(s) older than noxgrid's table)" if old else ""),
                "fix": "noxgrid workflow (see the diff: noxgrid workflow --check)",
            }
        )
    return findings


def cmd_check(args: argparse.Namespace) -> int:
    """``noxgrid check``."""
    config, matrix = _load(args)
    findings = check_findings(config, matrix)
    if args.json:
        print(json.dumps(findings, indent=2))
    else:
        for finding in findings:
            print(
                f"{finding['where']}: [{finding['kind']}] {finding['message']}\n"
                f"  fix: {finding['fix']}"
            )
        print(
            f"{len(findings)} finding(s)"
            if findings
            else "no drift: versions, locks, policy and workflow agree with [tool.noxgrid]"
        )
    return 1 if findings else 0


def cmd_interpreters(args: argparse.Namespace) -> int:
    """``noxgrid interpreters``."""
    config, matrix = _load(args)
    rows = []
    missing = 0
    for version in matrix.pythons():
        try:
            found = find_interpreter(version, overrides=config.interpreters)
            rows.append([version, str(found.path), found.source])
        except NoxgridError as error:
            missing += 1
            rows.append([version, "NOT FOUND", error.message.split(". ", 1)[-1]])
    print(text_table(["python", "interpreter", "found via"], rows))
    return 3 if missing else 0


def expected_cells(matrix: Matrix, text: str | None) -> list[Cell]:
    """The cells a merged report must cover: ``--expect`` (a strategy.matrix JSON, as the
    plan job prints it, or cell ids and patterns separated by commas or spaces), else all."""
    if text is None:
        return list(matrix)
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            include = json.loads(stripped)["include"]
            ids = [str(entry["cell"]) for entry in include]
        except (ValueError, KeyError, TypeError) as exc:
            raise SelectionError(
                f"--expect: not a strategy.matrix with include[].cell entries: {stripped[:80]}",
                fix="pass the plan job's output (noxgrid matrix --github) or cell ids",
            ) from exc
    else:
        ids = [part for part in stripped.replace(",", " ").split() if part]
    if not ids:
        return []
    return list(matrix.select(ids))


def _judge(
    config: Config,
    results: Sequence[CellResult],
    expected: Sequence[Cell],
    findings: Sequence[dict[str, str]] = (),
) -> Release:
    return Release(
        results=tuple(results),
        expected=tuple(expected),
        findings=tuple(findings),
        required=release_stages(config.docker.image is not None),
    )


def _print_release(release: Release, elapsed: float | None = None) -> None:
    for cell_id, what, why in release.cell_problems():
        print(f"{what}: {cell_id}: {why}")
    took = f" in {elapsed:.1f}s" if elapsed is not None else ""
    print(f"\n{release.verdict()}{took}")


def _release_failed(release: Release, where: Path) -> CellFailed:
    parts = [f"{cell_id} {what.lower()}" for cell_id, what, _ in release.cell_problems()]
    if release.findings:
        parts.append(f"{len(release.findings)} drift finding(s) from noxgrid check")
    if not release.expected:
        parts.append("no cell was expected")
    return CellFailed(
        "release not verified: " + "; ".join(parts),
        fix=f"open {where}: it says why for each cell; rerun the cells that are missing "
        "or failed (and their images, without --no-docker)",
    )


def cmd_report(args: argparse.Namespace) -> int:
    """``noxgrid report``."""
    config, matrix = _load(args)
    if args.sources or args.out or args.expect:
        return _merged_report(args, config, matrix)
    wanted = set(matrix.select(args.patterns).ids())
    results = [r for r in read_cell_reports(config.reports_dir) if r.cell.id in wanted]
    if args.json:
        print(json.dumps([result.as_dict() for result in results], indent=2))
    elif not results:
        print(f"no results in {config.reports_dir} yet: run `noxgrid run` or `nox -s ci-lean`")
    elif args.markdown:
        print(markdown_table(results))
    else:
        print(timings_table(results))
    if not results:
        return 1
    return 1 if any(result.status is Status.FAILED for result in results) else 0


def _merged_report(args: argparse.Namespace, config: Config, matrix: Matrix) -> int:
    """``report --from/--out/--expect``: a release verdict over every expected cell."""
    expected = expected_cells(matrix, args.expect)
    if args.patterns:
        chosen = set(matrix.select(args.patterns).ids())
        expected = [cell for cell in expected if cell.id in chosen]
    if args.sources:
        missing = [str(path) for path in args.sources if not path.exists()]
        if missing:
            raise SelectionError(
                f"no such folder: {', '.join(missing)}",
                fix="pass the folders the CI jobs' report artifacts were downloaded to",
            )
        merged, ignored = collect_results(args.sources)
        for path in ignored:
            sys.stderr.write(f"noxgrid: {path} is not a cell report; ignored\n")
    else:
        merged = read_cell_reports(config.reports_dir)
    wanted = {cell.id for cell in expected}
    results = [r for r in merged if r.cell.id in wanted]
    release = _judge(config, results, expected)
    out = sys.stderr if args.json else sys.stdout
    if args.out:
        paths = write_release(release, args.out, title=_title(config))
        out.write(f"wrote {', '.join(str(path) for path in paths.values())}\n")
    if args.json:
        print(json.dumps([result.as_dict() for result in results], indent=2))
    elif args.markdown:
        print(markdown_table(results) if results else "_no cell results_")
    elif results:
        print(timings_table(results))
    with contextlib.redirect_stdout(out):
        _print_release(release)
    if not release.passed:
        raise _release_failed(release, args.out or Path(config.reports_dir))
    return 0


def _title(config: Config) -> str:
    return f"noxgrid release report: {config.project_name or config.root.name}"


def cmd_release(args: argparse.Namespace) -> int:
    """``noxgrid release``: check, every cell, one report over the whole matrix."""
    config, matrix = _load(args)
    require_engine(args, config, None)
    findings = check_findings(config, matrix)
    if findings:
        for finding in findings:
            print(f"drift: {finding['where']}: {finding['message']}\n  fix: {finding['fix']}")
        print(f"noxgrid check: {len(findings)} finding(s); the cells run anyway\n")
    else:
        print("noxgrid check: no drift\n")
    folder = args.out or config.reports_dir / "release"
    done: list[CellResult] = []
    start = time.perf_counter()
    try:
        results, elapsed = _run_cells(args, config, matrix, None, done=done)
    except KeyboardInterrupt:
        # The report is written all the same: what finished, and the rest MISSING.
        write_release(_judge(config, done, list(matrix), findings), folder, title=_title(config))
        print(f"\ninterrupted: the report in {folder} covers the cells that finished")
        raise
    release = _judge(config, results, list(matrix), findings)
    paths = write_release(release, folder, title=_title(config))
    print()
    print(timings_table(results))
    _print_release(release, time.perf_counter() - start if elapsed is None else elapsed)
    print(f"report: {paths['html']} (and release.json, release.md, release.xml beside it)")
    if not release.passed:
        raise _release_failed(release, paths["html"])
    return 0


def _has_interpreter(version: str) -> bool:
    try:
        find_interpreter(version)
    except NoxgridError:
        return False
    return True


def cmd_init(args: argparse.Namespace) -> int:
    """``noxgrid init``."""
    root = Path(args.project or ".").resolve()
    if root.is_file():
        root = root.parent
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        raise ConfigError(
            f"{pyproject}: file not found",
            fix="run init in a project whose pyproject.toml has a [project] table "
            "(or pass its folder with -C)",
        )
    text = pyproject.read_text(encoding="utf-8")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{pyproject}: not valid TOML: {exc}", fix="fix the file") from exc
    if "noxgrid" in document.get("tool", {}):
        raise ConfigError(
            f"{pyproject}: [tool.noxgrid] is already there; init only adds it",
            fix="edit it by hand (README: configuration reference), or remove it and rerun",
        )
    project = document.get("project")
    if not isinstance(project, dict):
        raise ConfigError(
            f"{pyproject}: no [project] table to read the name, requires-python and extras from",
            fix="declare the project in [project] (PEP 621), then run init again",
        )
    plan = plan_init(
        project,
        root,
        available=_has_interpreter,
        dependency_groups=document.get("dependency-groups"),
    )
    workflow_path = workflow_choice(root, args.force)
    fates, files = scaffold_files(
        root, plan, force=args.force, pyproject_text=text, workflow_path=workflow_path
    )
    for path, content in files.items():
        atomic_write(path, content)
    for note in plan.notes:
        print(f"init: {note}")
    config = load_config(root)
    matrix = expand(config)
    workflow = config.workflow_file
    if workflow.exists() and not args.force:
        fates.append(Written(relative_path(workflow, root), "kept (exists; --force replaces it)"))
    else:
        fates.append(Written(relative_path(workflow, root), "written"))
    print(summary(fates))
    if args.no_lock:
        print("\nnext: noxgrid lock, noxgrid workflow, noxgrid check, then nox -s ci-lean")
        return 0
    print(f"\nlocking {len(matrix)} cell(s)...", flush=True)
    outcomes = lock_cells(
        config, list(matrix), on_done=lambda outcome: print(describe(outcome), flush=True)
    )
    if not workflow.exists() or args.force:
        for path, text in render_workflows(config).items():
            atomic_write(path, text)
    findings = check_findings(config, matrix)
    for finding in findings:
        print(f"check: {finding['where']}: {finding['message']}\n  fix: {finding['fix']}")
    failed = [outcome.cell.id for outcome in outcomes if not outcome.written]
    if failed or findings:
        raise CellFailed(
            "init wrote the files, but "
            + "; ".join(
                part
                for part in (
                    f"no lock for {', '.join(failed)}" if failed else "",
                    f"noxgrid check has {len(findings)} finding(s)" if findings else "",
                )
                if part
            ),
            fix="apply the fixes above, then run noxgrid check",
        )
    print("\nnoxgrid check: no drift. Next: nox -s ci-lean (and commit the files above)")
    return 0


def cmd_image(args: argparse.Namespace) -> int:
    """``noxgrid image``."""
    return cmd_run(args, only=("lock", "image", "smoke"))


DOCTOR_STAGES = ("interpreter", "lock", "venv", "install", "doctor", "image")


def cmd_doctor(args: argparse.Namespace) -> int:
    """``noxgrid doctor``: the venv's and the image's audit and import smoke, as a report."""
    config, matrix = _load(args)
    require_engine(args, config, DOCTOR_STAGES)
    # With --json, stdout carries the JSON alone; the progress goes to stderr.
    stream = sys.stderr if args.json else sys.stdout
    results, elapsed = _run_cells(args, config, matrix, DOCTOR_STAGES, stream)
    documents = []
    for result in results:
        path = doctor_path(config, result.cell)
        # The run removed any earlier findings: a missing file means the doctor did not look.
        document = (
            json.loads(path.read_text(encoding="utf-8"))
            if path.is_file()
            else {"cell": result.cell.id}
        )
        # a stage that stopped the cell before the doctor could look
        stopped = [
            stage
            for stage in result.stages
            if stage.status is Status.FAILED and stage.name not in ("doctor", "image")
        ]
        document["stopped"] = (
            f"{stopped[0].name}: {stopped[0].detail.splitlines()[0]}" if stopped else None
        )
        document["status"] = result.status.value
        documents.append(document)
    if args.json:
        print(json.dumps(documents, indent=2))
    else:
        print()
        for document in documents:
            print(f"== {document['cell']}: {document['status']}")
            if document["stopped"]:
                print(f"  stopped before the doctor: {document['stopped']}")
            for key in ("venv", "image"):
                entry = document.get(key)
                if isinstance(entry, dict):
                    print(entry["text"])
            print()
    return _summary(config, results, elapsed, stream)


def cmd_dockerfile(args: argparse.Namespace) -> int:
    """``noxgrid dockerfile``."""
    sys.stdout.write(TEMPLATE.read_text(encoding="utf-8"))
    return 0


HANDLERS = {
    "matrix": cmd_matrix,
    "run": cmd_run,
    "image": cmd_image,
    "doctor": cmd_doctor,
    "release": cmd_release,
    "init": cmd_init,
    "dockerfile": cmd_dockerfile,
    "lock": cmd_lock,
    "workflow": cmd_workflow,
    "check": cmd_check,
    "interpreters": cmd_interpreters,
    "report": cmd_report,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``noxgrid`` and ``python -m noxgrid``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        with sigterm_as_interrupt():
            return HANDLERS[args.command](args)
    except NoxgridError as error:
        if args.debug or os.environ.get("NOXGRID_DEBUG"):
            traceback.print_exc()
        sys.stderr.write(f"noxgrid: {error}\n")
        return error.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("noxgrid: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`noxgrid lock | head`): stop quietly, as cat does.
        sys.stderr.close()
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
