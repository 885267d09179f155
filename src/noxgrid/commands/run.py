"""``noxgrid run``: the selected cells, every stage, reports."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from noxgrid.commands.common import (
    Subparsers,
    add_project,
    load_project,
    print_summary,
    require_engine,
    run_selected,
)


def register_run(commands: Subparsers) -> None:
    """``noxgrid run``: its parser and its handler."""
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
    add_project(run)
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
    run.set_defaults(handler=cmd_run)


def cmd_run(args: argparse.Namespace, only: Sequence[str] | None = None) -> int:
    """``noxgrid run`` (and ``noxgrid image``, which runs only lock, image and smoke)."""
    from noxgrid.render.table import timings_table

    config, matrix = load_project(args)
    matrix.select(args.patterns)  # a bad pattern is exit 2 before the engine is asked
    require_engine(args, config, only)
    results, elapsed = run_selected(args, config, matrix, only, cell_tables=False)
    print()
    print(timings_table(results))
    return print_summary(config, results, elapsed)
