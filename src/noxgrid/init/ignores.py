"""What init adds to a project's existing ``.dockerignore``: ``.noxgrid/``.

noxgrid's venvs, reports and caches live under ``.noxgrid/`` in the project's root;
a Dockerfile that copies the build context (``COPY . .``) would carry them into the
image, where the image stage's leftover and secret checks then fail. A project
with no ``.dockerignore`` gets noxgrid's default one, which already names it.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

from noxgrid.render.dockerfile import default_dockerignore

STATE = ".noxgrid"

COMMENT = "# noxgrid's venvs, reports and caches stay out of images (noxgrid init)"


def _pattern(line: str) -> str:
    """A .dockerignore line as a pattern on the context's paths ('' for none)."""
    text = line.strip()
    if not text or text.startswith("#"):
        return ""
    negated = text.startswith("!")
    body = text[1:].strip() if negated else text
    body = body.lstrip("/").rstrip("/")
    while body.startswith("./"):
        body = body[2:]
    return ("!" if negated else "") + body if body else ""


def _names(pattern: str, name: str) -> bool:
    """True when ``pattern`` (no '!') names the top-level entry ``name`` as a whole."""
    while pattern.startswith("**/"):
        pattern = pattern[3:]
    return "/" not in pattern and fnmatch.fnmatchcase(name, pattern)


def ignores_state(text: str) -> bool:
    """True when a .dockerignore's text keeps ``.noxgrid/`` out of the build context
    (the last pattern naming it wins, as Docker reads them)."""
    excluded = False
    for line in text.splitlines():
        pattern = _pattern(line)
        if not pattern:
            continue
        negated = pattern.startswith("!")
        if _names(pattern.lstrip("!"), STATE):
            excluded = not negated
    return excluded


def dockerignore_text(path: Path) -> str | None:
    """The existing .dockerignore with ``.noxgrid/`` added, or None when there is no
    file (init offers its default one) or it already keeps ``.noxgrid/`` out."""
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    if ignores_state(text):
        return None
    separator = "" if not text or text.endswith("\n") else "\n"
    return f"{text}{separator}{COMMENT}\n{STATE}/\n"


def dockerignore_fate(path: Path, *, force: bool) -> tuple[str, str | None]:
    """What init does to the project's ``.dockerignore`` and the text it writes (None:
    the file stays as it is): noxgrid's default where there is none (or with --force),
    else the project's own with ``.noxgrid/`` added where it does not keep it out."""
    if not path.exists() or force:
        return ("replaced" if path.exists() else "written"), default_dockerignore()
    added = dockerignore_text(path)
    if added is None:
        return "kept (exists; --force replaces it)", None
    return ".noxgrid/ added (venvs and reports stay out of the image)", added
