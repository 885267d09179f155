"""What a build backend reads a project's dependencies from, reduced to what can change
them: the digest of a lock whose dependencies only the backend knows (PEP 517) moves
when the dependencies, extras or Python requirement as written move, and not when
``[tool.noxgrid.docker]``, a linter's table or a comment does.

Per file:

* ``pyproject.toml``: parsed (comments and layout gone), less ``[tool.noxgrid]`` and
  the tables of tools that never feed a backend (linters, test runners); of
  ``[project]`` only what a resolution reads (name, requires-python, dependencies,
  optional-dependencies, dynamic); of poetry's table only its name, dependencies and
  extras. Any other tool's table is kept whole: a backend plugin may read it.
* ``setup.cfg``: ``[metadata] name``, ``[options] install_requires`` /
  ``python_requires`` / ``setup_requires`` and ``[options.extras_require]``, each
  requirement list without its comments (a flake8 or pytest section never counts).
* ``setup.py``: its tokens without comments (code can compute anything).
* ``requirements*.txt`` at the root (a setup.py may read them), and the files
  ``[tool.setuptools.dynamic]`` names: the file.

A file that cannot be parsed counts as its bytes. Pure: reads files only.
"""

from __future__ import annotations

import configparser
import hashlib
import io
import json
import sys
import tokenize
from collections.abc import Mapping
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# What a build backend reads a project's metadata from (and, at the root, the
# requirement files a setup.py may read its dependencies through).
METADATA_FILES = ("pyproject.toml", "setup.cfg", "setup.py")

# Tools whose tables no build backend reads for dependencies.
NOT_BACKEND_TOOLS = frozenset(
    {
        "noxgrid",
        "autoflake",
        "bandit",
        "black",
        "bumpversion",
        "cibuildwheel",
        "codespell",
        "commitizen",
        "coverage",
        "docformatter",
        "flake8",
        "interrogate",
        "isort",
        "mypy",
        "poe",
        "pydocstyle",
        "pylint",
        "pyright",
        "pytest",
        "ruff",
        "semantic_release",
        "taskipy",
        "towncrier",
        "tox",
        "vulture",
        "yapf",
    }
)

# The keys of [project] a resolution reads; the rest (readme, authors, urls) is prose.
_PROJECT_KEYS = ("name", "requires-python", "dependencies", "optional-dependencies", "dynamic")
# poetry-core writes Requires-Dist, Requires-Python and extras from these.
_POETRY_KEYS = ("name", "dependencies", "extras")


def pyproject_view(text: str) -> Any:
    """What of a pyproject.toml can change the dependencies its backend reports."""
    data: dict[str, Any] = dict(tomllib.loads(text))
    project = data.get("project")
    if isinstance(project, Mapping):
        data["project"] = {k: project[k] for k in _PROJECT_KEYS if k in project}
    tools = data.get("tool")
    if isinstance(tools, Mapping):
        kept = {k: v for k, v in tools.items() if k not in NOT_BACKEND_TOOLS}
        poetry = kept.get("poetry")
        if isinstance(poetry, Mapping):
            kept["poetry"] = {k: poetry[k] for k in _POETRY_KEYS if k in poetry}
        data["tool"] = kept
    return data


def _requirement_list(value: str) -> list[str]:
    """A setup.cfg list value, one entry a line (or ``;``-separated), comments dropped."""
    entries = []
    for line in value.splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            entries.append(line)
    return entries


def setup_cfg_view(text: str) -> Any:
    """What of a setup.cfg setuptools reads the dependencies from."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    view: dict[str, Any] = {}
    if parser.has_option("metadata", "name"):
        view["name"] = parser.get("metadata", "name").strip()
    for key in ("install_requires", "python_requires", "setup_requires"):
        if parser.has_option("options", key):
            view[key] = _requirement_list(parser.get("options", key))
    if parser.has_section("options.extras_require"):
        view["extras_require"] = {
            name: _requirement_list(value) for name, value in parser.items("options.extras_require")
        }
    return view


def setup_py_view(text: str) -> Any:
    """A setup.py's tokens without comments and blank lines: code, as it runs."""
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    skipped = (tokenize.COMMENT, tokenize.NL)
    return [token.string for token in tokens if token.type not in skipped]


_VIEWS = {"pyproject.toml": pyproject_view, "setup.cfg": setup_cfg_view, "setup.py": setup_py_view}


def file_digest(path: Path) -> str:
    """sha256 of what of the file at ``path`` can change the backend's dependencies (of
    its bytes where it cannot be parsed, or is not one of the files above)."""
    data = path.read_bytes()
    view = _VIEWS.get(path.name)
    if view is not None:
        try:
            reduced = view(data.decode("utf-8"))
        except (
            UnicodeDecodeError,
            tomllib.TOMLDecodeError,
            configparser.Error,
            tokenize.TokenError,
            SyntaxError,
        ):
            reduced = None
        if reduced is not None:
            blob = json.dumps(reduced, sort_keys=True, default=str).encode()
            return hashlib.sha256(blob).hexdigest()
    return hashlib.sha256(data).hexdigest()


def dynamic_files(text: str) -> list[str]:
    """The files ``[tool.setuptools.dynamic]`` reads dependencies or extras from."""
    try:
        tool = tomllib.loads(text).get("tool", {})
    except tomllib.TOMLDecodeError:
        return []
    dynamic = tool.get("setuptools", {}).get("dynamic", {}) if isinstance(tool, dict) else {}
    if not isinstance(dynamic, dict):
        return []
    entries = [dynamic.get("dependencies")]
    optional = dynamic.get("optional-dependencies")
    entries += list(optional.values()) if isinstance(optional, dict) else []
    files: list[str] = []
    for entry in entries:
        named = entry.get("file") if isinstance(entry, dict) else None
        files += [named] if isinstance(named, str) else [str(f) for f in named or []]
    return files


def backend_inputs(root: Path, *, whole: bool = False) -> list[list[str]]:
    """[name, digest] of each file a build backend reads a project's dependencies from
    (``whole``: of their bytes, as older locks recorded them)."""
    names = [*METADATA_FILES, *sorted(p.name for p in root.glob("requirements*.txt"))]
    if whole:
        return [
            [name, hashlib.sha256((root / name).read_bytes()).hexdigest()]
            for name in names
            if (root / name).is_file()
        ]
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        extra = dynamic_files(pyproject.read_text(encoding="utf-8", errors="replace"))
        names += [name for name in extra if name not in names]
    return [[name, file_digest(root / name)] for name in names if (root / name).is_file()]
