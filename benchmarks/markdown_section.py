"""Replace one marked section of docs/benchmarks.md, leaving the rest as it is."""

from __future__ import annotations

from pathlib import Path


def write_section(path: Path, mark: str, section: str) -> None:
    """Put ``section`` between ``<!-- mark:start -->`` and ``<!-- mark:end -->`` (atomically)."""
    start, end = f"<!-- {mark}:start -->", f"<!-- {mark}:end -->"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{start}\n{section}\n{end}"
    if start in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    temporary = path.with_suffix(".md.tmp")
    temporary.write_text(text)
    temporary.replace(path)
