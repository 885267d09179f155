"""What a cell's lock is made from, read from the project: requirement files (and what they
include), the project's own dependencies and extras (references to the project itself
expanded, never pinned), the forms a lock cannot hold, and the digest of it all.

Pure: reads files, starts no process. ``resolve`` runs uv on these inputs.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    canonicalize_name,
)

from noxgrid.errors import ConfigError
from noxgrid.model.config import Config, relative_path
from noxgrid.model.matrix import Cell

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib
from noxgrid.model.lockfile import LOCK_FORMAT

_INCLUDE = re.compile(r"^\s*(-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)")


def requirement_files(paths: Iterable[Path]) -> list[Path]:
    """The files, and every file they include with -r/-c, each once, in reading order."""
    seen: list[Path] = []

    def visit(path: Path) -> None:
        path = path.resolve()
        if path in seen:
            return
        seen.append(path)
        for line in path.read_text(encoding="utf-8").splitlines():
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


def _project_table(config: Config) -> Mapping[str, Any]:
    with config.pyproject.open("rb") as stream:
        project = tomllib.load(stream).get("project", {})
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


def project_dependencies(config: Config, cell: Cell) -> list[str]:
    """The project's own requirements that belong in this cell's lock (deps + extras),
    with references to the project itself expanded (see :func:`expand_self`)."""
    profile = config.profiles[cell.profile]
    if not profile.install_project:
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


# Options a requirement file may not set: the index a cell resolves from is the
# configuration's, recorded in its lock, never one a file sets on the side.
_INDEX_OPTIONS = {
    "-i": "index-url",
    "--index-url": "index-url",
    "--extra-index-url": "extra-index-urls",
    "-f": "find-links",
    "--find-links": "find-links",
    "--no-index": "no-index",
    "--trusted-host": "trusted-host",
    "--index": "index-url",
    "--default-index": "index-url",
}

_VCS = ("git+", "hg+", "svn+", "bzr+")

_ARCHIVES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz")


def logical_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of a requirement file: continuations joined, comments dropped."""
    result: list[tuple[int, str]] = []
    pending = ""
    start = 0
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = "" if raw.lstrip().startswith("#") else raw
        if " #" in line:
            line = line[: line.index(" #")]
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        text = (pending + line).strip()
        pending = ""
        if text:
            result.append((start, text))
    if pending.strip():
        result.append((start, pending.strip()))
    return result


def requirement_problems(config: Config, files: Sequence[Path]) -> list[tuple[str, str, str]]:
    """(file:line, problem, fix) for each line of ``files`` noxgrid cannot lock as written.

    Index options are the configuration's (``index-url``, ``extra-index-urls``),
    never a file's; VCS and local-path requirements cannot be hash-pinned. A
    direct URL to an archive is locked with its hash. A reference to the
    project itself (``-e .``, ``.[tests]``, its own name) is no problem: it
    is expanded, see :func:`expand_self`.
    """
    problems = []
    root = config.root.resolve()
    for path in files:
        where_file = relative_path(path.resolve(), root)
        for number, text in logical_lines(path):
            where = f"{where_file}:{number}"
            option = text.split()[0].split("=", 1)[0]
            if option in _INDEX_OPTIONS:
                key = _INDEX_OPTIONS[option]
                fix = (
                    'set it once for every cell: index-url = "..." in [tool.noxgrid] (or in '
                    "[tool.noxgrid.accelerator.<name>]), then noxgrid lock"
                    if key == "index-url"
                    else 'list it in extra-index-urls = ["..."] of [tool.noxgrid.accelerator.'
                    "<name>] (the explicit opt-in for a second index; the lock records the "
                    "index of every package), then noxgrid lock"
                    if key == "extra-index-urls"
                    else "remove it: noxgrid resolves from the configured index alone"
                )
                problems.append(
                    (
                        where,
                        f"`{text}`: a requirement file may not choose the index ({option})",
                        fix,
                    )
                )
                continue
            if text.startswith("-") and not text.startswith(("-e", "--editable")):
                continue  # -r/-c are followed elsewhere; other options pass through to uv
            target = text.split(None, 1)[1] if text.startswith(("-e", "--editable")) else text
            if is_self_reference(target, path.parent, root, config.project_name):
                continue
            problem = _form_problem(target, path.parent)
            if problem:
                problems.append((where, f"`{text}`: {problem[0]}", problem[1]))
    return problems


