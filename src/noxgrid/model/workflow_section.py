"""``[tool.noxgrid.workflow]``: where the generated workflow goes and how it installs
noxgrid. The install value reaches a ``run:`` line only as data (an environment variable
of the step), so it must be one requirement or one path: never shell, never a GitHub
expression.

Pure: reads files, starts no process.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from noxgrid._version import __version__
from noxgrid.model.config import Workflow, default
from noxgrid.model.sections import is_inside
from noxgrid.model.table import Table

_EDITABLE = re.compile(r"^(?:-e|--editable)(?:\s+|=)(.+)$", re.DOTALL)

# The environment variables the install step hands the value through (never interpolated).
INSTALL_VARIABLE = "NOXGRID_INSTALL"
REQUIREMENTS_VARIABLE = "NOXGRID_INSTALL_REQUIREMENTS"


def install_target(install: str) -> tuple[bool, str]:
    """(editable, the requirement or path) of an ``install`` value: ``-e ../..`` is a path
    installed editable."""
    match = _EDITABLE.match(install.strip())
    if match:
        return True, match.group(1).strip()
    return False, install.strip()


def install_problem(install: str, project: Path) -> str | None:
    """Why ``install`` is not one requirement or one existing path (None: it is one)."""
    if "${{" in install:
        return "it holds a GitHub expression (${{ ... }}), which the workflow would evaluate"
    editable, target = install_target(install)
    if not target or any(character in target for character in "\n\r\0"):
        return "it is empty or spans lines"
    if not editable:
        try:
            Requirement(target)
            return None
        except InvalidRequirement:
            pass
    if (project / target).exists():
        return None
    what = "a path" if editable else "a requirement packaging accepts, nor a path"
    return f"it is not {what} that exists (looked at {project / target})"


def read_workflow(reader: Table) -> Workflow:
    table = reader.table("workflow")
    install = table.string("install", default(Workflow, "install"))
    problem = install_problem(install, reader.file.parent)
    if problem:
        table.fail(
            "install",
            f"{install!r} cannot be how CI installs noxgrid: {problem}",
            f'write one requirement, install = "noxgrid=={__version__}", or one path inside '
            'the repository, install = "-e ../.." (it is handed to pip as data, not as shell)',
        )
        install = default(Workflow, "install")
    elif _unpinned_noxgrid(install):
        table.fail(
            "install",
            f"'{install}' installs whatever noxgrid release is newest when CI runs",
            f'pin it: install = "noxgrid=={__version__}" (or a local path such as "-e .")',
        )
    minutes = table.integer("timeout-minutes", default(Workflow, "timeout_minutes"))
    if not 0 < minutes <= 4320:
        table.fail("timeout-minutes", f"{minutes} is not a job timeout", "use 1 to 4320 minutes")
        minutes = default(Workflow, "timeout_minutes")
    requirements = table.optional_string("install-requirements", None)
    if requirements is not None:
        where = reader.file.parent / requirements
        problem = (
            _hash_pinned_problem(where)
            if is_inside(where, reader.file.parent) and "${{" not in requirements
            else f"not a file inside the project folder {reader.file.parent.resolve()}"
        )
        if problem:
            table.fail(
                "install-requirements",
                f"{requirements}: {problem}",
                "make it with uv pip compile --generate-hashes --python-version 3.11 "
                "--python-platform x86_64-manylinux_2_28 (noxgrid==X.Y.Z as its input)",
            )
            requirements = None
    where_pinned = reader.file.parent / requirements if requirements else None
    workflow = Workflow(
        path=table.string("path", default(Workflow, "path")),
        directory=table.string("directory", default(Workflow, "directory")),
        install=install,
        install_requirements=requirements,
        uv=_declared_uv(table) or runner_uv(where_pinned),
        timeout_minutes=minutes,
        self_hosted_fork_prs=table.boolean(
            "self-hosted-fork-prs", default(Workflow, "self_hosted_fork_prs")
        ),
    )
    table.done()
    return workflow


def _hash_pinned_problem(path: Path) -> str | None:
    """Why ``path`` is not a hash-pinned requirements file holding noxgrid (None: it is)."""
    if not path.is_file():
        return f"no such file (looked at {path})"
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    names = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        head = line.split()[0]
        if "==" not in head or "--hash=" not in line:
            return f"`{head}` is not pinned with == and --hash"
        names.append(head.split("==")[0].split("[")[0].lower())
    if "noxgrid" not in names:
        return "it does not hold noxgrid"
    return None


def pinned_uv(text: str) -> str | None:
    """The ``uv==X`` pin of a requirements file's text (None: it pins no uv)."""
    for line in text.replace("\\\n", " ").splitlines():
        head = line.split(" #", 1)[0].strip().split(" ", 1)[0]
        name, _, pinned = head.partition("==")
        if name.strip().lower() == "uv" and pinned.strip():
            return pinned.strip()
    return None


def _declared_uv(table: Table) -> str:
    """``uv = "X.Y.Z"``: the uv release CI installs, stated (the workflow then reads the
    same on every machine that generates it); empty where it is not stated."""
    stated = table.optional_string("uv", None)
    if stated is None:
        return ""
    try:
        Version(stated)
    except InvalidVersion:
        table.fail("uv", f"{stated!r} is not a uv release", 'write one, e.g. uv = "0.13.9"')
        return ""
    return stated


def runner_uv(requirements: Path | None) -> str:
    """The uv noxgrid runs in CI: the hash-pinned requirements file's ``uv==``, else the
    uv wheel installed beside the noxgrid that generates the workflow (empty: none is)."""
    if requirements is not None and requirements.is_file():
        pinned = pinned_uv(requirements.read_text(encoding="utf-8"))
        if pinned:
            return pinned
    try:
        return version("uv")
    except PackageNotFoundError:
        return ""


def _unpinned_noxgrid(install: str) -> bool:
    """True when the install line asks for noxgrid from an index without ``==`` a version."""
    for word in install.split():
        name = re.split(r"[\[<>=!~; ]", word, maxsplit=1)[0]
        if name.lower() == "noxgrid" and "==" not in word:
            return True
    return False
