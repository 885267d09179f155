"""``noxgrid image``: lock, image and smoke stages of the selected cells."""

from __future__ import annotations

import argparse

from noxgrid.commands.common import Subparsers, add_project


def register_image(commands: Subparsers) -> None:
    """``noxgrid image``: its parser and its handler."""
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
    add_project(image)
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
    image.set_defaults(handler=cmd_image)


def cmd_image(args: argparse.Namespace) -> int:
    """``noxgrid image``."""
    from noxgrid.commands.run import cmd_run

    return cmd_run(args, only=("lock", "image", "smoke"))
