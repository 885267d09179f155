"""A cell's lock as a PEP 751 ``pylock.toml``: written from uv's export, read back.

Pure: text in, text out. The file is standard (``packaging.pylock`` reads it;
``uv pip sync`` installs it); what only noxgrid needs is kept where PEP 751
leaves room for tools:

* ``[tool.noxgrid]``: what made the lock (noxgrid, uv, python, platform,
  accelerator, indexes), its inputs and their digest, its sizes and budget
  verdict, and the digest of its own text (``body-sha256``);
* each package's ``index`` (the index uv took it from, a PEP 751 key) and
  ``tool.noxgrid.via`` (what asked for it: a requirement file or a package),
  which uv's export does not carry but its requirements output does.
"""

from __future__ import annotations

import datetime
import json
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from noxgrid.errors import LockUnreadable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")

# The keys of a package in the order they are written; others follow in uv's order.
_FIRST = ("name", "version", "marker", "requires-python", "index")


def toml_value(value: Any) -> str:
    """``value`` as an inline TOML value (strings, numbers, booleans, datetimes, lists, tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime.datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        inner = ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def toml_key(key: str) -> str:
    """A key, bare where TOML allows it, else quoted."""
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def _assignment(key: str, value: Any) -> str:
    if isinstance(value, list) and len(value) > 1 and all(isinstance(v, Mapping) for v in value):
        items = "".join(f"    {toml_value(item)},\n" for item in value)
        return f"{toml_key(key)} = [\n{items}]"
    return f"{toml_key(key)} = {toml_value(value)}"


def render_pylock(
    *,
    title: Sequence[str],
    python: str,
    exported: Mapping[str, Any],
    indexes: Mapping[str, str],
    via: Mapping[str, Sequence[str]],
    header: Sequence[tuple[str, str]],
) -> str:
    """The lock's text: ``exported`` (uv's pylock, parsed) with noxgrid's additions.

    ``title``: comment lines on top; ``indexes`` and ``via``: by canonical package
    name; ``header``: the ``[tool.noxgrid]`` fields, in order (the body digest is
    added by ``seal``).
    """
    from packaging.utils import canonicalize_name

    lines = [f"# {line}" for line in title]
    lines += [
        'lock-version = "1.0"',
        f"requires-python = {toml_value(f'=={python}.*')}",
        'created-by = "noxgrid"',
    ]
    for package in exported.get("packages", []):
        key = canonicalize_name(str(package.get("name", "")))
        fields = {**package, "name": key}  # PEP 751 names are normalized
        fields.pop("tool", None)
        if key in indexes and "index" not in fields:
            fields["index"] = indexes[key]
        ordered = [k for k in _FIRST if k in fields] + [k for k in fields if k not in _FIRST]
        lines += ["", "[[packages]]"]
        lines += [_assignment(k, fields[k]) for k in ordered]
        if via.get(key):
            lines.append(f"tool.noxgrid.via = {toml_value(list(via[key]))}")
    lines += ["", "[tool.noxgrid]"]
    lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in header]
    return "\n".join(lines) + "\n"


def read_pylock(text: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """(the ``[tool.noxgrid]`` fields as text, the packages as plain dicts) of a pylock.

    Each package dict has ``name``, ``version``, ``hashes`` (``sha256:...`` of every
    file), ``via``, ``url`` (an archive's) and ``index``.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise LockUnreadable(f"not valid TOML: {error}") from error
    tool = data.get("tool", {}).get("noxgrid", {})
    header = {str(k): _text(v) for k, v in tool.items()} if isinstance(tool, dict) else {}
    packages = []
    for package in data.get("packages", []):
        if not isinstance(package, dict) or "name" not in package:
            raise LockUnreadable("a [[packages]] entry has no name")
        archive = package.get("archive") if isinstance(package.get("archive"), dict) else None
        files = [package.get("sdist"), archive, *package.get("wheels", [])]
        hashes = [
            f"{algorithm}:{digest}"
            for file in files
            if isinstance(file, dict)
            for algorithm, digest in sorted(file.get("hashes", {}).items())
        ]
        via = package.get("tool", {}).get("noxgrid", {}).get("via", [])
        packages.append(
            {
                "name": str(package["name"]),
                "version": str(package.get("version", "")),
                "hashes": hashes,
                "via": [str(v) for v in via],
                "url": str(archive["url"]) if archive and "url" in archive else None,
                "index": str(package["index"]).rstrip("/") if package.get("index") else None,
                "wheels": [_file_name(w) for w in package.get("wheels", []) if isinstance(w, dict)],
            }
        )
    return header, packages


def _file_name(entry: dict[str, Any]) -> str:
    """A PEP 751 file entry's name: its ``name`` key, else its URL's last part."""
    name = entry.get("name") or str(entry.get("url", "")).split("#")[0].rsplit("/", 1)[-1]
    return str(name)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def is_pylock(text: str) -> bool:
    """True when ``text`` is a PEP 751 lock (it states its ``lock-version``)."""
    return re.search(r"^lock-version\s*=", text, re.MULTILINE) is not None


_COPY_LOCK = re.compile(r"^\s*(?:COPY|ADD)\b[^\n]*\$\{?LOCK\}?\s+(\S+)\s*$", re.IGNORECASE)


def lock_copy_problem(dockerfile: str, name: str) -> str | None:
    """Why the Dockerfile's copy of the lock (``COPY ${LOCK} <dest>``) cannot be installed.

    Locks are PEP 751 files: uv reads one as such only under a ``pylock.toml`` or
    ``pylock.<name>.toml`` name, so a destination like ``/tmp/requirements.lock`` (the
    template of older noxgrid) would be read as a requirements file and fail mid-build.
    """
    for number, line in enumerate(dockerfile.splitlines(), start=1):
        match = _COPY_LOCK.match(line)
        if match is None:
            continue
        destination = match.group(1).rstrip("/").rsplit("/", 1)[-1]
        if destination == "pylock.toml" or re.fullmatch(r"pylock\.[^.]+\.toml", destination):
            continue
        return (
            f"{name}:{number} copies the lock to {match.group(1)}, but locks are PEP 751 "
            "files that uv installs only under a pylock name; fix: COPY ${LOCK} "
            "/tmp/pylock.toml and `uv pip sync ... /tmp/pylock.toml` "
            "(`noxgrid dockerfile` prints the template)"
        )
    return None
