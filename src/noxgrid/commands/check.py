"""``noxgrid check``: every kind of drift, each with file:line and the fix."""

from __future__ import annotations

import argparse
import json

from noxgrid.commands.common import Subparsers, add_project, load_project


def register_check(commands: Subparsers) -> None:
    """``noxgrid check``: its parser and its handler."""
    check = commands.add_parser(
        "check",
        help="every kind of drift: Python versions, locks, workflow, policy",
        description="Check every Python version written anywhere (requires-python, "
        "classifiers of pyproject.toml, setup.cfg and setup.py, Dockerfiles (on an OS base, "
        "what they install), workflows, .python-version, tox.ini, noxfiles) against "
        "the matrix, the locks' freshness and policy (and locks whose cell left the "
        "matrix), and the workflow's freshness. Files matching [tool.noxgrid.check] ignore "
        "are left out. One finding per fact (a version written in 33 places is one, naming "
        "them). Exits 1 on any finding, each with file:line and the fix.",
    )
    add_project(check)
    check.add_argument("--json", action="store_true", help="print JSON for machines")
    check.set_defaults(handler=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    """``noxgrid check``."""
    from noxgrid.check.findings import check_findings

    config, matrix = load_project(args)
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
