"""The Debian packages a service's own Dockerfile installs. Pure: text in, names out.

``RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0``
(continuation lines joined, ``apt`` as well as ``apt-get``) gives ``libgl1`` and
``libglib2.0-0``, each with the line of its ``RUN``. A version pin (``libgl1=1.7.0-1``)
keeps the name; options, variables and the distribution's own Python (``python3*``:
noxgrid's image takes Python from its base) are left out. ``init`` carries them into
the profile's ``apt`` list so the cells' images have what the service's image has.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from noxgrid.model.dockerpython import instructions

_SEPARATORS = re.compile(r"&&|\|\||;|\|")
_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
# apt-get options followed by a value.
_WITH_VALUE = {"-o", "--option", "-t", "--target-release", "-c", "--config-file"}


def _packages(words: list[str]) -> list[str]:
    if len(words) < 2 or words[0].rsplit("/", 1)[-1] not in ("apt-get", "apt"):
        return []
    if "install" not in words:
        return []
    found: list[str] = []
    skip = False
    for word in words[words.index("install") + 1 :]:
        if skip:
            skip = False
            continue
        if word in _WITH_VALUE:
            skip = True
            continue
        name = word.split("=", 1)[0]
        if word.startswith("-") or "$" in word or not _NAME.match(name):
            continue
        if name.startswith("python3") or name == "python":
            continue
        found.append(name)
    return found


def apt_packages(text: str) -> list[tuple[str, int]]:
    """(package, line of its RUN) of every ``apt-get install`` of a Dockerfile's text."""
    found: list[tuple[str, int]] = []
    for line, instruction in instructions(text):
        keyword, _, rest = instruction.partition(" ")
        if keyword.upper() != "RUN":
            continue
        for part in _SEPARATORS.split(rest):
            try:
                words = shlex.split(part)
            except ValueError:
                continue
            words = words[1:] if words[:1] == ["sudo"] else words
            for name in _packages(words):
                if name not in [n for n, _ in found]:
                    found.append((name, line))
    return found


def dockerfile_apt(path: Path) -> list[tuple[str, int]]:
    """:func:`apt_packages` of the Dockerfile at ``path`` (nothing when unreadable)."""
    try:
        return apt_packages(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return []
