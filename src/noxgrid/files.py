"""Files written whole or not at all: a temporary file in the same folder, then a rename.

An interrupted run leaves the old file or the new one, never half of one; cells
running in parallel never corrupt each other's files.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where noxgrid caches between runs, for every project (index answers, interpreters
    found): NOXGRID_CACHE_DIR, else noxgrid under XDG_CACHE_HOME or ~/.cache."""
    env = os.environ if env is None else env
    if env.get("NOXGRID_CACHE_DIR"):
        return Path(env["NOXGRID_CACHE_DIR"])
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "noxgrid"


def atomic_write(path: Path, text: str, *, durable: bool = True) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename; ``durable``: synced
    to disk first (a cache entry that is read back as garbage after a crash, and made again,
    need not be)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)  # keep a replaced file's permissions
    except OSError:
        mode = 0o666 & ~_umask()  # a new file: what open() would have made
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        Path(temporary).chmod(mode)  # mkstemp makes 0600
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            if durable:
                os.fsync(stream.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object kept in a file; None when the file is missing, unreadable or holds
    something else (a cache entry to make again, never an error)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _umask() -> int:
    """The process umask, read without changing it (Linux), else the usual 022."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def directory_size(path: Path) -> int:
    """Apparent size of every file below ``path`` (links not followed)."""
    total = 0
    folders = [path]
    while folders:  # os.scandir, not a Path per file: a large venv has 10^5 of them
        try:
            entries = list(os.scandir(folders.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir():  # a link to a folder: neither walked nor counted
                    if not entry.is_symlink():
                        folders.append(Path(entry.path))
                    continue
                total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
    return total
