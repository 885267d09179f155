"""The build context that reaches an image: the project's files .dockerignore lets through.

Pure (reads the tree, writes nothing). ``.dockerignore``'s exceptions (``!pattern``) are
read as nothing let back in, so a file they would let in is not scanned here; the
image's own /app scan still reads it.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from noxgrid.model.secrets import SCAN_LIMIT

# At most this many files are read for secrets (a context that large is itself a
# problem: the image check names what .dockerignore should keep out).
CONTEXT_FILES = 20_000


@dataclass(frozen=True)
class Context:
    """The context's files small enough to scan (relative POSIX paths), and whether the
    walk stopped at CONTEXT_FILES."""

    files: tuple[str, ...]
    truncated: bool


def ignored(path: str, patterns: Sequence[str]) -> bool:
    """True when a path under /app is one a .dockerignore pattern names (or lies inside it)."""
    parts = path.split("/")
    for pattern in patterns:
        if pattern.startswith("!"):
            continue
        if pattern.startswith("**/"):
            tail = pattern[3:]
            if any(fnmatch.fnmatchcase(part, tail) for part in parts):
                return True
            if "/" in tail and any(
                fnmatch.fnmatchcase("/".join(parts[i : i + tail.count("/") + 1]), tail)
                for i in range(len(parts))
            ):
                return True
        else:  # as Docker matches: segment by segment (`*` never crosses a `/`), or a folder's
            segments = pattern.split("/")
            if len(parts) >= len(segments) and all(
                fnmatch.fnmatchcase(part, segment)
                for part, segment in zip(parts, segments, strict=False)
            ):
                return True
    return False


def ignore_patterns(text: str) -> list[str]:
    """A .dockerignore's patterns: no comments, no blank lines, no leading ``/`` or ``./``."""
    patterns = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        body = line[1:] if negated else line
        while body.startswith(("/", "./")):
            body = body[1:] if body.startswith("/") else body[2:]
        body = body.rstrip("/")
        if body:
            patterns.append(("!" if negated else "") + body)
    return patterns


def context_files(root: Path, patterns: Sequence[str]) -> Context:
    """The regular, non-empty files under ``root`` below SCAN_LIMIT that .dockerignore's
    ``patterns`` let into the build context, in walk order."""
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        relative = here.relative_to(root).as_posix()
        prefix = "" if relative == "." else relative + "/"
        dirs[:] = sorted(
            name
            for name in dirs
            if not (here / name).is_symlink() and not ignored(prefix + name, patterns)
        )
        for name in sorted(files):
            path = prefix + name
            full = here / name
            if full.is_symlink() or ignored(path, patterns):
                continue
            try:
                size = full.stat().st_size
            except OSError:
                continue
            if 0 < size < SCAN_LIMIT:
                found.append(path)
                if len(found) >= CONTEXT_FILES:
                    return Context(files=tuple(found), truncated=True)
    return Context(files=tuple(found), truncated=False)
