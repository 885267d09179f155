"""``noxgrid init``: scaffold an existing repository from what its pyproject.toml says.

The plan (pure) reads ``[project]``: the python axis from ``requires-python``
and the version classifiers (and the interpreters this machine has, where the
project states no versions), the lean profile from the project's own test
requirements (a requirements file, a test extra, a dependency group; pytest
when it has none), a full profile from its other extras. The scaffold (edge)
writes what is missing, never what exists unless forced, then locks every
cell and writes the workflow, so that ``noxgrid check`` passes right after.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from noxgrid.errors import ConfigError
from noxgrid.init.application import Application, docker_lines
from noxgrid.model.devtools import runs_tests, tools_only
from noxgrid.model.testoptions import project_test_options
from noxgrid.render.dockerfile import TEMPLATE, default_dockerignore
from noxgrid.tools.metadata import Metadata

# The versions an axis can hold: 3.8 and later (uv and today's wheels go no further back).
CANDIDATES = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
DEFAULT_PYTHONS = ("3.9", "3.10", "3.11")
TEST_NAMES = ("test", "tests", "testing")
NOT_RUNTIME = {
    *TEST_NAMES,
    "dev",
    "doc",
    "docs",
    "lint",
    "linting",
    "typing",
    "type",
    "types",
    "check",
    "cover",
    "coverage",
    "enabler",
    "style",
    "all",
}
TEST_FILES = (
    "requirements/tests.in",
    "requirements/test.in",
    "requirements/testing.in",
    "requirements-tests.in",
    "requirements-test.in",
    "test-requirements.in",
    "requirements/tests.txt",
    "requirements/test.txt",
    "requirements-tests.txt",
    "requirements-test.txt",
    "test-requirements.txt",
    "requirements-dev.txt",
    "dev-requirements.txt",
    "requirements/dev.txt",
    "requirements/dev.in",
)
_CLASSIFIER = re.compile(r"Programming Language :: Python :: (3\.\d+)$")
NOXFILE = '''"""nox sessions from [tool.noxgrid] (written by `noxgrid init`).

    nox -l                      every cell as a session
    nox -s ci-lean              every lean cell
    nox -s lock                 refresh the locks
    nox -s release              every cell, every image, one report
"""

import noxgrid

noxgrid.sessions()
'''


@dataclass
class Plan:
    """What init will declare and write."""

    name: str
    pythons: list[str]
    lean_requirements: str
    lean_text: str | None
    lean_extras: list[str] = field(default_factory=list)
    full_extras: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    suite_args: list[str] = field(default_factory=list)
    # The application and health route read from the code (init.application); None: unread.
    application: Application | None = None


def _versions_allowed(requires: str | None, where: str) -> list[str]:
    if not requires:
        return list(CANDIDATES)
    try:
        spec = SpecifierSet(requires)
    except InvalidSpecifier as exc:
        raise ConfigError(
            f"{where}: project.requires-python {requires!r} is not a version specifier",
            fix='write it as in PEP 440, e.g. requires-python = ">=3.9"',
        ) from exc
    return [v for v in CANDIDATES if spec.contains(f"{v}.0", prereleases=True)]


def plan_init(
    project: Mapping[str, Any],
    root: Path,
    *,
    available: Callable[[str], bool],
    dependency_groups: Mapping[str, Any] | None = None,
    pyproject_name: str = "pyproject.toml",
) -> Plan:
    """Decide the axes and profiles from ``[project]`` and the files under ``root``."""
    notes: list[str] = []
    pythons = _python_axis(project, available, notes, pyproject_name)
    extras = dict(project.get("optional-dependencies", {}) or {})
    own = str(project.get("name") or root.name)
    tools = [
        extra for extra in extras if extra not in NOT_RUNTIME and tools_only(extras[extra], own)
    ]
    lean_requirements, lean_text, lean_extras = _lean_profile(
        root, extras, dict(dependency_groups or {}), notes, own
    )
    full_extras = [extra for extra in extras if extra not in NOT_RUNTIME and extra not in tools]
    if tools:
        notes.append(
            f"the extras {', '.join(tools)} hold only test, benchmark or lint tools: "
            "no runtime profile (add one to a profile's extras if the suite needs it)"
        )
    if full_extras:
        notes.append(f"full profile: the lean one plus the extras {', '.join(full_extras)}")
    options = project_test_options(root)
    suite_args: list[str] = []
    if options is not None and options.args:
        suite_args = list(options.args)
        notes.append(
            f"suite command: pytest {shlex.join(suite_args)}, the options the project's own CI "
            f"passes ({options.where})"
        )
    return Plan(
        name=str(project.get("name") or root.name),
        pythons=pythons,
        lean_requirements=lean_requirements,
        lean_text=lean_text,
        lean_extras=lean_extras,
        full_extras=[*lean_extras, *full_extras] if full_extras else [],
        notes=notes,
        suite_args=suite_args,
    )


def _python_axis(
    project: Mapping[str, Any],
    available: Callable[[str], bool],
    notes: list[str],
    pyproject_name: str,
) -> list[str]:
    """The classifiers' versions (within requires-python), else those with an interpreter."""
    allowed = _versions_allowed(project.get("requires-python"), pyproject_name)
    classified = [
        match.group(1)
        for classifier in project.get("classifiers", []) or []
        if (match := _CLASSIFIER.search(str(classifier)))
    ]
    if classified:
        pythons = [v for v in allowed if v in classified]
        notes.append(f"python axis from the classifiers: {', '.join(pythons)}")
        missing = [v for v in pythons if not available(v)]
        if missing:
            notes.append(
                f"no interpreter for {', '.join(missing)} on this machine: those cells will "
                "fail until one is installed (the classifiers say the project supports them)"
            )
    else:
        found = [v for v in allowed if available(v)]
        pythons = found or [v for v in DEFAULT_PYTHONS if v in allowed]
        notes.append(
            f"python axis: {', '.join(pythons)} (allowed by requires-python "
            f"{project.get('requires-python') or '(none)'!r}"
            + (", with an interpreter on this machine)" if found else ")")
        )
    if not pythons:
        raise ConfigError(
            f"{pyproject_name}: no Python version noxgrid knows ({', '.join(CANDIDATES)}) is "
            f"allowed by requires-python {project.get('requires-python')!r} and the classifiers",
            fix="widen requires-python, or write [tool.noxgrid] by hand",
        )
    return pythons


