"""Read and validate ``[tool.noxgrid]`` from a project's ``pyproject.toml``.

The result is a frozen :class:`~noxgrid.model.config.Config`. Every problem of a
file is found in one reading and reported at once, as one ConfigError that names
the file and, for each problem, the key path and the fix. Pure: reads files, starts
no process.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from noxgrid.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib
from noxgrid.model.allowances import read_allowances
from noxgrid.model.config import (
    _VERSION,
    AXES,
    DEFAULT_PYTHONS,
    Accelerator,
    Config,
    Profile,
    default,
)
from noxgrid.model.matrix import Cell
from noxgrid.model.pythonversions import nox_clash, version_problem
from noxgrid.model.sections import (
    read_accelerators,
    read_check,
    read_docker,
    read_policy,
    read_profiles,
    read_suite,
    resolve_path,
)
from noxgrid.model.table import Table, python_fix, type_name
from noxgrid.model.workflow_section import read_workflow


def find_pyproject(start: Path) -> Path:
    """The nearest ``pyproject.toml`` at or above ``start``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no pyproject.toml found in {start} or any folder above it",
        fix="run noxgrid inside the project (or pass --project DIR), "
        "or create pyproject.toml with a [tool.noxgrid] table",
    )


def load_config(path: Path | str | None = None) -> Config:
    """Load ``[tool.noxgrid]`` from ``path`` (a pyproject.toml or its folder)."""
    target = Path(path) if path is not None else Path.cwd()
    pyproject = find_pyproject(target) if target.is_dir() else target
    if not pyproject.is_file():
        raise ConfigError(
            f"{pyproject}: file not found",
            fix="pass the path of the project's pyproject.toml or of its folder",
        )
    try:
        with pyproject.open("rb") as stream:
            document = tomllib.load(stream)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{pyproject}: not valid TOML: {exc}",
            fix="correct the syntax at the line named above",
        ) from exc
    return parse_config(document, pyproject)


def parse_config(document: Mapping[str, Any], pyproject: Path) -> Config:
    """Validate a parsed pyproject document into a :class:`Config`."""
    tool = document.get("tool", {})
    if not isinstance(tool, Mapping) or "noxgrid" not in tool:
        raise ConfigError(
            f"{pyproject}: no [tool.noxgrid] table",
            fix="add a [tool.noxgrid] table with at least one "
            "[tool.noxgrid.profile.<name>] that lists requirement files "
            "(see noxgrid's configuration reference, docs/reference.md)",
        )
    problems: list[tuple[str, str, str]] = []
    reader = Table(tool["noxgrid"], "tool.noxgrid", pyproject, problems)
    root = pyproject.parent.resolve()
    project = document.get("project", {})
    project = project if isinstance(project, Mapping) else {}

    pythons = reader.versions("python", DEFAULT_PYTHONS)
    accelerators, profiles = _axes(reader, root)
    names = {"python": pythons, "accelerator": tuple(accelerators), "profile": tuple(profiles)}
    exclude = read_cell_filters(reader, "exclude", names, require_known=True)
    include = read_cell_filters(reader, "include", names, require_known=False)
    interpreters = _interpreters(reader, root)
    allowances = read_allowances(reader, _cells(names, exclude, include))

    config = Config(
        root=root,
        pyproject=pyproject,
        project_name=project.get("name") if isinstance(project.get("name"), str) else None,
        requires_python=project.get("requires-python")
        if isinstance(project.get("requires-python"), str)
        else None,
        pythons=pythons,
        accelerators=accelerators,
        profiles=profiles,
        exclude=exclude,
        include=include,
        interpreters=interpreters,
        reports_dir=resolve_path(
            root, reader.string("reports", str(default(Config, "reports_dir")))
        ),
        venvs_dir=resolve_path(root, reader.string("venvs", str(default(Config, "venvs_dir")))),
        locks_dir=resolve_path(root, reader.string("locks", str(default(Config, "locks_dir")))),
        platform=reader.string("platform", default(Config, "platform")),
        index_url=_url(reader.optional_string("index-url", default(Config, "index_url"))),
        policy=read_policy(reader),
        workflow=read_workflow(reader),
        suite=read_suite(reader),
        docker=read_docker(reader),
        allowances=allowances,
        check=read_check(reader),
    )
    reader.done()
    if problems:
        raise config_problems(pyproject, problems)
    return config


def _cells(
    names: Mapping[str, tuple[str, ...]],
    exclude: tuple[Mapping[str, str], ...],
    include: tuple[Mapping[str, str], ...],
) -> list[Cell]:
    """The matrix's cells from the axes read so far (what allowances' patterns select)."""
    product = [
        Cell(python=python, accelerator=accelerator, profile=profile)
        for profile in names["profile"]
        for python in names["python"]
        for accelerator in names["accelerator"]
    ]
    kept = [cell for cell in product if not any(cell.matches(e) for e in exclude)]
    return kept + [Cell(**dict(values)) for values in include]


def _url(value: str | None) -> str | None:
    return value.rstrip("/") if value else None


