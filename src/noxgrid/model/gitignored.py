"""Files noxgrid needs committed that the project's ``.gitignore`` ignores.

The locks, the requirement inputs, the declaration, the Dockerfile and the workflows
are read from the commit by CI and by ``noxgrid check`` there; a pattern such as
``*.lock`` or ``requirements*`` silently keeps them out of every commit. Read from
``git check-ignore --verbose`` (``tools.git.check_ignore``): each ignored path with the
file, line and pattern that ignores it, and the fix, a negation line after it.

Pure: git's output in, findings out.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class Ignored:
    """A path git ignores, and the line that ignores it."""

    path: str  # relative to the repository, as git printed it
    source: str  # the ignore file (``.gitignore``, ``api/.gitignore``, ...)
    line: int
    pattern: str

    @property
    def where(self) -> str:
        """``.gitignore:2``."""
        return f"{self.source}:{self.line}"

    def unignore(self) -> str:
        """The negation line that makes the path committable again: the shallowest
        folder the pattern matches (git cannot re-include a file whose folder it
        excludes), else the file itself; relative to the ignore file's folder."""
        pattern = self.pattern.strip("/")
        path, base = PurePosixPath(self.path), PurePosixPath(self.source).parent
        parts = path.relative_to(base).parts if path.is_relative_to(base) else path.parts
        for depth in range(1, len(parts)):
            prefix = "/".join(parts[:depth])
            if fnmatch.fnmatch(parts[depth - 1], pattern) or fnmatch.fnmatch(prefix, pattern):
                return f"!/{prefix}/"
        return "!/" + "/".join(parts)


def parse_check_ignore(output: str) -> list[Ignored]:
    """The ignored paths of ``git check-ignore --verbose`` output (``source:line:pattern``,
    a tab, the path); a path matched by a negation (``!pattern``) is not ignored."""
    found = []
    for line in output.splitlines():
        head, tab, path = line.partition("\t")
        if not tab:
            continue
        source, _, rest = head.partition(":")
        number, _, pattern = rest.partition(":")
        if not source or not number.isdigit() or pattern.startswith("!"):
            continue
        found.append(Ignored(path.strip(), source, int(number), pattern))
    return found


def ignored_finding(items: list[Ignored]) -> dict[str, str] | None:
    """One finding for every needed file an ignore line keeps out of the commits (the
    same fact, the same line: together), or None when none is ignored."""
    if not items:
        return None
    lines = list(dict.fromkeys(f"{i.where} (`{i.pattern}`)" for i in items))
    fixes = list(dict.fromkeys(i.unignore() for i in items))
    shown = ", ".join(i.path for i in items[:3]) + (
        f" (+{len(items) - 3} more)" if len(items) > 3 else ""
    )
    finding = {
        "kind": "gitignored",
        "where": items[0].where,
        "message": f"{shown} {'is' if len(items) == 1 else 'are'} ignored by git "
        f"({'; '.join(lines)}): noxgrid needs {'it' if len(items) == 1 else 'them'} "
        "committed (CI and `noxgrid check` read the locks and their inputs from the commit)",
        "fix": f"in {items[0].source}, after the line that ignores "
        f"{'it' if len(items) == 1 else 'them'}, "
        f"add: {' and '.join(fixes)} (or narrow the pattern); then commit the files",
    }
    if len(items) > 1:
        finding["places"] = ", ".join(i.path for i in items)
    return finding
