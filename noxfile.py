"""noxgrid's own sessions: the test suite and the linters."""

from __future__ import annotations

import nox

import noxgrid

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "tests"]

# ci-lean-3.10(cpu), ci-lean-3.11(cpu): the unit suite in noxgrid's own cells; lock; release.
noxgrid.sessions()

LINTED = ["src", "tests", "examples", "benchmarks", "scripts", "noxfile.py"]


@nox.session
def tests(session: nox.Session) -> None:
    """Run the whole suite (unit, integration); pass pytest arguments after --."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format check) and mypy --strict on the package."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", *LINTED)
    session.run("ruff", "format", "--check", *LINTED)
    session.run("mypy")
