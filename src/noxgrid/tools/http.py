"""One HTTP GET, as the smoke stage asks a started container's health endpoint."""

from __future__ import annotations


def status_of(url: str, *, timeout: float = 2.0) -> tuple[int | None, str]:
    """(HTTP status, or None when nothing answered; a word on what happened)."""
    # Imported here: a cell without an image never asks (urllib costs 25 ms to import).
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status), f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return int(exc.code), f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))
