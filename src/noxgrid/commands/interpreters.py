"""``noxgrid interpreters``: the interpreter each Python version of the matrix uses."""

from __future__ import annotations

import argparse
import sys

from noxgrid.commands.common import Subparsers, add_project, load_project
from noxgrid.errors import (
    NoxgridError,
)


def register_interpreters(commands: Subparsers) -> None:
    """``noxgrid interpreters``: its parser and its handler."""
    interpreters = commands.add_parser(
        "interpreters",
        help="show the interpreter each Python version of the matrix resolves to",
        description="For each Python version of the matrix, the interpreter noxgrid would "
        "use and where it was found (override, PATH, pyenv, uv), or why none was.",
    )
    add_project(interpreters)
    interpreters.set_defaults(handler=cmd_interpreters)


def cmd_interpreters(args: argparse.Namespace) -> int:
    """``noxgrid interpreters``."""
    from noxgrid.render.table import text_table
    from noxgrid.tools.interpreters import find_interpreter, verify_override

    config, matrix = load_project(args)
    rows = []
    missing = 0
    problems: list[str] = []
    for version in matrix.pythons():
        try:
            found = find_interpreter(version, overrides=config.interpreters)
            verify_override(found)
            rows.append([version, str(found.path), found.source])
        except NoxgridError as error:
            missing += 1
            problems.append(str(error))
            rows.append([version, "NOT FOUND", error.message.split(". ", 1)[-1]])
    print(text_table(["python", "interpreter", "found via"], rows))
    for problem in problems:
        sys.stderr.write(f"noxgrid: {problem}\n")
    return 3 if missing else 0
