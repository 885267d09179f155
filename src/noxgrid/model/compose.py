"""What a repository's compose file says about its services. Pure.

A compose file at the repository's root (``compose.yaml``, ``docker-compose.yml``...)
wires the services: each one with ``build:`` (a context folder, or ``context`` and
``dockerfile``) is a service folder of the repository. Its ``healthcheck`` test
(``curl -f http://localhost:8000/health``, ``wget --spider ...``, a Python one-liner
that opens a URL) gives the health route and the port the container answers on; its
``ports`` (``"8080:80"``, ``- 8000``, ``target: 80``) and ``expose`` the port where the
healthcheck names none. Each value keeps its file:line.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from noxgrid.model.yamllite import Node, read

COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
_URL = re.compile(r"(https?)://[^/:\s\"'`)$]+(?::(\d+))?(?=[/\s\"'`)|;]|$)(/[^\s\"'`)|;]*)?")


@dataclass(frozen=True)
class Value:
    """A value read from the compose file, and where (``file:line``)."""

    value: str
    where: str


@dataclass(frozen=True)
class ComposeService:
    """One service of a compose file that builds from the repository."""

    name: str
    context: str  # relative to the repository's root, POSIX ("." for the root)
    dockerfile: Value | None = None
    health_path: Value | None = None
    port: Value | None = None


def compose_file(repo_root: Path) -> Path | None:
    """The compose file at the repository's root, or None."""
    return next((repo_root / n for n in COMPOSE_FILES if (repo_root / n).is_file()), None)


def _port_of(entry: Node) -> str | None:
    """The container's port of one ``ports``/``expose`` entry."""
    target = entry.get("target")
    if target is not None:
        return target.text
    text = (entry.text or "").split("/", 1)[0]
    port = text.rsplit(":", 1)[-1].split("-", 1)[0]
    return port if port.isdigit() else None


def _health(check: Node | None, where: str) -> tuple[Value | None, Value | None]:
    """(path, port) of the URL a healthcheck's test opens."""
    test = check.get("test") if check is not None else None
    if test is None:
        return None, None
    words = " ".join(n.text or "" for n in test.items())
    match = _URL.search(words)
    if match is None:
        return None, None
    scheme, port, path = match.groups()
    port = port or ("443" if scheme == "https" else "80")
    here = f"{where}:{test.line}"
    return Value((path or "/").split("?", 1)[0], here), Value(port, here)


def _service(name: str, node: Node, base: str, where: str) -> ComposeService | None:
    build = node.get("build")
    if build is None:
        return None  # an image from a registry: not a folder of the repository
    context = build.text if build.text is not None else (build.get("context") or Node("", 0)).text
    if not context or "://" in context or "$" in context:
        return None
    dockerfile = build.get("dockerfile")
    path, port = _health(node.get("healthcheck"), where)
    if port is None:
        for key in ("ports", "expose"):
            entries = (node.get(key) or Node([], 0)).items()
            found = next((p for e in entries if (p := _port_of(e))), None)
            if found:
                port = Value(found, f"{where}:{entries[0].line}")
                break
    return ComposeService(
        name=name,
        context=posixpath.normpath(posixpath.join(base, context)),
        dockerfile=Value(dockerfile.text, f"{where}:{dockerfile.line}")
        if dockerfile is not None and dockerfile.text
        else None,
        health_path=path,
        port=port,
    )


def read_compose(repo_root: Path) -> list[ComposeService]:
    """The services of the repository's compose file that build from a folder of it."""
    path = compose_file(repo_root)
    document = read(path) if path is not None else None
    if path is None or document is None:
        return []
    found = []
    for name, node in (document.get("services") or Node({}, 0)).mapping().items():
        service = _service(name, node, ".", path.name)
        if service is not None:
            found.append(service)
    return found


def service_for(services: list[ComposeService], directory: str) -> ComposeService | None:
    """The compose service that builds the folder ``directory`` (relative, POSIX)."""
    wanted = posixpath.normpath(directory)
    return next((s for s in services if s.context == wanted), None)
