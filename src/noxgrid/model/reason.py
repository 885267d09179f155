"""A stage's failure on one line, ``cause; fix: ...``: the one rendering every front end
(nox's session line, ``noxgrid run``, ``noxgrid report``, the job summary, JUnit) shows.
Pure.

A stage's detail is a paragraph: its first line says the cause, and where it ends with
":" the next lines hold what it announces (a list, a policy finding) and a ``fix:``
line. :func:`failure_line` folds that paragraph into one line that carries the cause
and its fix and never ends with a colon.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from noxgrid.model.text import clean_text

if TYPE_CHECKING:
    from noxgrid.model.policy import Finding

_FIXES = ("fix:", "likely fix:")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in clean_text(text).strip().split("\n") if line.strip()]


def _fix_of(line: str) -> str | None:
    for prefix in _FIXES:
        if line.startswith(prefix):
            return line[len(prefix) :].strip()
    return None


def failure_line(text: str, limit: int = 600) -> str:
    """``text`` (a failed stage's detail) as one line: its cause, what the cause announces
    (the lines after one ending with ":", list items ``- ...``) and its fix (the first
    ``fix:`` line, where the cause does not carry one already); never ending with ":";
    cut at ``limit`` characters with "...", the fix kept whole."""
    lines = _lines(text)
    if not lines:
        return ""
    parts = [lines[0]]
    for line in lines[1:]:
        if _fix_of(line) is not None or not (parts[-1].endswith(":") or line.startswith("- ")):
            break
        # List items after the first are apart: "...: a; fix: x; b".
        joint = "" if parts[-1].endswith(":") else ";"
        parts[-1] += joint
        parts.append(line.removeprefix("- "))
    fix = next((found for found in map(_fix_of, lines[1:]) if found is not None), None)
    cause = " ".join(" ".join(parts).split()).rstrip(":; ")
    if fix is None or "fix: " in cause:
        return _cut(cause, limit)
    tail = "; fix: " + " ".join(fix.split()).rstrip(":; ")
    return _cut(cause, max(limit - len(tail), 80)) + tail


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def failed_at(stage: str, detail: str) -> str:
    """``<stage>: <cause; fix>`` for a failed stage."""
    reason = failure_line(detail)
    return f"{stage}: {reason}" if reason else f"{stage} failed (no reason was recorded)"


def finding_cause(finding: Finding) -> str:
    """A policy finding's message on one line, with its first three chains (the packages
    it names): never ending with a colon."""
    chains = [" ".join(chain.split()) for chain in finding.chains]
    shown = "; ".join(chains[:3]) + ("; ..." if len(chains) > 3 else "")
    message = finding.message.rstrip(": ")
    return message + (f": {shown}" if shown else "")


def refusal_line(findings: Sequence[Finding]) -> str:
    """Policy findings that refuse a lock, on one line: each one's kind and message with
    its first chains, then each fix (the policy's, not "lock again", which refuses again)."""
    causes = [f"[{finding.kind}] {finding_cause(finding)}" for finding in findings]
    fixes = list(dict.fromkeys(finding.fix.rstrip(". ") for finding in findings))
    return "; ".join(causes) + "; fix: " + "; ".join(fixes)
