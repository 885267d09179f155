"""``noxgrid matrix``: the cells, as a table, JSON, or the workflow's strategy.matrix."""

from __future__ import annotations

import argparse
import json
import sys

from noxgrid.commands.common import Subparsers, add_project, load_project
from noxgrid.errors import (
    SelectionError,
)


def register_matrix(commands: Subparsers) -> None:
    """``noxgrid matrix``: its parser and its handler."""
    matrix = commands.add_parser(
        "matrix",
        help="list the cells of the matrix",
        description="List the cells of the matrix, optionally only those matching PATTERNs. "
        "A pattern is a glob over cell ids (3.10-cpu-lean) or an axis value (3.10, gpu, lean).",
    )
    add_project(matrix)
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
    matrix.set_defaults(handler=cmd_matrix)


def cmd_matrix(args: argparse.Namespace) -> int:
    """``noxgrid matrix``."""
    from noxgrid.model.changes import affected
    from noxgrid.model.matrix import Matrix
    from noxgrid.render.table import matrix_table
    from noxgrid.render.workflow import cell_command, matrix_json, self_hosted
    from noxgrid.tools.git import changed_files

    config, matrix = load_project(args)
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
