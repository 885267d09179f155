"""The noxgrid command line: the only place that prints results and exits.

Errors are one paragraph (what, where, fix); ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from noxgrid._version import __version__
from noxgrid.commands.check import register_check
from noxgrid.commands.dockerfile import register_dockerfile
from noxgrid.commands.doctor import register_doctor
from noxgrid.commands.image import register_image
from noxgrid.commands.init import register_init
from noxgrid.commands.interpreters import register_interpreters
from noxgrid.commands.lock import register_lock
from noxgrid.commands.matrix import register_matrix
from noxgrid.commands.release import register_release
from noxgrid.commands.report import register_report
from noxgrid.commands.run import register_run
from noxgrid.commands.workflow import register_workflow
from noxgrid.errors import (
    NoxgridError,
)
from noxgrid.tools.runner import sigterm_as_interrupt

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
  3    an interpreter of the matrix was not found, or an override is not
       its version (noxgrid interpreters; run, when that is all that failed)
  4    a program noxgrid needs could not run (uv, git)
  5    the package index could not be reached (uv's message is shown; uv
       offline with a cache that lacks the packages too), or sizes could not
       be read from it (noxgrid lock --allow-unsized to go on)
  6    no usable Docker client or engine (NOXGRID_DOCKER, the engine's
       socket, BuildKit); --no-docker skips the image and smoke stages
  130  interrupted (Ctrl-C, SIGTERM); reports of finished cells are kept
"""


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
    for register in REGISTER:
        register(commands)
    return parser


# Every command, in the order --help lists them: each module adds its parser and handler.
REGISTER = (
    register_matrix,
    register_run,
    register_image,
    register_doctor,
    register_dockerfile,
    register_lock,
    register_workflow,
    register_check,
    register_interpreters,
    register_report,
    register_release,
    register_init,
)
# The commands that run the suite, and so take its arguments after `--`.
SUITE_COMMANDS = ("run", "release")
COMMANDS = tuple(register.__name__.removeprefix("register_") for register in REGISTER)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``noxgrid`` and ``python -m noxgrid``."""
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    # After `--`, the suite's own arguments: `noxgrid run lean -- -k slow` reaches pytest.
    suite_args: list[str] = []
    if "--" in words:
        at = words.index("--")
        words, suite_args = words[:at], words[at + 1 :]
    args = parser.parse_args(words)
    if args.command is None:
        parser.print_help()
        return 2
    if suite_args and args.command not in SUITE_COMMANDS:
        parser.error(
            f"arguments after -- go to the test suite: {args.command} runs none "
            f"({', '.join(SUITE_COMMANDS)} do)"
        )
    args.suite_args = tuple(suite_args)
    try:
        with sigterm_as_interrupt():
            code: int = args.handler(args)
            return code
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
