"""What init adds to a project's existing ``.dockerignore``: the folders noxgrid's own
runs leave in the project's root.

noxgrid's venvs, reports and caches live under ``.noxgrid/``, and the suite runs pytest
from the root, which leaves ``.pytest_cache/``; a Dockerfile that copies the build
context (``COPY . .``) would carry them into the image, where the image stage's
leftover and secret checks then fail (the second cell's image holds the first's
leftovers). A project with no ``.dockerignore`` gets noxgrid's default one, which
already names them.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

from noxgrid.render.dockerfile import default_dockerignore

# What noxgrid's runs leave in the project's root (each a folder).
LEFT_BY_RUNS = (".noxgrid", ".pytest_cache")

COMMENT = "# what noxgrid's runs leave here stays out of images (noxgrid init)"


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


def ignores(text: str, name: str = ".noxgrid") -> bool:
    """True when a .dockerignore's text keeps the top-level ``name`` out of the build
    context (the last pattern naming it wins, as Docker reads them)."""
    excluded = False
    for line in text.splitlines():
        pattern = _pattern(line)
        if not pattern:
            continue
        negated = pattern.startswith("!")
        if _names(pattern.lstrip("!"), name):
            excluded = not negated
    return excluded


def missing(text: str) -> list[str]:
    """What noxgrid's runs leave that a .dockerignore's text does not keep out."""
    return [name for name in LEFT_BY_RUNS if not ignores(text, name)]


def dockerignore_text(path: Path) -> str | None:
    """The existing .dockerignore with what noxgrid's runs leave added, or None when
    there is no file (init offers its default one) or it keeps all of that out."""
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    added = missing(text)
    if not added:
        return None
    separator = "" if not text or text.endswith("\n") else "\n"
    return f"{text}{separator}{COMMENT}\n" + "".join(f"{name}/\n" for name in added)


def dockerignore_fate(path: Path, *, force: bool) -> tuple[str, str | None]:
    """What init does to the project's ``.dockerignore`` and the text it writes (None:
    the file stays as it is): noxgrid's default where there is none (or with --force),
    else the project's own with what noxgrid's runs leave added where it lacks it."""
    if not path.exists() or force:
        return ("replaced" if path.exists() else "written"), default_dockerignore()
    text = dockerignore_text(path)
    if text is None:
        return "kept (exists; --force replaces it)", None
    added = ", ".join(f"{name}/" for name in missing(path.read_text(encoding="utf-8")))
    return f"{added} added (what noxgrid's runs leave stays out of the image)", text
