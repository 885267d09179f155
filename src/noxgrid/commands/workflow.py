"""``noxgrid workflow``: write (or --check) the generated workflows."""

from __future__ import annotations

import argparse
import difflib
import sys

from noxgrid.commands.common import Subparsers, add_project, load_project
from noxgrid.errors import (
    LockOutdated,
)


def register_workflow(commands: Subparsers) -> None:
    """``noxgrid workflow``: its parser and its handler."""
    workflow = commands.add_parser(
        "workflow",
        help="write (or --check) the GitHub Actions workflow derived from the matrix",
        description="Write .github/workflows/ci.yml: a plan job (noxgrid matrix --github; on "
        "pull requests only the affected cells), one cell job per cell running its nox "
        "session, a checks job (noxgrid check), a release job on tags. --check fails, "
        "showing the diff, when the committed file differs from what would be written.",
    )
    add_project(workflow)
    workflow.add_argument(
        "--check", action="store_true", help="compare with the committed file instead of writing it"
    )
    workflow.set_defaults(handler=cmd_workflow)


def cmd_workflow(args: argparse.Namespace) -> int:
    """``noxgrid workflow``: write (or --check) the CI workflow and the tag workflow."""
    from noxgrid.files import atomic_write
    from noxgrid.render.actions import load_pins, outdated
    from noxgrid.render.workflow import render_workflows

    config, _matrix = load_project(args)
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