def _lean_profile(
    root: Path, extras: Mapping[str, Any], groups: Mapping[str, Any], notes: list[str], own: str
) -> tuple[str, str | None, list[str]]:
    """(requirement file, its text to write or None, extras) of the lean profile: the
    project's own test requirements, its test extra (by name, else a developers' extra
    with a test runner), its test dependency group, or pytest."""
    existing = next((path for path in TEST_FILES if (root / path).is_file()), None)
    if existing:
        notes.append(f"lean profile: the project's own {existing}")
        return existing, None, []
    test_extra = next((extra for extra in TEST_NAMES if extra in extras), None) or next(
        (
            extra
            for extra, items in extras.items()
            if (extra in NOT_RUNTIME or tools_only(items, own)) and runs_tests(items, own)
        ),
        None,
    )
    if test_extra:
        notes.append(f"lean profile: the project with its '{test_extra}' extra")
        text = (
            f"# The tests' tools come with the project's '{test_extra}' extra "
            "(profile extras);\n# add here what else the lean cells need.\n"
        )
        return "requirements/lean.in", text, [test_extra]
    test_group = next((group for group in (*TEST_NAMES, "dev") if group in groups), None)
    if test_group:
        wanted = [str(item) for item in groups[test_group] or [] if isinstance(item, str)]
        notes.append(f"lean profile: [dependency-groups] {test_group}")
        text = f"# From [dependency-groups] {test_group} (noxgrid init).\n" + "".join(
            f"{line}\n" for line in wanted or ["pytest"]
        )
        return "requirements/lean.in", text, []
    notes.append("lean profile: pytest (no test requirements declared)")
    return (
        "requirements/lean.in",
        "# What the test suite needs (noxgrid init found nothing declared).\npytest\n",
        [],
    )


def _toml_list(items: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(item) for item in items) + "]"


def render_table(plan: Plan, *, workflow_path: str | None = None) -> str:
    """The ``[tool.noxgrid]`` text appended to pyproject.toml."""
    profiles = ["lean", "full"] if plan.full_extras else ["lean"]
    lines = [
        "",
        "# ---------------------------------------------------------------- noxgrid",
        "# Written by `noxgrid init`; the reference is noxgrid's docs/reference.md.",
        "[tool.noxgrid]",
        f"python = {_toml_list(plan.pythons)}",
        'accelerators = ["cpu"]',
        f"profiles = {_toml_list(profiles)}",
        "",
        "[tool.noxgrid.profile.lean]",
        f"requirements = {_toml_list([plan.lean_requirements])}",
    ]
    if plan.lean_extras:
        lines.append(f"extras = {_toml_list(plan.lean_extras)}")
    if plan.full_extras:
        lines += [
            "",
            "[tool.noxgrid.profile.full]",
            f"requirements = {_toml_list([plan.lean_requirements])}",
            f"extras = {_toml_list(plan.full_extras)}",
            "# apt = []  # Debian packages the image needs (`noxgrid doctor` names them)",
        ]
    lines += [
        "",
        "[tool.noxgrid.accelerator.cpu]",
        'base-image = "python:{python}-slim-bookworm"',
        "",
        "[tool.noxgrid.suite]",
        f"command = {_toml_list(['pytest', *plan.suite_args])}",
        "",
    ]
    lines += docker_lines(plan.name, plan.application)[1:]
    if workflow_path:
        lines += ["", "[tool.noxgrid.workflow]", f'path = "{workflow_path}"']
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Written:
    """One file init wrote or left alone, and why."""

    path: str
    action: str


