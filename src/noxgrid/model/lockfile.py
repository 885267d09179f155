"""Per-cell locks: their inputs, their header, and what a resolved lock says.

Pure: reads requirement files, starts no process. ``locking.py`` runs uv.

A lock is ``<locks>/<cell>.txt``: uv's hash-pinned output with ``# via`` and
``# from <index>`` annotations, under a header that records two digests. The
inputs digest covers the requirement files (and those they include), the
project's own dependencies where it is part of the lock, the python, the
platform and the accelerator's rules; not the noxgrid or uv versions, which
are recorded but do not make a lock stale. The body digest covers the lock's
own text (every line but its own): a lock edited by hand, a package line
added or a hash changed, no longer matches it and is refused.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion

from noxgrid.errors import ConfigError
from noxgrid.model.config import Config, relative_path
from noxgrid.model.matrix import Cell

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

LOCK_FORMAT = 1
_INCLUDE = re.compile(r"^\s*(-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(==|@)\s*([^\s;\\]+)")
_HEADER = re.compile(r"^#\s*([a-z0-9-]+):\s*(.*)$")
BODY_KEY = "body-sha256"
_BODY_LINE = re.compile(rf"^#\s*{BODY_KEY}:[^\n]*(?:\n|$)", re.MULTILINE)


def body_digest(text: str) -> str:
    """sha256 of a lock's text without its own ``# body-sha256:`` line (line endings as LF)."""
    normal = text.replace("\r\n", "\n")
    without = _BODY_LINE.sub("", normal)
    return hashlib.sha256(without.encode("utf-8")).hexdigest()


def seal(text: str) -> str:
    """``text`` with its body digest inserted after the header's inputs digest (or on top)."""
    digest = body_digest(text)
    lines = text.split("\n")
    at = next(
        (i + 1 for i, line in enumerate(lines) if line.startswith("# inputs-sha256:")),
        0,
    )
    lines.insert(at, f"# {BODY_KEY}: {digest}")
    return "\n".join(lines)


def lock_path(config: Config, cell: Cell) -> Path:
    """Where the lock of ``cell`` lives."""
    return config.locks_dir / f"{cell.id}.txt"


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


@dataclass(frozen=True, kw_only=True)
class LockedPackage:
    """One pinned package of a lock, what pulled it in, and where it came from.

    ``url`` is set for a direct-URL requirement (``name @ https://...``), whose
    version the lock does not state (``version`` is then taken from a wheel's
    file name where it can be, else empty); ``index`` is the index uv took
    the package from (its ``# from`` annotation).
    """

    name: str
    version: str
    hashes: tuple[str, ...]
    via: tuple[str, ...]
    url: str | None = None
    index: str | None = None


@dataclass(frozen=True, kw_only=True)
class Lock:
    """A parsed lock: its header fields, its packages by canonical name, its body digest."""

    header: Mapping[str, str]
    packages: Mapping[str, LockedPackage] = field(default_factory=dict)
    computed_body: str | None = None

    @property
    def digest(self) -> str | None:
        """The inputs digest the lock was made from."""
        return self.header.get("inputs-sha256")

    @property
    def body_state(self) -> str:
        """``"sealed"`` when the recorded body digest matches the text, ``"unsealed"``
        when there is none (a lock by an older noxgrid, or written by hand), else
        ``"edited"``."""
        recorded = self.header.get(BODY_KEY)
        if not recorded:
            return "unsealed"
        return "sealed" if recorded == self.computed_body else "edited"

    def source_builds(self) -> list[str]:
        """``name==version`` of each package the lock records as built from source."""
        value = self.header.get("source-builds", "none")
        return [] if value in ("", "none") else [item.strip() for item in value.split(",")]

    def header_bytes(self, key: str) -> int | None:
        """A size recorded in the header (``download-bytes``, ``installed-bytes``)."""
        value = self.header.get(key, "")
        return int(value) if value.isdigit() else None

    def largest(self) -> list[tuple[str, int]]:
        """The ten largest packages recorded in the header, as (name==version, bytes)."""
        result = []
        for item in self.header.get("largest", "").split(", "):
            name, _, size = item.rpartition("=")
            if name and size.isdigit():
                result.append((name, int(size)))
        return result

    def chain(self, name: str) -> list[str]:
        """The shortest path from ``name`` up to a requirement file that asked for it.

        ``["triton", "torch", "sentence-transformers", "requirements/full.in"]``
        """
        start = canonicalize_name(name)
        if start not in self.packages:
            return [name]
        queue: deque[list[str]] = deque([[start]])
        seen = {start}
        while queue:
            path = queue.popleft()
            package = self.packages.get(path[-1])
            if package is None:
                continue
            for parent in package.via:
                if is_source(parent):
                    return [self.packages[p].name if p in self.packages else p for p in path] + [
                        _source_name(parent)
                    ]
                key = canonicalize_name(parent)
                if key not in seen:
                    seen.add(key)
                    queue.append([*path, key])
        return [self.packages[start].name]


