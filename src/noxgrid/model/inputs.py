"""What a cell's lock is made from, read from the project: requirement files (and what they
include), the project's own dependencies and extras (references to the project itself
expanded, never pinned), the forms a lock cannot hold, and the digest of it all.

Pure: reads files, starts no process. ``resolve`` runs uv on these inputs.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    canonicalize_name,
)

from noxgrid.errors import ConfigError
from noxgrid.model.buildinputs import backend_inputs
from noxgrid.model.config import Config, relative_path
from noxgrid.model.matrix import Cell

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib
from noxgrid.model.forms import is_self_reference, logical_lines, read_bytes
from noxgrid.model.lockfile import LOCK_FORMAT
from noxgrid.model.uvsettings import PYPI

_INCLUDE = re.compile(r"^\s*(-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)")


def requirement_files(paths: Iterable[Path]) -> list[Path]:
    """The files, and every file they include with -r/-c, each once, in reading order."""
    seen: list[Path] = []

    def visit(path: Path) -> None:
        path = path.resolve()
        if path in seen:
            return
        seen.append(path)
        for line in read_bytes(path).decode("utf-8").splitlines():
            match = _INCLUDE.match(line)
            if match:
                included = (path.parent / match.group(2)).resolve()
                if not included.is_file():
                    raise ConfigError(
                        f"{path}: includes {match.group(2)}, which does not exist "
                        f"(looked at {included})",
                        fix="correct the -r/-c line or create the file",
                    )
                visit(included)

    for path in paths:
        visit(path)
    return seen


@functools.lru_cache(maxsize=8)
def _parse_toml(content: bytes) -> Mapping[str, Any]:
    return tomllib.loads(content.decode("utf-8"))


def _pyproject(config: Config) -> Mapping[str, Any]:
    """The project's pyproject.toml, parsed once per content: a digest asks for its
    tables several times per cell. Read-only: the mapping is shared."""
    return _parse_toml(config.pyproject.read_bytes())


def _project_table(config: Config) -> Mapping[str, Any]:
    project = _pyproject(config).get("project", {})
    return project if isinstance(project, Mapping) else {}


def _extras_table(project: Mapping[str, Any]) -> dict[str, list[str]]:
    """The project's extras by normalized name (PEP 685: ``tests_mypy`` is ``tests-mypy``)."""
    optional = project.get("optional-dependencies", {}) or {}
    return {canonicalize_name(name): list(deps) for name, deps in optional.items()}


def expand_self(
    requirements: Iterable[str], project: str | None, extras: Mapping[str, list[str]]
) -> list[str]:
    """``requirements`` with every reference to the project itself replaced by what it
    asks for: ``attrs[tests-mypy]`` inside attrs' own extras becomes the requirements of
    its ``tests-mypy`` extra (recursively, each extra once, markers carried over). A
    lock never pins the project's own distribution: the cell installs it from the
    working tree."""
    if project is None:
        return list(requirements)
    own = canonicalize_name(project)
    result: list[str] = []
    seen: set[str] = set()

    def visit(items: Iterable[str], marker: str | None) -> None:
        for text in items:
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                result.append(_with_marker(text, marker))
                continue
            if canonicalize_name(requirement.name) != own:
                result.append(_with_marker(text, marker))
                continue
            inner = _and(marker, str(requirement.marker) if requirement.marker else None)
            for extra in sorted(canonicalize_name(e) for e in requirement.extras):
                if extra in seen:
                    continue
                seen.add(extra)
                visit(extras.get(extra, []), inner)

    visit(requirements, None)
    return result


def _and(first: str | None, second: str | None) -> str | None:
    if first and second:
        return f"({first}) and ({second})"
    return first or second


def _with_marker(text: str, marker: str | None) -> str:
    if marker is None:
        return text
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return text
    combined = _and(str(requirement.marker) if requirement.marker else None, marker)
    requirement.marker = Marker(combined) if combined else None
    return str(requirement)


def dynamic_dependencies(config: Config, cell: Cell) -> bool:
    """True when the project's dependencies are not in ``[project]`` as written (no such
    table, or ``dynamic`` names them): only its build backend knows them (PEP 517)."""
    if not config.profiles[cell.profile].install_project:
        return False
    project = _project_table(config) if config.pyproject.is_file() else {}
    dynamic = set(project.get("dynamic", []) or [])
    return not project or "dependencies" in dynamic or "optional-dependencies" in dynamic


def metadata_inputs(config: Config, *, whole: bool = False) -> list[list[str]]:
    """[name, sha256] of what the files a build backend reads the metadata from say about
    the dependencies (and the requirement files it may read them through): see
    ``model.buildinputs``; an edit elsewhere in them leaves the lock fresh. ``whole``:
    of the files' bytes, as older locks recorded them (they are still read)."""
    return backend_inputs(config.root, whole=whole)


