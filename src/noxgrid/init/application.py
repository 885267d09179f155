"""What ``init`` declares about the application an image starts: read from the code.

The application object and its health route come from the source
(``model.app_source``); the server that starts it from the requirements (uvicorn,
hypercorn, gunicorn, flask). With both found, ``[tool.noxgrid.docker]``
declares the image, its command and its health path, so every cell builds and
smoke-tests it; otherwise the lines stay comments with today's defaults, and
the notes say what was not found.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from noxgrid.model.app_source import FoundApp, FoundRoute, find_app, find_health, schema_route
from noxgrid.model.ci_variants import read_pins
from noxgrid.model.config import DockerConfig, Health, default
from noxgrid.model.drift import own_files, walk_files

PORT = 8000
DEFAULT_COMMAND = f"uvicorn app:app --host 0.0.0.0 --port {PORT}"


@dataclass(frozen=True)
class Application:
    """The application found (or not), its health route, how it starts, and what was said."""

    app: FoundApp | None = None
    health: FoundRoute | None = None
    command: str | None = None
    notes: tuple[str, ...] = ()
    port: int = PORT  # where the image's server listens (the compose file's, else 8000)

    @property
    def declared(self) -> bool:
        """True when the image can be declared: both the app and its health route known."""
        return self.app is not None and self.health is not None


def server_command(
    app: FoundApp, requirements: set[str], port: int = PORT
) -> tuple[str, str | None]:
    """(how the image starts the application, a note when its server is not required)."""
    spec = app.spec()
    if app.kind == "asgi" and "hypercorn" in requirements and "uvicorn" not in requirements:
        return f"hypercorn {spec} --bind 0.0.0.0:{port}", None
    if app.kind == "wsgi" and "gunicorn" in requirements:
        return f"gunicorn --bind 0.0.0.0:{port} {spec}", None
    if app.kind == "wsgi":
        return f"flask --app {spec} run --host 0.0.0.0 --port {port}", None
    note = None
    if "uvicorn" not in requirements:
        note = (
            "uvicorn is not in the requirements: add it, or change "
            "[tool.noxgrid.docker] command to the server the image has"
        )
    return f"uvicorn {spec} --host 0.0.0.0 --port {port}", note


def read_application(root: Path, files: Iterable[Path], requirements: set[str]) -> Application:
    """The application and health route of the code under ``root`` (pure: reads files).
    ``requirements``: the canonical names the profiles install (for the server)."""
    files = list(files)
    app, health = find_app(root, files), find_health(root, files)
    notes: list[str] = []
    command = None
    if app is None:
        notes.append("no application object found (FastAPI/Starlette/Flask): no image declared")
    else:
        command, note = server_command(app, requirements)
        notes += [note] if note else []
        notes.append(f"application: {app.spec()} ({app.where}), started as `{command}`")
    schema = schema_route(app) if app is not None and health is None else None
    if schema is not None:
        health = schema
        notes.append(
            f"no health route found (health, ready, live, heartbeat...): the health path is "
            f"GET {schema.path}, the OpenAPI schema FastAPI serves once the app is up "
            f"({schema.where}); declare a health route to check more and change it"
        )
    elif health is None:
        notes.append(
            "no health route found (health, ready, live, heartbeat...): the health path "
            "stays /ready and no image is declared; declare both by hand"
        )
    else:
        notes.append(f"health route: GET {health.path} ({health.function}, {health.where})")
    return Application(app=app, health=health, command=command, notes=tuple(notes))


def image_name(name: str) -> str:
    """A Docker repository name: lower case, ``[a-z0-9._-]``."""
    return re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-._") or "service"


def docker_lines(
    name: str, application: Application | None, dockerfile: str = "docker/Dockerfile"
) -> list[str]:
    """The ``[tool.noxgrid.docker]`` table: declared from the code, or commented defaults."""
    health: Health = default(DockerConfig, "health")
    found = application or Application()
    path = found.health.path if found.health else health.path
    health_line = f'health = {{ path = "{path}", port = {found.port}, timeout = "60s" }}'
    command_line = f"command = {json.dumps(found.command or DEFAULT_COMMAND)}"
    lines = ["", "[tool.noxgrid.docker]", f"dockerfile = {json.dumps(dockerfile)}"]
    if found.declared:
        # Both read from the code (model.app_source): the image is built and smoke-tested.
        return [*lines, f'image = "{image_name(name)}"', health_line, command_line]
    return [
        *lines,
        "# Declare the image (and, for a service, its health endpoint and command) to build,",
        "# check and start it in every cell:",
        f'# image = "{image_name(name)}"',
        f"# {health_line}",
        f"# {command_line}",
    ]


def _names(requirements: Iterable[object]) -> set[str]:
    found: set[str] = set()
    for text in requirements:
        try:
            found.add(canonicalize_name(Requirement(str(text)).name))
        except InvalidRequirement:
            continue
    return found


def project_application(
    root: Path, project: Mapping[str, Any], requirement_files: Iterable[str] = ()
) -> Application:
    """The application of a project with a ``[project]`` table: its code under ``root``
    (nested projects left out), its server from its dependencies, every extra's, and
    ``requirement_files``' (relative to ``root``)."""
    optional = project.get("optional-dependencies", {}) or {}
    names = _names(project.get("dependencies", []) or [])
    names |= _names(item for items in optional.values() for item in items or [])
    for name in requirement_files:
        names |= set(read_pins(root / name))
    return read_application(root, own_files(root, walk_files(root)), names)
