"""The licence each installed distribution states, read from its METADATA.

Pure: reads the venv's files, writes none. The order of trust: a
``License-Expression`` (PEP 639, an SPDX expression), else a short ``License``
field (one line: an SPDX id or a licence's name; a whole licence text pasted
there says nothing short), else the ``License ::`` classifiers' names. A
distribution that says none of these has no licence here ("not known").
"""

from __future__ import annotations

from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

from packaging.utils import canonicalize_name

from noxgrid.model.installed import site_packages

# A License field longer than this, or over several lines, is a licence's text.
SHORT = 100


@dataclass(frozen=True, kw_only=True)
class Licence:
    """What a distribution's metadata says of its licence, and which field said it."""

    expression: str | None = None
    names: tuple[str, ...] = ()
    source: str = ""


def licence_of(metadata: str) -> Licence | None:
    """The licence a METADATA text states, or None when it states none."""
    message = HeaderParser().parsestr(metadata, headersonly=True)
    expression = (message.get("License-Expression") or "").strip()
    if expression:
        return Licence(expression=expression, source="License-Expression")
    field = (message.get("License") or "").strip()
    if field and "\n" not in field and len(field) <= SHORT and field.upper() != "UNKNOWN":
        return Licence(names=(field,), source="License")
    names = tuple(
        dict.fromkeys(
            classifier.split("::")[-1].strip()
            for classifier in message.get_all("Classifier") or []
            if classifier.startswith("License ::") and classifier.count("::") >= 2
        )
    )
    return Licence(names=names, source="classifier") if names else None


def read_licences(venv: Path) -> dict[str, Licence | None]:
    """The licence of each distribution in ``venv`` by canonical name (None where its
    metadata states none)."""
    found: dict[str, Licence | None] = {}
    for site in site_packages(venv):
        for dist_info in sorted(site.glob("*.dist-info")):
            try:
                text = (dist_info / "METADATA").read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            message = HeaderParser().parsestr(text, headersonly=True)
            name = message.get("Name")
            if name:
                found[canonicalize_name(name)] = licence_of(text)
    return found
