"""``noxgrid dockerfile``: print the Dockerfile template."""

from __future__ import annotations

import argparse
import sys

from noxgrid.commands.common import Subparsers


def register_dockerfile(commands: Subparsers) -> None:
    """``noxgrid dockerfile``: its parser and its handler."""
    dockerfile = commands.add_parser(
        "dockerfile",
        help="print noxgrid's Dockerfile template",
        description="Print the Dockerfile template (one target per profile, uv in a builder "
        "stage, the lock installed with hashes in a cached layer, the app copied last, a "
        "non-root user, labels, HEALTHCHECK): noxgrid dockerfile > docker/Dockerfile",
    )
    dockerfile.set_defaults(handler=cmd_dockerfile)


def cmd_dockerfile(args: argparse.Namespace) -> int:
    """``noxgrid dockerfile``."""
    from noxgrid.render.dockerfile import TEMPLATE

    sys.stdout.write(TEMPLATE.read_text(encoding="utf-8"))
    return 0
