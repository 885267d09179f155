"""GitHub Actions workflow commands for a failed cell: annotations on the files at fault. Pure.

``::error file=tests/test_api.py,line=12,title=...::message`` puts the failure
beside the line in the pull request's diff view. Data and properties are
escaped as the runner reads them (``%``, CR, LF; and ``:``, ``,`` in
properties), after the text is cleaned of control characters.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from noxgrid.model.text import clean_text

_FRAME = re.compile(r"^([^\s:][^:\n]*\.py):(\d+):", re.MULTILINE)


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def error(message: str, *, title: str, file: str | None = None, line: int | None = None) -> str:
    """One ``::error`` command (no trailing newline)."""
    properties = []
    if file:
        properties.append(f"file={_property(file)}")
        if line:
            properties.append(f"line={line}")
    properties.append(f"title={_property(clean_text(title))}")
    return f"::error {','.join(properties)}::{_data(clean_text(message).strip())}"


def failed_test_annotations(junit: str, root: Path, *, cell: str, limit: int = 10) -> list[str]:
    """An ``::error`` for each failed or errored test in pytest's JUnit XML (at most ``limit``).

    The file and line are the deepest frame of the traceback inside the
    project (what pytest prints as ``path.py:12: AssertionError``), else the
    test's own file from the XML.
    """
    try:
        document = ET.fromstring(junit)
    except ET.ParseError:
        return []
    found = []
    for case in document.iter("testcase"):
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is None:
            continue
        text = problem.text or ""
        frames = [
            (path, int(number))
            for path, number in _FRAME.findall(text)
            if not Path(path).is_absolute() and (root / path).is_file()
        ]
        file, line = frames[-1] if frames else (case.get("file"), None)
        if line is None and case.get("line", "").isdigit():
            line = int(case.get("line", "0")) + 1  # pytest writes it 0-based
        name = case.get("name", "?")
        message = problem.get("message") or text.strip().split("\n")[-1] or "failed"
        found.append(error(message, title=f"{cell}: {name}", file=file, line=line))
        if len(found) >= limit:
            break
    return found