def is_source(via: str) -> bool:
    """True for a ``# via`` entry naming a requirement file or pyproject.toml, not a package."""
    return via.startswith(("-r ", "-c ")) or "(" in via


def _source_name(via: str) -> str:
    if via.startswith(("-r ", "-c ")):
        return via[3:].strip()
    return via


def parse_lock(text: str) -> Lock:
    """Parse uv's hash-pinned output with split ``# via`` annotations and noxgrid's header."""
    header: dict[str, str] = {}
    packages: dict[str, LockedPackage] = {}
    current: dict[str, Any] | None = None
    in_header = True
    via_block = False

    def flush() -> None:
        if current is not None:
            packages[canonicalize_name(current["name"])] = LockedPackage(
                name=current["name"],
                version=current["version"],
                hashes=tuple(current["hashes"]),
                via=tuple(current["via"]),
                url=current["url"],
                index=current["index"],
            )

    for raw in text.splitlines():
        line = raw.rstrip()
        if in_header:
            match = _HEADER.match(line)
            if match:
                header[match.group(1)] = match.group(2).strip()
                continue
            if line.startswith("#") or not line:
                continue
            in_header = False
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("--hash="):
            if current is not None:
                current["hashes"].append(stripped.removeprefix("--hash=").rstrip(" \\"))
            continue
        if stripped.startswith("#"):
            note = stripped.lstrip("#").strip()
            if current is None:
                continue
            if note.startswith("from ") and "://" in note:
                current["index"] = note[5:].strip().rstrip("/")
                via_block = False
            elif note == "via":
                via_block = True
            elif note.startswith("via "):
                current["via"].append(note[4:].strip())
                via_block = False
            elif via_block and note:
                current["via"].append(note)
            continue
        pin = _PIN.match(stripped)
        if pin and not line.startswith((" ", "\t")):
            flush()
            via_block = False
            url = pin.group(4) if pin.group(3) == "@" else None
            current = {
                "name": pin.group(1),
                "version": _url_version(url) if url else pin.group(4),
                "hashes": [],
                "via": [],
                "url": url,
                "index": None,
            }
            for part in stripped.split():
                if part.startswith("--hash="):
                    current["hashes"].append(part.removeprefix("--hash="))
    flush()
    return Lock(header=header, packages=packages, computed_body=body_digest(text))


def _url_version(url: str) -> str:
    """The version in a wheel's or sdist's file name at the end of ``url`` ("" if none)."""
    name = url.split("#", 1)[0].split("?", 1)[0].rsplit("/", 1)[-1]
    try:
        if name.endswith(".whl"):
            return str(parse_wheel_filename(name)[1])
        if name.endswith((".tar.gz", ".zip")):
            return str(parse_sdist_filename(name)[1])
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        pass
    return ""


def render_header(fields: Sequence[tuple[str, str]], cell: Cell) -> str:
    """The comment block noxgrid puts above uv's output."""
    lines = [
        f"# Lock of cell {cell.id}, written by noxgrid: do not edit by hand.",
        f"# Refresh: noxgrid lock {cell.id}",
    ]
    lines += [f"# {key}: {value}" for key, value in fields]
    return "\n".join(lines) + "\n"