def _axes(reader: Table, root: Path) -> tuple[dict[str, Accelerator], dict[str, Profile]]:
    """The accelerator and profile tables, in the order (and subset) their axes give."""
    accelerators = read_accelerators(reader)
    profiles = read_profiles(reader, root)
    # Every declared table, unless the axis names fewer.
    order = reader.str_list("profiles", tuple(profiles))
    check_axis_values(reader, "profiles", order, tuple(profiles))
    profiles = {name: profiles[name] for name in order if name in profiles}
    order = reader.str_list("accelerators", tuple(accelerators))
    check_axis_values(reader, "accelerators", order, tuple(accelerators))
    accelerators = {name: accelerators[name] for name in order if name in accelerators}
    return accelerators, profiles


def _interpreters(reader: Table, root: Path) -> dict[str, Path]:
    """``[tool.noxgrid.interpreters]``: "3.X" = path."""
    table = reader.table("interpreters")
    interpreters = {}
    for version in table.names():
        if not _VERSION.match(version) or version_problem(version):
            table.fail(
                version,
                f"'{version}' is not a Python version",
                'use the version as key: "3.10" = "/path/to/python3.10"',
            )
            continue
        location = table.string(version, "")
        if not location:
            table.fail(version, "no path given", f'write "{version}" = "/path/to/python{version}"')
            continue
        interpreters[version] = resolve_path(root, location)
    table.done()
    return interpreters


def config_problems(pyproject: Path, problems: list[tuple[str, str, str]]) -> ConfigError:
    """One error for every problem found in ``pyproject``: (key path, problem, fix) each."""
    if len(problems) == 1:
        key, problem, fix = problems[0]
        return ConfigError(f"{pyproject}: {key}: {problem}", fix=fix)
    lines = [f"{pyproject}: {len(problems)} problems in the configuration:"]
    for key, problem, fix in problems:
        lines.append(f"- {key}: {problem}\n  fix: {_indent_fix(fix)}")
    return ConfigError("\n".join(lines))


def _indent_fix(fix: str) -> str:
    return fix.replace("\n", "\n  ")


def check_axis_values(
    reader: Table, key: str, order: tuple[str, ...], declared: tuple[str, ...]
) -> None:
    if not order:
        reader.fail(key, "the axis is empty", f"list at least one of: {', '.join(declared)}")
    for value in order:
        if value not in declared:
            table = "profile" if key == "profiles" else "accelerator"
            reader.fail(
                key,
                f"'{value}' has no [tool.noxgrid.{table}.{value}] table",
                f"add that table, or use one of: {', '.join(declared) or '(none declared)'}",
            )


def read_cell_filters(
    reader: Table, key: str, names: Mapping[str, tuple[str, ...]], *, require_known: bool
) -> tuple[Mapping[str, str], ...]:
    """``exclude`` or ``include``: a list of tables of axis values (for include, all three)."""
    raw = reader.raw(key, [])
    if not isinstance(raw, list):
        reader.fail(
            key,
            f"expected a list of tables, got {type_name(raw)}",
            f'write {key} = [{{ python = "3.9", accelerator = "gpu" }}]',
        )
        return ()
    result = []
    for index, entry in enumerate(raw):
        where = f"{key}[{index}]"
        if not isinstance(entry, Mapping) or not entry:
            reader.fail(
                where,
                f"expected a table of axis values, got {type_name(entry)}",
                f'write {{ python = "3.9", accelerator = "gpu" }} (axes: {", ".join(AXES)})',
            )
            continue
        item = _cell_filter(reader, key, where, entry, names, require_known=require_known)
        if item is None:
            continue
        if not require_known and set(item) != set(AXES):
            missing = ", ".join(axis for axis in AXES if axis not in item)
            reader.fail(
                where,
                f"an included cell needs every axis; missing: {missing}",
                'write { python = "3.12", accelerator = "cpu", profile = "lean" }',
            )
            continue
        result.append(item)
    return tuple(result)


def _cell_filter(
    reader: Table,
    key: str,
    where: str,
    entry: Mapping[str, object],
    names: Mapping[str, tuple[str, ...]],
    *,
    require_known: bool,
) -> dict[str, str] | None:
    """One entry's axis values, or None when any of them is wrong (each recorded)."""
    item: dict[str, str] = {}
    valid = True
    for axis, value in entry.items():
        problem = _axis_problem(axis, value, names.get(axis, ()), key, require_known)
        if problem is not None:
            reader.fail(f"{where}.{axis}", *problem)
            valid = False
        else:
            item[axis] = str(value)
    return item if valid else None


def _axis_problem(
    axis: str, value: object, known: tuple[str, ...], key: str, require_known: bool
) -> tuple[str, str] | None:
    """(problem, fix) for one axis value of an exclude or include entry, or None."""
    if axis not in AXES:
        return f"'{axis}' is not an axis", f"use one of: {', '.join(AXES)}"
    if axis == "python" and isinstance(value, float):
        return (
            f"the version is the number {value}",
            f'quote it: python = "{value}" (TOML reads 3.10 as the number 3.1)',
        )
    if not isinstance(value, str):
        return (
            f"expected a string, got {type_name(value)}",
            f'write {axis} = "{known[0] if known else "..."}"',
        )
    if axis == "python" and (problem := version_problem(value)):
        return problem, python_fix(axis)
    if axis == "python" and (clash := nox_clash(value, known)):
        return f"nox cannot tell '{value}' from '{clash}' of the python axis", python_fix(axis)
    if value not in known and (require_known or axis != "python"):
        never = "can never match a cell" if require_known else "names nothing declared"
        return (
            f"'{value}' is not a value of the {axis} axis, so this {key} {never}",
            f"use one of: {', '.join(known)}",
        )
    return None
