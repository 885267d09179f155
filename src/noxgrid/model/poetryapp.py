"""A poetry project that is an application, not a package: ``package-mode = false`` in
``[tool.poetry]``, or nothing for poetry to build (no ``packages`` and no module named
after the project, at the root or under ``src/``). Its build backend cannot build it,
so noxgrid does not install it: its code is the tree (``install-project = false``) and
its ``[tool.poetry.dependencies]`` become a requirements input, in PEP 508.

Pure: reads a parsed pyproject.toml; whether a path exists is asked of ``exists``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name

from noxgrid.model.devgroups import poetry_specifier, poetry_table

APP_REQUIREMENTS = "requirements/app.in"


@dataclass(frozen=True)
class PoetryApp:
    """What init reads of a poetry application."""

    name: str
    why: str  # why it is not a package, for init's note
    requires_python: str | None
    classifiers: tuple[str, ...]
    requirements: tuple[str, ...]
    untranslated: tuple[str, ...]

    def project(self) -> dict[str, Any]:
        """The fields init reads of ``[project]``, as this application states them."""
        found: dict[str, Any] = {
            "name": self.name,
            "classifiers": list(self.classifiers),
            "dependencies": list(self.requirements),
        }
        if self.requires_python:
            found["requires-python"] = self.requires_python
        return found

    def requirements_text(self) -> str:
        """``requirements/app.in``: the dependencies, and what had no PEP 508 form."""
        lines = [
            "# From [tool.poetry.dependencies] (noxgrid init). The project is not a package:",
            f"# {self.why}.",
            "# noxgrid installs these instead of the project; keep the two in step.",
            *self.requirements,
        ]
        lines += [
            f"# not translated (no PEP 508 form; add it by hand): {u}" for u in self.untranslated
        ]
        return "\n".join(lines) + "\n"


def _module_candidates(name: str) -> list[str]:
    module = canonicalize_name(name).replace("-", "_")
    return [module, f"{module}.py", f"src/{module}", f"src/{module}.py"]


def not_a_package(poetry: Mapping[str, Any], exists: Callable[[str], bool]) -> str | None:
    """Why poetry has nothing to build here, or None when it builds a package."""
    if poetry.get("package-mode") is False:
        return "package-mode = false in [tool.poetry]"
    if poetry.get("packages"):
        return None
    name = str(poetry.get("name") or "")
    if not name:
        return "[tool.poetry] names no package"
    candidates = _module_candidates(name)
    if any(exists(path) for path in candidates):
        return None
    return f"no `packages` in [tool.poetry] and no {candidates[0]}/ or {candidates[1]} to build"


def poetry_application(
    document: Mapping[str, Any], exists: Callable[[str], bool]
) -> PoetryApp | None:
    """The poetry application the pyproject ``document`` declares, or None (no
    ``[tool.poetry]``, or a package poetry can build)."""
    poetry = (document.get("tool") or {}).get("poetry")
    if not isinstance(poetry, Mapping):
        return None
    why = not_a_package(poetry, exists)
    if why is None:
        return None
    project = document.get("project")
    project = project if isinstance(project, Mapping) else {}
    deps = poetry.get("dependencies") or {}
    translated, untranslated = poetry_table(deps)
    requirements = [str(r) for r in project.get("dependencies", []) or []] + translated
    table = deps if isinstance(deps, Mapping) else {}
    stated = [value for key, value in table.items() if str(key).lower() == "python"]
    python = poetry_specifier(str(stated[-1])) if stated else None
    return PoetryApp(
        name=str(project.get("name") or poetry.get("name") or "app"),
        why=why,
        requires_python=project.get("requires-python") or python or None,
        classifiers=tuple(str(c) for c in poetry.get("classifiers", []) or []),
        requirements=tuple(requirements),
        untranslated=tuple(untranslated),
    )


def app_drift(app: PoetryApp, names: set[str]) -> tuple[list[str], list[str]]:
    """(the dependencies ``[tool.poetry.dependencies]`` declares that the requirements
    file's canonical ``names`` lack, the names the file has that poetry does not
    declare). Versions are not compared: a pin in place of a git branch is an edit."""
    declared: dict[str, str] = {}
    for line in [*app.requirements, *app.untranslated]:
        name = re.split(r"[\s\[=<>!~;@]", line, maxsplit=1)[0]
        declared.setdefault(canonicalize_name(name), name)
    missing = [shown for name, shown in declared.items() if name not in names]
    extra = sorted(name for name in names if name not in declared)
    return missing, extra
