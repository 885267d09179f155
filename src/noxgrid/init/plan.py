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
from noxgrid.init.axis import LeftOut
from noxgrid.init.declare import axis_lines, cpu_lines, gpu_lines
from noxgrid.init.ignores import dockerignore_fate
from noxgrid.init.repository import read_repository
from noxgrid.init.testreqs import TEST_NAMES, choose_lean
from noxgrid.model.devgroups import dev_groups
from noxgrid.model.devtools import tools_only
from noxgrid.model.gpufiles import GpuEvidence
from noxgrid.render.dockerfile import TEMPLATE
from noxgrid.tools.metadata import Metadata

# The versions an axis can hold: 3.8 and later (uv and today's wheels go no further back).
CANDIDATES = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
DEFAULT_PYTHONS = ("3.9", "3.10", "3.11")
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
    lean_groups: list[str] = field(default_factory=list)
    # Python values (or cells) left out of what the project declares, each with why.
    left_out: list[LeftOut] = field(default_factory=list)
    # The signs of a GPU build in the repository: a gpu accelerator is proposed with them.
    gpu: list[GpuEvidence] = field(default_factory=list)
    # The project asks for torch: the accelerators name uv's torch backend.
    torch: bool = False


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
    document: Mapping[str, Any] | None = None,
) -> Plan:
    """Decide the axes and profiles from ``[project]``, the rest of the pyproject
    ``document`` (its development groups) and the files under ``root``."""
    notes: list[str] = []
    left_out: list[LeftOut] = []
    pythons = _python_axis(project, available, notes, pyproject_name, left_out)
    extras = dict(project.get("optional-dependencies", {}) or {})
    own = str(project.get("name") or root.name)
    tools = [
        extra for extra in extras if extra not in NOT_RUNTIME and tools_only(extras[extra], own)
    ]
    groups = dev_groups(document or {"dependency-groups": dependency_groups or {}})
    lean = choose_lean(root, extras, groups, own, NOT_RUNTIME)
    notes.append(lean.note)
    full_extras = [extra for extra in extras if extra not in NOT_RUNTIME and extra not in tools]
    if tools:
        notes.append(
            f"the extras {', '.join(tools)} hold only test, benchmark or lint tools: "
            "no runtime profile (add one to a profile's extras if the suite needs it)"
        )
    if full_extras:
        notes.append(f"full profile: the lean one plus the extras {', '.join(full_extras)}")
    plan = Plan(
        name=own,
        pythons=pythons,
        lean_requirements=lean.requirements,
        lean_text=lean.text,
        lean_extras=lean.extras,
        full_extras=list(dict.fromkeys([*lean.extras, *full_extras])) if full_extras else [],
        notes=notes,
        lean_groups=lean.groups,
        left_out=left_out,
    )
    read_repository(plan, project, root, extras)
    return plan