def group_requirements(config: Config, cell: Cell) -> list[str]:
    """The requirements of the profile's dependency groups (PEP 735, include-group
    followed), references to the project itself expanded."""
    groups = config.profiles[cell.profile].groups
    if not groups:
        return []
    table = _pyproject(config).get("dependency-groups", {}) or {}
    unknown = [group for group in groups if group not in table]
    if unknown:
        raise ConfigError(
            f"{config.pyproject}: tool.noxgrid.profile.{cell.profile}.groups: no dependency "
            f"group {', '.join(repr(g) for g in unknown)} in [dependency-groups]",
            fix=f"use one of: {', '.join(table) or '(none declared)'}",
        )
    from dependency_groups import resolve as resolve_groups  # only for profiles with groups

    try:
        found = [str(item) for item in resolve_groups(table, *groups)]
    except (ValueError, LookupError) as exc:  # a cycle, a bad include-group
        raise ConfigError(
            f"{config.pyproject}: [dependency-groups]: {exc}",
            fix="correct the group (PEP 735: strings and {include-group = NAME} tables)",
        ) from exc
    project = _project_table(config)
    return expand_self(found, config.project_name, _extras_table(project))


def project_dependencies(config: Config, cell: Cell) -> list[str]:
    """The project's own requirements that belong in this cell's lock (deps + extras),
    with references to the project itself expanded (see :func:`expand_self`). Where
    they are dynamic, uv reads them from the project itself (see ``resolve``)."""
    profile = config.profiles[cell.profile]
    if not profile.install_project or dynamic_dependencies(config, cell):
        return []
    project = _project_table(config)
    deps = list(project.get("dependencies", []) or [])
    optional = _extras_table(project)
    for extra in profile.extras:
        if canonicalize_name(extra) not in optional:
            raise ConfigError(
                f"{config.pyproject}: tool.noxgrid.profile.{profile.name}.extras: "
                f"the project has no extra '{extra}'",
                fix=f"use one of: {', '.join(optional) or '(none declared)'}",
            )
        deps += optional[canonicalize_name(extra)]
    return expand_self(deps, config.project_name, optional)


def self_extras(text: str) -> tuple[str, ...]:
    """The extras of a reference to the project by path: ``-e .[tests]`` -> ("tests",)."""
    target = text.split(None, 1)[1] if text.startswith(("-e", "--editable")) else text
    target = target.split(";")[0]
    if "[" in target and target.endswith("]"):
        return tuple(e.strip() for e in target[target.index("[") + 1 : -1].split(",") if e.strip())
    return ()


def _document(
    config: Config, cell: Cell, *, legacy: bool = False
) -> tuple[dict[str, Any], list[str]]:
    """What the lock depends on, as one document, and the input files relative to the root
    (``legacy``: the backend's files by their bytes, as older locks recorded them)."""
    profile = config.profiles[cell.profile]
    accelerator = config.accelerators[cell.accelerator]
    files = requirement_files(profile.requirements)  # resolved paths
    root = config.root.resolve()
    names = [relative_path(path, root) for path in files]
    document: dict[str, Any] = {
        "format": LOCK_FORMAT,
        "cell": cell.id,
        "python": cell.python,
        "platform": config.platform,
        # The configured index only: a mirror set in uv's settings serves the same files.
        "index-url": accelerator.index_url or config.index_url or PYPI,
        "extra-index-urls": list(accelerator.extra_index_urls),
        "torch-backend": accelerator.torch_backend,
        "replace": [list(pair) for pair in accelerator.replace],
        "requirements": [
            [name, hashlib.sha256(read_bytes(path)).hexdigest()]
            for name, path in zip(names, files, strict=True)
        ],
        "project": project_dependencies(config, cell),
        "self": [ref for path in files for ref in self_references(config, path)],
    }
    if config.profiles[cell.profile].groups:
        document["groups"] = group_requirements(config, cell)
    if profile.local_packages:
        # Which local packages the lock is for, not their content: installed --no-deps,
        # an edit cannot change the resolution (the install stage installs it again).
        document["local-packages"] = local_package_names(config, cell)
    if dynamic_dependencies(config, cell):
        # What the build backend reads the dependencies from (a static [project] is above).
        document["metadata"] = metadata_inputs(config, whole=legacy)
    return document, names


