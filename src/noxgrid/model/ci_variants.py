"""CI-only files beside the production ones, and where the two disagree. Pure.

A service often keeps a file for CI next to the one it ships:
``Dockerfile.ci`` beside ``Dockerfile``, ``requirements-ci.txt`` beside
``requirements.txt``. The CI one is what tests run with; the production one
is what ships. When they state different things, CI tests something that is
not shipped:

- the two Dockerfiles build different Python versions;
- a package is pinned (``==``) in one and pinned differently, or excluded by
  the other's specifier, in the other.

Each is a :class:`~noxgrid.model.drift.Drift` with file:line and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from noxgrid.model.drift import Drift, Statement, file_statements

CI_DOCKERFILES = ("Dockerfile.ci", "Dockerfile.test", "ci.Dockerfile", "Dockerfile-ci")
CI_REQUIREMENTS = (
    "requirements-ci.txt",
    "requirements_ci.txt",
    "requirements.ci.txt",
    "ci-requirements.txt",
    "requirements/ci.txt",
)
PRODUCTION_DOCKERFILE = "Dockerfile"
PRODUCTION_REQUIREMENTS = ("requirements.txt", "requirements/prod.txt", "requirements/base.txt")


@dataclass(frozen=True)
class Variants:
    """The CI and production files of one service folder (None: not there)."""

    ci_dockerfile: Path | None
    dockerfile: Path | None
    ci_requirements: Path | None
    requirements: Path | None


def variants(root: Path) -> Variants:
    """The CI-only and production Dockerfile and requirement file of ``root``."""

    def first(names: tuple[str, ...]) -> Path | None:
        return next((root / n for n in names if (root / n).is_file()), None)

    dockerfile = root / PRODUCTION_DOCKERFILE
    return Variants(
        ci_dockerfile=first(CI_DOCKERFILES),
        dockerfile=dockerfile if dockerfile.is_file() else None,
        ci_requirements=first(CI_REQUIREMENTS),
        requirements=first(PRODUCTION_REQUIREMENTS),
    )


@dataclass(frozen=True)
class Pin:
    """One requirement line of a file: its specifier, and where."""

    name: str
    requirement: Requirement
    line: int


def read_pins(path: Path) -> dict[str, Pin]:
    """The named requirements of a requirement file (options and includes left out)."""
    found: dict[str, Pin] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return found
    for number, raw in enumerate(lines, start=1):
        text = raw.split(" #", 1)[0].strip()
        if not text or text.startswith(("#", "-")):
            continue
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        name = canonicalize_name(requirement.name)
        found.setdefault(name, Pin(name, requirement, number))
    return found


def _pinned(pin: Pin) -> str | None:
    exact = [s.version for s in pin.requirement.specifier if s.operator in ("==", "===")]
    return exact[0] if len(exact) == 1 and "*" not in exact[0] else None


def _where(path: Path, line: int, root: Path) -> str:
    try:
        return f"{path.relative_to(root).as_posix()}:{line}"
    except ValueError:
        return f"{path}:{line}"


def requirement_drift(ci: Path, production: Path, root: Path) -> list[Drift]:
    """Packages the CI file and the production file pin to versions that differ."""
    ours, theirs = read_pins(ci), read_pins(production)
    drifts = []
    for name in sorted(set(ours) & set(theirs)):
        a, b = ours[name], theirs[name]
        version_a, version_b = _pinned(a), _pinned(b)
        clash = None
        if version_a and version_b and version_a != version_b:
            clash = f"{version_a} in CI, {version_b} in production"
        elif version_a and not b.requirement.specifier.contains(version_a, prereleases=True):
            clash = f"{version_a} in CI, which production's {b.requirement.specifier} excludes"
        elif version_b and not a.requirement.specifier.contains(version_b, prereleases=True):
            clash = f"{version_b} in production, which CI's {a.requirement.specifier} excludes"
        if clash is None:
            continue
        drifts.append(
            Drift(
                where=_where(ci, a.line, root),
                message=f"{name} differs between the CI requirements and the production "
                f"ones ({_where(production, b.line, root)}): {clash}; CI tests a version "
                "that does not ship",
                fix=f"pin {name} to one version in both files (or let {ci.name} include "
                f"{production.name} with -r and drop its own line)",
            )
        )
    return drifts


def _python_of(statements: list[Statement]) -> Statement | None:
    return next((s for s in statements if s.kind == "Dockerfile"), None)


def dockerfile_drift(ci: Path, production: Path, root: Path) -> list[Drift]:
    """The CI Dockerfile building another Python than the production one."""
    built, shipped = _python_of(file_statements(ci)), _python_of(file_statements(production))
    if built is None or shipped is None or built.version == shipped.version:
        return []
    return [
        Drift(
            where=built.where(root),
            message=f"{ci.name} builds Python {built.version}, but {production.name} ships "
            f"Python {shipped.version} ({shipped.where(root)}): CI tests another interpreter",
            fix=f"use Python {shipped.version} in {ci.name} too (or change both)",
        )
    ]


def ci_variant_drift(root: Path) -> list[Drift]:
    """Every disagreement between ``root``'s CI-only files and its production ones."""
    found = variants(root)
    drifts: list[Drift] = []
    if found.ci_dockerfile and found.dockerfile:
        drifts += dockerfile_drift(found.ci_dockerfile, found.dockerfile, root)
    if found.ci_requirements and found.requirements:
        drifts += requirement_drift(found.ci_requirements, found.requirements, root)
    return drifts
