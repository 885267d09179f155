"""Secrets found by what a file holds: detect-secrets' settings, noxgrid's two filters, and
how a finding is shown (file, line and kind; never the secret itself).

Pure: the scanner (``detect-secrets``, a maintained one) reads files, so the scan itself
lives in ``tools.secrets``; this module says which of its plugins run, which of its hits
are not secrets (a lock's digests), and what a finding looks like.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# detect-secrets' plugins that run: cloud and forge tokens, keys, JWTs, high-entropy
# strings (at detect-secrets' own default limits) and keyword assignments.
PLUGINS: tuple[dict[str, Any], ...] = (
    {"name": "AWSKeyDetector"},
    {"name": "GitHubTokenDetector"},
    {"name": "GitLabTokenDetector"},
    {"name": "SlackDetector"},
    {"name": "StripeDetector"},
    {"name": "JwtTokenDetector"},
    {"name": "PrivateKeyDetector"},
    {"name": "PypiTokenDetector"},
    {"name": "OpenAIDetector"},
    {"name": "BasicAuthDetector"},
    {"name": "Base64HighEntropyString", "limit": 4.5},
    {"name": "HexHighEntropyString", "limit": 3.0},
    {"name": "KeywordDetector"},
)

# noxgrid's own filters, added to detect-secrets' defaults (by import path, as its
# settings name filters); REPLACED are defaults that noxgrid's own stand in for.
REPLACED = frozenset({"detect_secrets.filters.heuristic.is_non_text_file"})
FILTERS: tuple[dict[str, Any], ...] = (
    {"path": "noxgrid.model.secrets.is_binary_file"},
    {"path": "noxgrid.model.secrets.is_lock_digest"},
    {"path": "noxgrid.model.secrets.is_named_digest"},
)

# Only files this small are scanned (larger text is data, not configuration), and of an
# image's /app at most SCAN_TOTAL bytes of text (the rest is named as not read).
SCAN_LIMIT = 2**20
SCAN_TOTAL = 256 * 2**20

_ENTROPY = frozenset({"Base64HighEntropyString", "HexHighEntropyString"})
_LOCKS = re.compile(r"^(pylock(\.[^/]+)?\.toml|uv\.lock|pdm\.lock|requirements[^/]*\.lock)$")
_DIGEST = re.compile(
    r"(?:sha1|sha224|sha256|sha384|sha512|md5|blake2b|blake2s)"
    r"""(?:\s*[:=]\s*["']?|["']?\s*[:=]\s*["']|-)$""",
    re.IGNORECASE,
)


def settings() -> dict[str, Any]:
    """detect-secrets' settings (a baseline's ``plugins_used`` and ``filters_used``)."""
    return {"plugins_used": [dict(p) for p in PLUGINS], "filters_used": [dict(f) for f in FILTERS]}


def is_python_lock(filename: str) -> bool:
    """A Python lock file (pylock.toml, uv.lock, pdm.lock, requirements*.lock)."""
    return bool(_LOCKS.match(filename.replace("\\", "/").rsplit("/", 1)[-1]))


def is_binary_file(filename: str) -> bool:
    """detect-secrets' filter of binary files by extension, less the Python locks: it
    names `.lock`, and uv.lock, pdm.lock and requirements*.lock are text an image copies."""
    # Imported when a scan runs (tools.secrets says why).
    from detect_secrets.filters.heuristic import is_non_text_file

    return is_non_text_file(filename) and not is_python_lock(filename)


def is_lock_digest(filename: str, secret: str, plugin: Any) -> bool:
    """A high-entropy hit in a Python lock: its digests (in ``hashes``, in URLs), not a
    secret. Every other kind found in a lock (a URL's ``user:token@``, a token, a
    keyword) is kept: a lock is copied into the image. ``secret`` is named so that
    detect-secrets calls this once per hit (it injects filters' arguments by name)."""
    del secret
    return type(plugin).__name__ in _ENTROPY and is_python_lock(filename)


def is_named_digest(secret: str, line: str) -> bool:
    """A hex string that the line names as a digest (``sha256:``, ``--hash=sha256:``,
    ``sha256 = "``, ``#sha256=``): a file's hash, not a secret."""
    if not re.fullmatch(r"[0-9a-fA-F]{32,128}", secret):
        return False
    start = line.find(secret)
    while start >= 0:
        if _DIGEST.search(line[max(0, start - 16) : start]):
            return True
        start = line.find(secret, start + 1)
    return False


@dataclass(frozen=True, order=True)
class SecretFinding:
    """A secret a scan found: where (file, line) and what kind; the value is never kept."""

    path: str
    line: int
    kind: str

    def render(self) -> str:
        """``path:line (kind)``."""
        return f"{self.path}:{self.line} ({self.kind})"


def secrets_problem(findings: Sequence[SecretFinding], where: str) -> str | None:
    """One problem naming each secret found in ``where`` (file:line and kind), or None."""
    if not findings:
        return None
    files = len({finding.path for finding in findings})
    shown = sorted(set(findings))
    return (
        f"{where} holds {len(shown)} secret(s) in {files} file(s), found by what they hold "
        f"(detect-secrets): {', '.join(f.render() for f in shown[:20])}"
        + (f" and {len(shown) - 20} more" if len(shown) > 20 else "")
        + "; fix: delete them from the project (or list the files in .dockerignore), "
        "read secrets at run time (environment, mounted files), and rotate any key that "
        "was ever in a pushed image; a false hit: add `# pragma: allowlist secret` to its line"
    )


def findings_of(pairs: Iterable[tuple[str, int, str]]) -> list[SecretFinding]:
    """Findings from (path, line, kind) triples, each once, in order."""
    return sorted({SecretFinding(path=p, line=n, kind=k) for p, n, k in pairs})


def text_key(path: str, data: bytes) -> tuple[str, str]:
    """(relative path, SHA-256 of its bytes): a file read clean in the build context is not
    read again where the image holds the same bytes at the same path under /app. The whole
    path, never the name alone: detect-secrets' filters read it (is_swagger_file skips any
    path that names swagger), so the same bytes in another folder may hold a finding."""
    return path.replace("\\", "/"), hashlib.sha256(data).hexdigest()
