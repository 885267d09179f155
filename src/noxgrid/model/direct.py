"""What the import smoke imports: the locked distributions the project asked for. Pure."""

from __future__ import annotations

from packaging.utils import canonicalize_name

from noxgrid.model.lockfile import Lock, is_source


def direct_dependencies(lock: Lock) -> list[str]:
    """The locked distributions the project asked for, whatever declared them: a
    requirement file or pyproject.toml (``-r requirements/lean.in``, ``svc
    (pyproject.toml)``), or its build backend read through PEP 517 (``svc``: the
    project, which the lock never pins, so a name that is no package of the lock)."""
    names = []
    for package in lock.packages.values():
        if any(
            is_source(via) or canonicalize_name(via) not in lock.packages for via in package.via
        ):
            names.append(package.name)
    return sorted(names, key=str.lower)


def nothing_imported(lock: Lock) -> str:
    """Why an import smoke that imported no module had nothing to import (a note: a
    project may ask for no dependency, or only for ones without a module)."""
    direct = direct_dependencies(lock)
    if not direct:
        return (
            f"the import smoke had nothing to import: the lock installs no distribution the "
            f"project asks for ({len(lock.packages)} package(s) locked)"
        )
    shown = ", ".join(direct[:5]) + (f" and {len(direct) - 5} more" if len(direct) > 5 else "")
    return f"the import smoke had nothing to import: {shown} install(s) no importable module"