def scaffold_files(
    root: Path, plan: Plan, *, force: bool, pyproject_text: str, workflow_path: str | None
) -> tuple[list[Written], dict[Path, str]]:
    """What to write (path -> text) and what each file's fate is; pure."""
    files: dict[Path, str] = {}
    fates: list[Written] = []

    def offer(relative: str, text: str) -> None:
        path = root / relative
        if path.exists() and not force:
            fates.append(Written(relative, "kept (exists; --force replaces it)"))
            return
        files[path] = text
        fates.append(Written(relative, "replaced" if path.exists() else "written"))

    files[root / "pyproject.toml"] = (
        pyproject_text.rstrip("\n") + "\n" + render_table(plan, workflow_path=workflow_path)
    )
    fates.append(Written("pyproject.toml", "[tool.noxgrid] added"))
    if plan.lean_text is not None:
        offer(plan.lean_requirements, plan.lean_text)
    offer("noxfile.py", NOXFILE)
    offer("docker/Dockerfile", TEMPLATE.read_text(encoding="utf-8"))
    offer(".dockerignore", default_dockerignore())
    return fates, files


def workflow_choice(root: Path, force: bool) -> str | None:
    """None for the default .github/workflows/ci.yml, or another path when that one exists."""
    default = root / ".github" / "workflows" / "ci.yml"
    if not default.exists() or force:
        return None
    return ".github/workflows/noxgrid.yml"


def summary(fates: Sequence[Written]) -> str:
    """One line per file."""
    width = max((len(fate.path) for fate in fates), default=0)
    return "\n".join(f"  {fate.path.ljust(width)}  {fate.action}" for fate in fates)


# What init reads of a project; where [project] does not state one, the backend does.
READ_FIELDS = ("name", "requires-python", "classifiers", "dependencies", "optional-dependencies")


def needs_backend(project: Mapping[str, Any]) -> bool:
    """True when ``[project]`` leaves out (or marks dynamic) a field init reads."""
    dynamic = set(project.get("dynamic", []) or [])
    return not project or any(key in dynamic for key in READ_FIELDS) or "name" not in project


def merged_project(project: Mapping[str, Any], metadata: Metadata) -> dict[str, Any]:
    """``[project]`` with what it does not state taken from the backend's metadata."""
    optional: dict[str, list[str]] = {extra: [] for extra in metadata.provides_extra}
    dependencies = []
    for text in metadata.requires_dist:
        extra, requirement = _split_extra(text)
        if extra is None:
            dependencies.append(requirement)
        else:
            optional.setdefault(extra, []).append(requirement)
    found: dict[str, Any] = {
        "name": metadata.name,
        "requires-python": metadata.requires_python,
        "classifiers": list(metadata.classifiers),
        "dependencies": dependencies,
        "optional-dependencies": optional,
    }
    dynamic = set(project.get("dynamic", []) or [])
    merged = dict(project)
    for key, value in found.items():
        if (key not in merged or key in dynamic) and value not in (None, [], {}):
            merged[key] = value
    return merged


def _split_extra(text: str) -> tuple[str | None, str]:
    """(the extra a Requires-Dist belongs to or None, the requirement without that clause)."""
    requirement = Requirement(text)
    marker = str(requirement.marker) if requirement.marker else ""
    match = _EXTRA.search(marker)
    if match is None:
        return None, text
    rest = _EXTRA.sub("", marker).strip()
    rest = re.sub(r"^\s*and\s+|\s+and\s*$", "", rest).strip()
    rest = rest.removeprefix("(").removesuffix(")") if rest.count("(") == 1 else rest
    requirement.marker = Marker(rest) if rest else None
    return canonicalize_name(match.group(1)), str(requirement)


_EXTRA = re.compile(r"""(?:\band\s+)?extra\s*==\s*['"]([^'"]+)['"](?:\s+and\b)?""")
