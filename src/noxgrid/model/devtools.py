"""Which of a project's extras hold only developers' tools (tests, benchmarks, lint, docs).

Pure. Such an extra is no runtime profile: ``noxgrid init`` keeps it out of the
full profile, and takes one with a test runner as the lean profile's tests.
"""

from __future__ import annotations

from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

# What an extra that holds only developers' tools holds: test runners and their plugins,
# benchmark, coverage, lint, type and docs tools. Such an extra is no runtime profile.
DEV_TOOLS = {
    "pytest",
    "hypothesis",
    "coverage",
    "covdefaults",
    "mock",
    "nose",
    "nose2",
    "tox",
    "nox",
    "freezegun",
    "responses",
    "requests-mock",
    "time-machine",
    "pyperf",
    "asv",
    "nbval",
    "mypy",
    "pyright",
    "ruff",
    "flake8",
    "black",
    "isort",
    "pylint",
    "pre-commit",
    "codecov",
    "twine",
    "build",
    "check-manifest",
    "towncrier",
    "furo",
    "cogapp",
    "pympler",
    "objgraph",
    "syrupy",
    "trustme",
    "pretend",
    "virtualenv",
    "wheel",
}
DEV_PREFIXES = ("pytest-", "pytest_", "types-", "flake8-", "sphinx", "mkdocs", "myst-")
TEST_RUNNERS = ("pytest", "hypothesis", "nose", "nose2")


def requirement_names(items: Any, own: str) -> list[str] | None:
    """The canonical names an extra asks for, its references to the project's own extras
    left out; None when a line is no requirement."""
    names: list[str] = []
    for item in items or []:
        try:
            requirement = Requirement(str(item))
        except InvalidRequirement:
            return None
        name = canonicalize_name(requirement.name)
        if name != canonicalize_name(own):
            names.append(name)
    return names


def tools_only(items: Any, own: str) -> bool:
    """True when an extra holds nothing but developers' tools (tests, benchmarks, lint)."""
    names = requirement_names(items, own)
    if not names:
        return False
    return all(name in DEV_TOOLS or name.startswith(DEV_PREFIXES) for name in names)


def runs_tests(items: Any, own: str) -> bool:
    """True when an extra brings a test runner (pytest or a plugin of it, hypothesis, nose)."""
    names = requirement_names(items, own) or []
    return any(name in TEST_RUNNERS or name.startswith(("pytest-", "pytest_")) for name in names)
