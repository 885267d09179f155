"""What the commands share: the project option, loading it, running the selected cells."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeAlias

from noxgrid.errors import (
    CellFailed,
)

if TYPE_CHECKING:
    from noxgrid.model.config import Config
    from noxgrid.model.matrix import Matrix
    from noxgrid.model.results import CellResult

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_project(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-C",
        "--project",
        metavar="DIR",
        default=None,
        help="the project's folder or its pyproject.toml (default: search upwards from here)",
    )


def load_project(args: argparse.Namespace) -> tuple[Config, Matrix]:
    from noxgrid.model.declaration import load_config
    from noxgrid.model.matrix import expand

    config = load_config(Path(args.project) if args.project else None)
    return config, expand(config)


def docker_wanted(flag: bool, env: dict[str, str] | None = None) -> bool:
    """False when --no-docker was given or NOXGRID_NO_DOCKER=1 is set."""
    env = dict(os.environ) if env is None else env
    return not flag and env.get("NOXGRID_NO_DOCKER", "") not in ("1", "true", "yes")


def require_engine(args: argparse.Namespace, config: Config, only: Sequence[str] | None) -> None:
    """Fail fast (exit 6, one paragraph) when the cells would build images and no client
    or engine can: before any cell runs, not once per cell after its install."""
    from noxgrid.tools.docker import Docker
    from noxgrid.tools.runner import Runner

    stages = only if only is not None else ("image",)
    if "image" not in stages or config.docker.image is None or not docker_wanted(args.no_docker):
        return
    Docker.find(Runner())


def print_summary(
    config: Config, results: list[CellResult], elapsed: float, stream: TextIO | None = None
) -> int:
    from noxgrid.model.reason import failure_line
    from noxgrid.model.results import Status

    failed = [result for result in results if result.status is Status.FAILED]
    print(
        f"\n{len(results) - len(failed)} passed, {len(failed)} failed "
        f"in {elapsed:.1f}s; reports in {config.reports_dir}",
        file=stream or sys.stdout,
    )
    if failed:
        error = CellFailed(
            "failed cells: "
            + "; ".join(f"{r.cell.id} ({failure_line(r.first_error or '')})" for r in failed),
            fix=records_fix(config, failed),
        )
        error.exit_code = failed_exit_code(failed)
        raise error
    return 0


def failed_exit_code(failed: Sequence[CellResult]) -> int:
    """1 when a cell failed a check; else what stopped the cells, as --help's table says:
    3 an interpreter not found, 5 the index not reached (the highest of several)."""
    from noxgrid.model.results import Status

    codes = {next((s.exit_code for s in r.stages if s.status is Status.FAILED), 1) for r in failed}
    return 1 if 1 in codes else max(codes)


def records_fix(config: Config, failed: Sequence[CellResult]) -> str:
    """The fix of a run with failed cells: each cell's reason carries its own; the files
    that hold the whole of each failure, only those that exist (the failed stage's log,
    else the cell's report)."""
    shown = []
    for result in failed:
        stage = next((s for s in result.stages if s.status.value == "failed"), None)
        candidates = [Path(stage.log)] if stage is not None and stage.log else []
        candidates.append(config.reports_dir / f"{result.cell.id}.json")
        found = next((path for path in candidates if path.is_file()), None)
        if found is not None:
            shown.append(str(found))
    where = f"; the whole of it is in {', '.join(shown)}" if shown else ""
    return "the fix after each cell's reason above" + where


def run_selected(
    args: argparse.Namespace,
    config: Config,
    matrix: Matrix,
    only: Sequence[str] | None,
    stream: TextIO | None = None,
    done: list[CellResult] | None = None,
    *,
    cell_tables: bool = True,
) -> tuple[list[CellResult], float]:
    """Run the selected cells, ``args.jobs`` at a time; their results in matrix order.

    ``done`` (when given) receives each result as its cell ends, so a caller
    interrupted half-way still has the finished ones. ``cell_tables=False`` where the
    caller prints the table of every cell: each cell's own would repeat it.
    """
    from noxgrid.cell.progress import LiveProgress, choose_progress
    from noxgrid.cell.run import run_cells

    selected = list(matrix.select(args.patterns))
    jobs = max(1, args.jobs)
    docker = docker_wanted(args.no_docker)
    progress = choose_progress(
        selected, stream or sys.stdout, quiet=args.quiet, jobs=jobs, cell_tables=cell_tables
    )
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
            suite_args=getattr(args, "suite_args", ()),
            only=only,
            on_done=finished.append,
        )
    order = {cell.id: index for index, cell in enumerate(selected)}
    results = sorted(finished, key=lambda result: order.get(result.cell.id, len(order)))
    return results, time.perf_counter() - start


def report_title(config: Config) -> str:
    return f"noxgrid release report: {config.project_name or config.root.name}"
