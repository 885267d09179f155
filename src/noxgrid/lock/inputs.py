"""What a cell's resolution starts from: its requirement files copied to a work folder
(the accelerator's swaps applied, the project's own lines expanded), and the
project's dependencies as one more input; the forms no lock can hold refused.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from noxgrid.errors import ConfigError
from noxgrid.model.config import Config
from noxgrid.model.forms import is_self_reference, requirement_problems
from noxgrid.model.inputs import (
    dynamic_dependencies,
    group_requirements,
    project_dependencies,
    requirement_files,
    rewrite_requirements,
    self_reference_extras,
    self_references,
)
from noxgrid.model.matrix import Cell

PROJECT_INPUT = "project-dependencies.in"


def check_forms(config: Config, cell: Cell) -> None:
    """Refuse, in one paragraph, the requirement lines no lock can hold as written."""
    files = requirement_files(config.profiles[cell.profile].requirements)
    problems = requirement_problems(config, files)
    if problems:
        lines = [f"{len(problems)} requirement line(s) of {cell.id} cannot be locked as written:"]
        lines += [f"- {where}: {problem}\n  fix: {fix}" for where, problem, fix in problems]
        raise ConfigError("\n".join(lines))


def _is_self_line(config: Config, folder: Path) -> Callable[[str], bool]:
    """A test for requirement lines that name the project itself (expanded elsewhere)."""
    own = canonicalize_name(config.project_name) if config.project_name else None
    root = config.root.resolve()

    def test(line: str) -> bool:
        target = line.split(None, 1)[1] if line.startswith(("-e ", "--editable ")) else line
        if is_self_reference(target, folder, root, config.project_name):
            return True
        if own is None or line.startswith("-"):
            return False
        try:
            return canonicalize_name(Requirement(line).name) == own
        except InvalidRequirement:
            return False

    return test


def derive_inputs(config: Config, cell: Cell, workdir: Path) -> list[str]:
    """Copy the requirement files into ``workdir`` (same layout), swaps applied.

    uv runs from ``workdir`` with the same relative paths, so its ``# via -r``
    annotations name the project's own files. Lines naming the project itself
    are left out; what they ask for (its extras' requirements) joins the
    project's own input, so the lock never pins the project.
    """
    accelerator = config.accelerators[cell.accelerator]
    replace = dict(accelerator.replace)
    root = config.root.resolve()
    expanded: list[str] = []
    for path in requirement_files(config.profiles[cell.profile].requirements):
        expanded += self_references(config, path)
        try:
            relative = path.relative_to(root)
        except ValueError:
            continue  # outside the project: included by absolute path, left as it is
        target = workdir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            rewrite_requirements(
                path.read_text(encoding="utf-8"), replace, drop=_is_self_line(config, path.parent)
            ),
            encoding="utf-8",
        )
    inputs = []
    for path in config.profiles[cell.profile].requirements:
        resolved = path.resolve()
        try:
            inputs.append(resolved.relative_to(root).as_posix())
        except ValueError:
            inputs.append(str(resolved))
    deps = project_dependencies(config, cell) + group_requirements(config, cell) + expanded
    if dynamic_dependencies(config, cell):
        # Only the build backend knows them: uv asks it (PEP 517), and the project's own
        # line is dropped from the result.
        profile = config.profiles[cell.profile]
        named = list(profile.extras)
        for path in requirement_files(profile.requirements):
            named += self_reference_extras(config, path)  # -e .[socks]: the backend knows
        named = list(dict.fromkeys(named))
        extras = f"[{','.join(named)}]" if named else ""
        deps.append(f"{root}{extras}")
    if deps:
        text = "\n".join(dict.fromkeys(deps)) + "\n"
        (workdir / PROJECT_INPUT).write_text(rewrite_requirements(text, replace), encoding="utf-8")
        inputs.append(PROJECT_INPUT)
    return inputs