def _python_axis(
    project: Mapping[str, Any],
    available: Callable[[str], bool],
    notes: list[str],
    pyproject_name: str,
    left_out: list[LeftOut],
) -> list[str]:
    """The classifiers' versions (within requires-python), else the versions it allows;
    those without an interpreter here left out (unless none has one)."""
    allowed = _versions_allowed(project.get("requires-python"), pyproject_name)
    classified = [
        match.group(1)
        for classifier in project.get("classifiers", []) or []
        if (match := _CLASSIFIER.search(str(classifier)))
    ]
    declared = [v for v in allowed if v in classified] if classified else allowed
    found = [v for v in declared if available(v)]
    if classified:
        pythons = found or declared
        notes.append(f"python axis from the classifiers: {', '.join(pythons)}")
    else:
        pythons = found or [v for v in DEFAULT_PYTHONS if v in allowed]
        notes.append(
            f"python axis: {', '.join(pythons)} (allowed by requires-python "
            f"{project.get('requires-python') or '(none)'!r}"
            + (", with an interpreter on this machine)" if found else ")")
        )
    if found:
        for version in (v for v in declared if v not in found):
            left_out.append(LeftOut(version, "no interpreter for it on this machine"))
            notes.append(
                f"left out python {version}: no interpreter for it on this machine "
                f"(install one, e.g. `uv python install {version}`, and add it to python = [...])"
            )
    elif classified:
        notes.append(
            f"no interpreter for {', '.join(pythons)} on this machine: those cells will "
            "fail until one is installed (the classifiers say the project supports them)"
        )
    if not pythons:
        raise ConfigError(
            f"{pyproject_name}: no Python version noxgrid knows ({', '.join(CANDIDATES)}) is "
            f"allowed by requires-python {project.get('requires-python')!r} and the classifiers",
            fix="widen requires-python, or write [tool.noxgrid] by hand",
        )
    return pythons


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
        *axis_lines(plan),
        f"profiles = {_toml_list(profiles)}",
        "",
        "[tool.noxgrid.profile.lean]",
        f"requirements = {_toml_list([plan.lean_requirements])}",
    ]
    groups = [f"groups = {_toml_list(plan.lean_groups)}"] if plan.lean_groups else []
    if plan.lean_extras:
        lines.append(f"extras = {_toml_list(plan.lean_extras)}")
    lines += groups
    if plan.full_extras:
        lines += [
            "",
            "[tool.noxgrid.profile.full]",
            f"requirements = {_toml_list([plan.lean_requirements])}",
            f"extras = {_toml_list(plan.full_extras)}",
            *groups,
            "# apt = []  # Debian packages the image needs (`noxgrid doctor` names them)",
        ]
    lines += [
        "",
        *cpu_lines(plan),
        *gpu_lines(plan),
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

    files[root / "pyproject.toml"] = declaration_text(plan, pyproject_text, workflow_path)
    fates.append(Written("pyproject.toml", "[tool.noxgrid] added"))
    if plan.lean_text is not None:
        offer(plan.lean_requirements, plan.lean_text)
    offer("noxfile.py", NOXFILE)
    offer("docker/Dockerfile", TEMPLATE.read_text(encoding="utf-8"))
    action, text = dockerignore_fate(root / ".dockerignore", force=force)
    if text is not None:
        files[root / ".dockerignore"] = text
    fates.append(Written(".dockerignore", action))
    ignore = gitignore_text(root / ".gitignore")
    if ignore is not None:
        files[root / ".gitignore"] = ignore
        fates.append(
            Written(
                ".gitignore", ".noxgrid/ added" if (root / ".gitignore").exists() else "written"
            )
        )
    return fates, files


def declaration_text(plan: Plan, pyproject_text: str, workflow_path: str | None) -> str:
    """pyproject.toml as init leaves it: the project's text and ``[tool.noxgrid]``."""
    return pyproject_text.rstrip("\n") + "\n" + render_table(plan, workflow_path=workflow_path)


def gitignore_text(path: Path) -> str | None:
    """The .gitignore with ``.noxgrid/`` (venvs, reports, caches: all of it is noxgrid's
    work, none of it is committed), or None when it already ignores it."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    wanted = {".noxgrid", ".noxgrid/", "/.noxgrid", "/.noxgrid/", ".noxgrid/*", "/.noxgrid/*"}
    if any(line.strip() in wanted for line in text.splitlines()):
        return None
    separator = "" if not text or text.endswith("\n") else "\n"
    return f"{text}{separator}# noxgrid's venvs, reports and caches (noxgrid init)\n.noxgrid/\n"


def workflow_choice(root: Path, force: bool) -> str | None:
    """None for the default .github/workflows/ci.yml, or another path when the project
    has its own CI workflow there (``ci.yml`` or ``ci.yaml``)."""
    folder = root / ".github" / "workflows"
    if (folder / "ci.yaml").exists() or ((folder / "ci.yml").exists() and not force):
        return ".github/workflows/noxgrid.yml"
    return None


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
