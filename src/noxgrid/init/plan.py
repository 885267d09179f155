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

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from noxgrid.errors import ConfigError
from noxgrid.init.application import Application, docker_lines
from noxgrid.init.axis import LeftOut, cap_at_tested
from noxgrid.init.cijob import CiTestJob, ci_lean, ci_pythons, read_ci_test_job
from noxgrid.init.declare import axis_lines, cpu_lines, gpu_lines
from noxgrid.init.ignores import dockerignore_fate
from noxgrid.init.repository import read_repository
from noxgrid.init.testreqs import TEST_NAMES, choose_lean
from noxgrid.model.devgroups import dev_groups
from noxgrid.model.devtools import tools_only
from noxgrid.model.flatlayout import DEFAULT_DOCKERFILE, project_dockerfile
from noxgrid.model.gpufiles import GpuEvidence
from noxgrid.model.tested_pythons import newest_tested
from noxgrid.render.dockerfile import TEMPLATE

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
    # An application, not a package (model.poetryapp): its dependencies' file and text;
    # every profile takes them first and installs no project.
    app_requirements: str | None = None
    app_text: str | None = None
    # Requirement files the profiles take besides lean_requirements (the CI job's).
    lean_more: list[str] = field(default_factory=list)
    # Where noxgrid's Dockerfile goes: out of setuptools' flat-layout discovery's way.
    dockerfile: str = DEFAULT_DOCKERFILE


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
    extras = dict(project.get("optional-dependencies", {}) or {})
    ci = read_ci_test_job(root, extras)
    pythons = _python_axis(project, available, notes, pyproject_name, left_out, ci, root)
    own = str(project.get("name") or root.name)
    tools = [
        extra for extra in extras if extra not in NOT_RUNTIME and tools_only(extras[extra], own)
    ]
    groups = dev_groups(document or {"dependency-groups": dependency_groups or {}})
    lean = choose_lean(root, extras, groups, own, NOT_RUNTIME)
    if ci is not None:
        lean = ci_lean(lean, ci, extras, own, root)
    notes += [lean.note, *(ci.notes if ci is not None else [])]
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
        lean_more=lean.more,
    )
    read_repository(plan, project, root, extras)
    plan.dockerfile, why = project_dockerfile(root)
    plan.notes += [why] if why else []
    return plan


def _python_axis(
    project: Mapping[str, Any],
    available: Callable[[str], bool],
    notes: list[str],
    pyproject_name: str,
    left_out: list[LeftOut],
    ci: CiTestJob | None = None,
    root: Path | None = None,
) -> list[str]:
    """The CI test job's versions, else the classifiers' (within requires-python), else
    the versions it allows up to the newest its own tox envlist or CI runs; those
    without an interpreter here left out (unless none has one)."""
    requires = project.get("requires-python")
    allowed = _versions_allowed(requires, pyproject_name)
    from_ci: list[str] = []
    if ci is not None and ci.pythons:
        from_ci, said, dropped = ci_pythons(ci, allowed, CANDIDATES, root or Path(), requires)
        notes += said
        left_out += dropped
    classified = _classified(project)
    declared = [v for v in allowed if v in classified] if classified else allowed
    capped: list[str] = []  # said after the axis itself
    if not classified and not from_ci:
        declared = cap_at_tested(declared, newest_tested(root or Path()), capped, left_out)
    declared = from_ci or declared
    found = [v for v in declared if available(v)]
    if from_ci:
        pythons = found or declared
    elif classified:
        pythons = found or declared
        notes.append(f"python axis from the classifiers: {', '.join(pythons)}")
    else:
        pythons = found or [v for v in DEFAULT_PYTHONS if v in allowed]
        notes.append(
            f"python axis: {', '.join(pythons)} (allowed by requires-python "
            f"{project.get('requires-python') or '(none)'!r}"
            + (", with an interpreter on this machine)" if found else ")")
        )
    notes += capped
    if found:
        for version in (v for v in declared if v not in found):
            left_out.append(LeftOut(version, "no interpreter for it on this machine"))
            notes.append(
                f"left out python {version}: no interpreter for it on this machine "
                f"(install one, e.g. `uv python install {version}`, and add it to python = [...])"
            )
    elif from_ci or classified:
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


def _classified(project: Mapping[str, Any]) -> list[str]:
    """The Python versions the project's classifiers name."""
    found = (_CLASSIFIER.search(str(c)) for c in project.get("classifiers", []) or [])
    return [match.group(1) for match in found if match]


def _toml_list(items: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(item) for item in items) + "]"


def render_table(plan: Plan, *, workflow_path: str | None = None) -> str:
    """The ``[tool.noxgrid]`` text appended to pyproject.toml."""
    profiles = ["lean", "full"] if plan.full_extras else ["lean"]
    files = [f for f in (plan.app_requirements, plan.lean_requirements, *plan.lean_more) if f]
    project = (
        [
            "# Not a package: its code is the tree, its dependencies the first file.",
            "install-project = false",
        ]
        if plan.app_requirements
        else []
    )
    lines = [
        "",
        "# ---------------------------------------------------------------- noxgrid",
        "# Written by `noxgrid init`; the reference is noxgrid's docs/reference.md.",
        "[tool.noxgrid]",
        *axis_lines(plan),
        f"profiles = {_toml_list(profiles)}",
        "",
        "[tool.noxgrid.profile.lean]",
        f"requirements = {_toml_list(files)}",
        *project,
    ]
    groups = [f"groups = {_toml_list(plan.lean_groups)}"] if plan.lean_groups else []
    if plan.lean_extras:
        lines.append(f"extras = {_toml_list(plan.lean_extras)}")
    lines += groups
    if plan.full_extras:
        lines += [
            "",
            "[tool.noxgrid.profile.full]",
            f"requirements = {_toml_list(files)}",
            *project,
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
    lines += docker_lines(plan.name, plan.application, plan.dockerfile)[1:]
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
    if plan.app_requirements and plan.app_text is not None:
        offer(plan.app_requirements, plan.app_text)
    if plan.lean_text is not None:
        offer(plan.lean_requirements, plan.lean_text)
    offer("noxfile.py", NOXFILE)
    offer(plan.dockerfile, TEMPLATE.read_text(encoding="utf-8"))
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
