"""A project's development dependency groups, whichever tool declares them: PEP 735
``[dependency-groups]``, poetry's ``[tool.poetry.group.<name>.dependencies]`` (and the
older ``[tool.poetry.dev-dependencies]``), pdm's ``[tool.pdm.dev-dependencies]`` and
uv's ``[tool.uv] dev-dependencies``.

Pure: reads a parsed pyproject.toml. Poetry's constraints (``^1.2``, ``~1.2``, ``1.2.*``,
tables with ``extras``, ``markers`` and ``python``) are translated to PEP 508, git and URL
sources as direct references (``name @ git+https://...@rev``); what has no PEP 508 form
(a path, ``||``) is listed as untranslated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DevGroup:
    """One group: where it is declared, its name, its PEP 508 requirements."""

    table: str
    name: str
    requirements: tuple[str, ...]
    untranslated: tuple[str, ...] = ()
    # PEP 735: a profile can name it (``groups``) instead of copying it.
    pep735: bool = False
    includes: tuple[str, ...] = field(default=())


def _bump(parts: list[int], index: int) -> str:
    upper = [*parts[:index], parts[index] + 1]
    return ".".join(str(p) for p in upper + [0] * (len(parts) - len(upper)))


def _clause(text: str) -> str | None:
    """One poetry constraint clause as PEP 440 (None: not expressible)."""
    text = text.strip()
    if text in ("", "*"):
        return ""
    if text.startswith("^") or (text.startswith("~") and not text.startswith("~=")):
        raw = text[1:].strip()
        try:
            parts = [int(p) for p in raw.split(".")]
        except ValueError:
            return None
        if text.startswith("^"):
            index = next((i for i, p in enumerate(parts) if p != 0), len(parts) - 1)
        else:
            index = min(1, len(parts) - 1) if len(parts) > 1 else 0
        return f">={raw},<{_bump(parts, index)}"
    if re.fullmatch(r"\d[\w.*+!-]*", text):
        return f"=={text}"
    if re.fullmatch(r"(?:===|==|!=|~=|>=|<=|>|<)\s*\S+", text):
        return text.replace(" ", "")
    return None


def poetry_specifier(constraint: str) -> str | None:
    """A poetry version constraint as a PEP 440 specifier ("" for any), or None."""
    if "||" in constraint or "|" in constraint:
        return None
    clauses = [c for c in re.split(r",|\s+(?=[<>=!~^])", constraint.strip()) if c.strip()]
    translated = [_clause(c) for c in clauses]
    if any(t is None for t in translated):
        return None
    return ",".join(t for t in translated if t)


def _python_marker(constraint: str) -> str | None:
    specifier = poetry_specifier(constraint)
    if specifier is None:
        return None
    clauses = [c for c in specifier.split(",") if c]
    parts = []
    for clause in clauses:
        match = re.match(r"(===|==|!=|~=|>=|<=|>|<)(.+)", clause)
        if match is None:
            return None
        parts.append(f'python_full_version {match.group(1)} "{match.group(2)}"')
    return " and ".join(parts)


def _direct_reference(value: Mapping[str, Any]) -> str:
    """`` @ git+https://host/repo.git@rev#subdirectory=sub`` for poetry's ``git`` source
    (its ``rev``, ``tag`` or ``branch``), `` @ url`` for ``url``; "" for an index one."""
    if value.get("url"):
        return f" @ {value['url']}"
    if not value.get("git"):
        return ""
    url = str(value["git"])
    if url.startswith("git@"):  # scp-like: git@github.com:owner/repo.git
        url = "ssh://" + url.replace(":", "/", 1)
    if not url.startswith("git+"):
        url = "git+" + url
    ref = value.get("rev") or value.get("tag") or value.get("branch")
    text = f" @ {url}" + (f"@{ref}" if ref else "")
    if value.get("subdirectory"):
        text += f"#subdirectory={value['subdirectory']}"
    return text


def poetry_requirement(name: str, value: Any) -> list[str] | None:
    """A poetry dependency entry as PEP 508 lines (several for a list of constraints),
    or None when it has no PEP 508 form."""
    if isinstance(value, list):
        lines: list[str] = []
        for item in value:
            one = poetry_requirement(name, item)
            if one is None:
                return None
            lines += one
        return lines
    if isinstance(value, str):
        value = {"version": value}
    if not isinstance(value, Mapping) or any(k in value for k in ("path", "file")):
        return None
    reference = _direct_reference(value)
    specifier = reference or poetry_specifier(str(value.get("version", "*")))
    if specifier is None:
        return None
    extras = [str(e) for e in value.get("extras", []) or []]
    markers = [str(value["markers"])] if value.get("markers") else []
    if value.get("python"):
        python = _python_marker(str(value["python"]))
        if python is None:
            return None
        markers.append(python)
    text = name + (f"[{','.join(extras)}]" if extras else "") + specifier
    if markers:
        joined = " and ".join(f"({m})" if len(markers) > 1 else m for m in markers)
        text += (" ; " if reference else "; ") + joined
    return [text]


def _poetry_group(table: str, name: str, deps: Any) -> DevGroup:
    requirements, untranslated = poetry_table(deps)
    return DevGroup(table, name, tuple(requirements), tuple(untranslated))


def poetry_table(deps: Any) -> tuple[list[str], list[str]]:
    """A poetry dependency table (its ``python`` entry left out) as PEP 508 lines, and the
    entries with no PEP 508 form (``name = value``)."""
    requirements: list[str] = []
    untranslated: list[str] = []
    for dep, value in deps.items() if isinstance(deps, Mapping) else []:
        if str(dep).lower() == "python":
            continue
        lines = poetry_requirement(str(dep), value)
        if lines is None:
            untranslated.append(f"{dep} = {value!r}")
        else:
            requirements += lines
    return requirements, untranslated


def _strings(items: Any) -> tuple[list[str], list[str]]:
    """(PEP 508 strings, other entries: pdm's ``-e`` paths, tables) of a list."""
    good = [str(i) for i in items or [] if isinstance(i, str) and not i.startswith("-")]
    other = [str(i) for i in items or [] if not isinstance(i, str) or i.startswith("-")]
    return good, other


def dev_groups(document: Mapping[str, Any]) -> list[DevGroup]:
    """Every development group the pyproject document declares, in the order above."""
    found: list[DevGroup] = []
    for name, items in (document.get("dependency-groups") or {}).items():
        good, other = _strings(items)
        includes = tuple(
            str(i["include-group"])
            for i in items or []
            if isinstance(i, Mapping) and "include-group" in i
        )
        untranslated = tuple(o for o in other if "include-group" not in o)
        found.append(
            DevGroup("[dependency-groups]", str(name), tuple(good), untranslated, True, includes)
        )
    tool = document.get("tool") or {}
    poetry = tool.get("poetry") or {}
    for name, group in (poetry.get("group") or {}).items():
        if isinstance(group, Mapping):
            table = f"[tool.poetry.group.{name}.dependencies]"
            found.append(_poetry_group(table, str(name), group.get("dependencies")))
    if poetry.get("dev-dependencies"):
        table = "[tool.poetry.dev-dependencies]"
        found.append(_poetry_group(table, "dev", poetry["dev-dependencies"]))
    pdm = (tool.get("pdm") or {}).get("dev-dependencies") or {}
    for name, items in pdm.items() if isinstance(pdm, Mapping) else []:
        good, other = _strings(items)
        found.append(DevGroup("[tool.pdm.dev-dependencies]", str(name), tuple(good), tuple(other)))
    uv = (tool.get("uv") or {}).get("dev-dependencies")
    if uv:
        good, other = _strings(uv)
        found.append(DevGroup("[tool.uv] dev-dependencies", "dev", tuple(good), tuple(other)))
    return found