def _url_of(text: str) -> str | None:
    """The URL of a direct-URL requirement (``name @ URL`` or a bare URL), else None."""
    head = text.split(";")[0].strip()
    if "@" in head and "://" in head.split("@", 1)[1]:
        return head.split("@", 1)[1].strip()
    if "://" in head:
        return head
    return None


def _form_problem(text: str, folder: Path) -> tuple[str, str] | None:
    url = _url_of(text)
    if url is not None:
        if url.startswith(_VCS):
            return (
                "a VCS requirement cannot be hash-pinned, so it cannot be part of a lock",
                "pin a released version (name==X.Y), or a URL to a built archive "
                "(name @ https://.../name-X.Y-py3-none-any.whl), which is locked with its hash",
            )
        if url.startswith("file:"):
            return (
                "a local path cannot be hash-pinned in a lock every machine shares",
                "publish it to the index, or point at a built archive by https URL",
            )
        path = url.split("#", 1)[0].split("?", 1)[0]
        if not path.endswith(_ARCHIVES):
            return (
                f"the direct URL {url} does not name an archive (.whl, .tar.gz, .zip)",
                "point at a wheel or an sdist; uv locks it with its hash",
            )
        return None
    name = text.split(";")[0].strip()
    if name.startswith((".", "/", "~")) or ("/" in name and (folder / name).exists()):
        return (
            "a local path cannot be hash-pinned in a lock every machine shares",
            "publish it to the index, or point at a built archive by https URL",
        )
    return None


def is_self_reference(text: str, folder: Path, root: Path, project: str | None) -> bool:
    """True for ``.``, ``./``, ``.[extra]`` or a path to the project's root."""
    target = text.split(";")[0].strip()
    target = target.split("[", 1)[0] if not target.startswith("file:") else target[5:]
    if not target or "://" in target or not target.startswith((".", "/", "~")):
        return False
    # pip reads a relative path from the working directory, uv from the file's folder:
    # either one naming the project's root is the project.
    try:
        return any((base / Path(target).expanduser()).resolve() == root for base in (folder, root))
    except OSError:
        return False


def self_extras(text: str) -> tuple[str, ...]:
    """The extras of a reference to the project by path: ``-e .[tests]`` -> ("tests",)."""
    target = text.split(None, 1)[1] if text.startswith(("-e", "--editable")) else text
    target = target.split(";")[0]
    if "[" in target and target.endswith("]"):
        return tuple(e.strip() for e in target[target.index("[") + 1 : -1].split(",") if e.strip())
    return ()


def inputs_digest(config: Config, cell: Cell) -> tuple[str, list[str]]:
    """(sha256 of everything the lock depends on, the input files relative to the root)."""
    profile = config.profiles[cell.profile]
    accelerator = config.accelerators[cell.accelerator]
    files = requirement_files(profile.requirements)
    names = [relative_path(path.resolve(), config.root.resolve()) for path in files]
    document: dict[str, Any] = {
        "format": LOCK_FORMAT,
        "cell": cell.id,
        "python": cell.python,
        "platform": config.platform,
        "index-url": accelerator.index_url or config.index_url,
        "extra-index-urls": list(accelerator.extra_index_urls),
        "torch-backend": accelerator.torch_backend,
        "replace": [list(pair) for pair in accelerator.replace],
        "requirements": [
            [name, hashlib.sha256(path.read_bytes()).hexdigest()]
            for name, path in zip(names, files, strict=True)
        ],
        "project": project_dependencies(config, cell),
        "self": [ref for path in files for ref in self_references(config, path)],
    }
    blob = json.dumps(document, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest(), names


def self_references(config: Config, path: Path) -> list[str]:
    """What the project's own lines in one requirement file ask for, expanded: ``-e .[tests]``
    and ``myproject[tests]`` both become the requirements of the ``tests`` extra."""
    root = config.root.resolve()
    own = canonicalize_name(config.project_name) if config.project_name else None
    wanted: list[str] = []
    for _number, text in logical_lines(path):
        target = text.split(None, 1)[1] if text.startswith(("-e", "--editable")) else text
        if is_self_reference(target, path.parent, root, config.project_name):
            extras = self_extras(text)
            wanted.append(f"{config.project_name}[{','.join(extras)}]" if extras else "")
            continue
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if own is not None and canonicalize_name(requirement.name) == own:
            wanted.append(text)
    project = _project_table(config) if config.pyproject.is_file() else {}
    return expand_self([w for w in wanted if w], config.project_name, _extras_table(project))


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
