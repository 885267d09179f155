"""Secrets found by content with detect-secrets, in this process (no subprocess, one core).

``scan_files`` scans files on disk (the build context); ``scan_texts`` scans text read out
of an image by writing it to a private temporary folder first (detect-secrets reads files,
and picks its YAML/INI transformers by a file's name, so each keeps its name there).
What is kept of a hit is its file, line and kind: never the secret.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from noxgrid.model.secrets import REPLACED, SecretFinding, findings_of, settings


def _settings() -> dict[str, object]:
    """noxgrid's plugins and filters, on top of detect-secrets' own default filters (the
    allowlist pragma, its heuristics: a baseline's ``filters_used`` replaces them)."""
    from detect_secrets.settings import Settings

    chosen = settings()
    own = [{"path": path} for path in sorted(Settings().filters)]
    chosen["filters_used"] = own + chosen["filters_used"]
    return chosen


def scan_files(root: Path, paths: Iterable[str]) -> list[SecretFinding]:
    """The secrets in ``paths`` (relative to ``root``), each once."""
    # Imported when a scan runs, not with the image stage: detect-secrets imports
    # requests and urllib3, which a run that builds no image would load for nothing.
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import transient_settings

    with tempfile.TemporaryDirectory(prefix="noxgrid-secrets-") as folder:
        collection = SecretsCollection(root=str(_neutral(root, Path(folder))))
        with transient_settings(_settings()) as chosen:
            chosen.disable_filters(*REPLACED)  # a default filter, back with every configuration
            for path in paths:
                collection.scan_file(path)
    return findings_of(
        (Path(name).as_posix(), int(secret.line_number), str(secret.type))
        for name, secret in collection
    )


def _neutral(root: Path, folder: Path) -> Path:
    """``root`` under a name of noxgrid's: detect-secrets' filters read the joined path
    (is_swagger_file skips any that names swagger), so a project in a folder named so
    would read clean throughout, and the /app scan trust that verdict."""
    link = folder / "root"
    try:
        link.symlink_to(root.resolve(), target_is_directory=True)
    except OSError:  # pragma: no cover - no symlinks here: the project's own path
        return root
    return link


def scan_texts(texts: Mapping[str, str]) -> list[SecretFinding]:
    """The secrets in ``texts`` (relative path -> text), scanned from a private copy."""
    if not texts:
        return []
    with tempfile.TemporaryDirectory(prefix="noxgrid-secrets-") as folder:
        root = Path(folder)
        written = []
        for name, text in texts.items():
            target = (root / name).resolve()
            if root.resolve() not in target.parents:
                continue  # never outside the private folder
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            written.append(name)
        return scan_files(root, written)
