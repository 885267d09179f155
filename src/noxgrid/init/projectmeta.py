"""What init reads of a project's metadata: ``[project]`` where it states a field,
the build backend's PEP 517 metadata where it leaves one out or marks it dynamic."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from noxgrid.tools.metadata import Metadata

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
