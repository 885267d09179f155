"""The files ``noxgrid init`` writes for a requirement-file service. Pure.

Each service gets, in its own folder: a ``pyproject.toml`` holding only
``[tool.noxgrid]`` (no ``[project]``: nothing is installed from it), the
noxfile, the Dockerfile template and a ``.dockerignore`` where it has none.
Its workflow is its own, ``.github/workflows/noxgrid-<service>.yml`` at the
repository's root, with ``[tool.noxgrid.workflow] directory`` naming the
service's folder (docs/ci.md says why one workflow per service).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from noxgrid.init.plan import NOXFILE, Written
from noxgrid.init.services import ServicePlan
from noxgrid.model.config import DockerConfig, Health, default
from noxgrid.render.dockerfile import TEMPLATE, default_dockerignore


def _list(items: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(item) for item in items) + "]"


def image_name(plan: ServicePlan) -> str:
    """A Docker repository name for the service: lower case, ``[a-z0-9._-]``."""
    name = re.sub(r"[^a-z0-9._-]+", "-", plan.name.lower()).strip("-._")
    return name or "service"


def workflow_path(plan: ServicePlan, *, single_root: str | None) -> str:
    """The service's workflow, relative to the repository's root. A service at the
    root keeps the single-project choice (``single_root``: None for ci.yml)."""
    if plan.directory == ".":
        return single_root or ".github/workflows/ci.yml"
    return f".github/workflows/noxgrid-{plan.directory.replace('/', '-')}.yml"


def _profile(name: str, requirements: list[str]) -> list[str]:
    return [
        "",
        f"[tool.noxgrid.profile.{name}]",
        f"requirements = {_list(requirements)}",
        "# A service, not a package: its code is taken from the tree, nothing is installed.",
        "install-project = false",
    ]


def _docker(plan: ServicePlan) -> list[str]:
    health: Health = default(DockerConfig, "health")
    lines = ["", "[tool.noxgrid.docker]", 'dockerfile = "docker/Dockerfile"']
    path = plan.health.path if plan.health else health.path
    health_line = f'health = {{ path = "{path}", port = 8000, timeout = "60s" }}'
    command = plan.command or "uvicorn app:app --host 0.0.0.0 --port 8000"
    command_line = f"command = {json.dumps(command)}"
    if plan.app is not None and plan.health is not None:
        # Both come from the code (model.app_source): the image is built and smoke-tested.
        lines += [f'image = "{image_name(plan)}"', health_line, command_line]
    else:
        lines += [
            "# Declare the image (and, for a service, its health endpoint and command) to build,",
            "# check and start it in every cell:",
            f'# image = "{image_name(plan)}"',
            f"# {health_line}",
            f"# {command_line}",
        ]
    return lines


def render_service_table(plan: ServicePlan, *, workflow: str) -> str:
    """The whole ``pyproject.toml`` of a requirement-file service: ``[tool.noxgrid]`` only."""
    profiles = ["lean", "full"] if plan.full else ["lean"]
    lines = [
        "# Written by `noxgrid init` for a service without a Python package: only noxgrid's",
        "# declaration lives here (no [project]); the reference is noxgrid's docs/reference.md.",
        "[tool.noxgrid]",
        f"python = {_list(plan.pythons)}",
        'accelerators = ["cpu"]',
        f"profiles = {_list(profiles)}",
        *_profile("lean", plan.lean),
    ]
    if plan.full:
        lines += _profile("full", plan.full)
    lines += [
        "",
        "[tool.noxgrid.accelerator.cpu]",
        'base-image = "python:{python}-slim-bookworm"',
        "",
        "[tool.noxgrid.suite]",
        'command = ["pytest"]',
        *_docker(plan),
        "",
        "[tool.noxgrid.workflow]",
        f'path = "{workflow}"',
        f'directory = "{plan.directory}"',
    ]
    return "\n".join(lines) + "\n"


def service_files(
    plan: ServicePlan, *, force: bool, workflow: str
) -> tuple[list[Written], dict[Path, str]]:
    """What to write for one service (path -> text) and each file's fate, paths shown
    relative to the repository's root."""
    files: dict[Path, str] = {}
    fates: list[Written] = []
    prefix = "" if plan.directory == "." else plan.directory + "/"

    def offer(relative: str, text: str) -> None:
        path = plan.folder / relative
        if path.exists() and not force:
            fates.append(Written(prefix + relative, "kept (exists; --force replaces it)"))
            return
        files[path] = text
        fates.append(Written(prefix + relative, "replaced" if path.exists() else "written"))

    offer("pyproject.toml", render_service_table(plan, workflow=workflow))
    offer("noxfile.py", NOXFILE)
    offer("docker/Dockerfile", TEMPLATE.read_text(encoding="utf-8"))
    offer(".dockerignore", default_dockerignore())
    return fates, files
