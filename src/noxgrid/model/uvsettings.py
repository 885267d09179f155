"""uv's own settings that decide where a lock's packages come from, read as uv reads them.

noxgrid does not override what a team has told uv: a company mirror in
``UV_DEFAULT_INDEX`` / ``UV_INDEX_URL``, in ``uv.toml`` or ``[tool.uv]`` is the
index its locks resolve from (the lock records each package's index), and
``exclude-newer`` and the like reach uv untouched. Extra indexes stay an
explicit opt-in in ``[tool.noxgrid]``: one set only in uv's settings is
refused by the lock's policy. Pure: reads files and the given environment.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PYPI = "https://pypi.org/simple"


@dataclass(frozen=True, kw_only=True)
class UvSettings:
    """The default index uv will use (None: PyPI) and where that was read."""

    index: str | None
    source: str


def _table(path: Path, *keys: str) -> Mapping[str, Any]:
    try:
        document: Any = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    for key in keys:
        document = document.get(key, {}) if isinstance(document, Mapping) else {}
    return document if isinstance(document, Mapping) else {}


def _default_index(table: Mapping[str, Any]) -> str | None:
    """``index-url``, or the ``[[index]]`` marked default, of one uv settings table."""
    for entry in table.get("index", []) or []:
        if isinstance(entry, Mapping) and entry.get("default") and entry.get("url"):
            return str(entry["url"])
    value = table.get("index-url")
    return str(value) if value else None


def config_files(root: Path, env: Mapping[str, str]) -> list[tuple[Path, tuple[str, ...]]]:
    """uv's settings files, most specific first: the project's, then the user's."""
    config_home = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return [
        (root / "uv.toml", ()),
        (root / "pyproject.toml", ("tool", "uv")),
        (config_home / "uv" / "uv.toml", ()),
    ]


def uv_settings(root: Path, env: Mapping[str, str]) -> UvSettings:
    """The default index uv uses for the project at ``root`` with environment ``env``."""
    for variable in ("UV_DEFAULT_INDEX", "UV_INDEX_URL"):
        if env.get(variable):
            return UvSettings(index=env[variable].rstrip("/"), source=variable)
    for path, keys in config_files(root, env):
        if path.is_file():
            found = _default_index(_table(path, *keys))
            if found:
                where = f"{path.name} [{'.'.join(keys)}]" if keys else str(path)
                return UvSettings(index=found.rstrip("/"), source=where)
    return UvSettings(index=None, source="uv's default")