def inputs_digest(config: Config, cell: Cell, *, legacy: bool = False) -> tuple[str, list[str]]:
    """(sha256 of everything the lock depends on, the input files relative to the root).
    ``legacy``: the digest a lock without ``input-digests`` was made with (a build
    backend's files counted whole); the same as the current one for other projects."""
    document, names = _document(config, cell, legacy=legacy)
    blob = json.dumps(document, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest(), names


def local_package_names(config: Config, cell: Cell) -> list[str]:
    """The profile's local packages, relative to the project root (POSIX)."""
    root = config.root.resolve()
    return [relative_path(path, root) for path in config.profiles[cell.profile].local_packages]


# How each part of the document is named to a user when it changes.
_PART_NAMES = {
    "format": "the lock format",
    "cell": "the cell",
    "project": "[project] dependencies and extras",
    "self": "the project's extras asked for by requirement files",
    "groups": "[dependency-groups]",
}


def input_digests(config: Config, cell: Cell) -> dict[str, str]:
    """Each input of the lock by the name a user knows it by (a requirement file, a key of
    the configuration, a file the build backend reads), with a short digest of it: a
    stale lock names the inputs whose digests moved."""
    document, _ = _document(config, cell)
    parts: dict[str, str] = {}
    for key, value in document.items():
        if key == "requirements":
            parts.update({name: digest[:16] for name, digest in value})
        elif key == "metadata":
            parts.update({f"{name} (build metadata)": digest[:16] for name, digest in value})
        else:
            blob = json.dumps(value, sort_keys=True).encode()
            parts[_PART_NAMES.get(key, key)] = hashlib.sha256(blob).hexdigest()[:16]
    return parts


_SELF: dict[tuple[object, ...], list[str]] = {}


def self_references(config: Config, path: Path) -> list[str]:
    """What the project's own lines in one requirement file ask for, expanded: ``-e .[tests]``
    and ``myproject[tests]`` both become the requirements of the ``tests`` extra.

    Worked out once per version of the file and of pyproject.toml: every cell of a
    profile asks for the same files."""
    stats = [p.stat() for p in (path, config.pyproject) if p.is_file()]
    key = (
        str(path),
        str(config.root),
        config.project_name,
        *((s.st_mtime_ns, s.st_size) for s in stats),
    )
    if key not in _SELF:
        _SELF[key] = _self_references(config, path)
        if len(_SELF) > 512:
            _SELF.pop(next(iter(_SELF)))
    return list(_SELF[key])


def _own_lines(config: Config, path: Path) -> list[tuple[str, tuple[str, ...], bool]]:
    """The lines of a requirement file that name the project itself, as (text, the extras
    they ask for, whether they name it by path: ``-e .[tests]``, else by name)."""
    root = config.root.resolve()
    own = canonicalize_name(config.project_name) if config.project_name else None
    found: list[tuple[str, tuple[str, ...], bool]] = []
    for _number, text in logical_lines(path):
        target = text.split(None, 1)[1] if text.startswith(("-e", "--editable")) else text
        if is_self_reference(target, path.parent, root, config.project_name):
            found.append((text, self_extras(text), True))
            continue
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if own is not None and canonicalize_name(requirement.name) == own:
            found.append((text, tuple(sorted(requirement.extras)), False))
    return found


def _self_references(config: Config, path: Path) -> list[str]:
    wanted: list[str] = []
    for text, extras, by_path in _own_lines(config, path):
        if not by_path:
            wanted.append(text)
        elif extras and config.project_name:  # nameless: uv asks the backend (PEP 517)
            wanted.append(f"{config.project_name}[{','.join(extras)}]")
    project = _project_table(config) if config.pyproject.is_file() else {}
    return expand_self(wanted, config.project_name, _extras_table(project))


def self_reference_extras(config: Config, path: Path) -> list[str]:
    """The extras a requirement file asks of the project itself (``-e .[socks]``,
    ``myproject[tests]``): where only the build backend knows what they hold, uv reads
    them from it."""
    return [extra for _text, extras, _by_path in _own_lines(config, path) for extra in extras]


def rewrite_requirements(
    text: str,
    replace: Mapping[str, str],
    *,
    drop: Callable[[str], bool] | None = None,
) -> str:
    """``text`` with each requirement named in ``replace`` renamed (specifiers kept), and
    the lines ``drop`` answers True for (the project's own) left out."""
    if not replace and drop is None:
        return text
    wanted = {canonicalize_name(old): new for old, new in replace.items()}
    lines = []
    for line in text.splitlines():
        body, _, comment = line.partition(" #")
        stripped = body.strip()
        if drop is not None and stripped and drop(stripped):
            lines.append(f"# (the project itself, expanded by noxgrid) {stripped}")
            continue
        if stripped and not stripped.startswith(("-", "#")):
            try:
                requirement = Requirement(stripped)
            except InvalidRequirement:
                lines.append(line)
                continue
            new = wanted.get(canonicalize_name(requirement.name))
            if new is not None:
                requirement.name = new
                line = str(requirement) + (f"  #{comment}" if comment else "")
        lines.append(line)
    return "\n".join(lines) + "\n"
