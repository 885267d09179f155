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

from noxgrid.init.application import docker_lines
from noxgrid.init.declare import axis_lines, cpu_lines, gpu_lines
from noxgrid.init.ignores import dockerignore_fate
from noxgrid.init.plan import NOXFILE, Written
from noxgrid.init.services import ServicePlan
from noxgrid.render.dockerfile import TEMPLATE


def _list(items: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(item) for item in items) + "]"


def workflow_path(plan: ServicePlan, *, single_root: str | None) -> str:
    """The service's workflow, relative to the repository's root. A service at the
    root keeps the single-project choice (``single_root``: None for ci.yml)."""
    if plan.directory == ".":
        return single_root or ".github/workflows/ci.yml"
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", plan.directory).strip("-")
    return f".github/workflows/noxgrid-{name}.yml"


def _profile(name: str, requirements: list[str], apt: list[str], local: list[str]) -> list[str]:
    lines = [
        "",
        f"[tool.noxgrid.profile.{name}]",
        f"requirements = {_list(requirements)}",
        "# A service, not a package: its code is taken from the tree, nothing is installed.",
        "install-project = false",
    ]
    if local:
        lines += [
            "# Projects in the service's folder its CI installs (--no-deps, after the lock).",
            f"local-packages = {_list(local)}",
        ]
    if apt:
        lines += [
            "# What the service's own Dockerfile installs with apt-get.",
            f"apt = {_list(apt)}",
        ]
    return lines


def render_service_table(plan: ServicePlan, *, workflow: str) -> str:
    """The whole ``pyproject.toml`` of a requirement-file service: ``[tool.noxgrid]`` only."""
    profiles = ["lean", "full"] if plan.full else ["lean"]
    lines = [
        "# Written by `noxgrid init` for a service without a Python package: only noxgrid's",
        "# declaration lives here (no [project]); the reference is noxgrid's docs/reference.md.",
        "[tool.noxgrid]",
        *axis_lines(plan),
        f"profiles = {_list(profiles)}",
        *_profile("lean", plan.lean, plan.apt.get("lean", []), plan.local_packages),
    ]
    if plan.full:
        lines += _profile("full", plan.full, plan.apt.get("full", []), plan.local_packages)
    lines += [
        "",
        *cpu_lines(plan),
        *gpu_lines(plan, plan.gpu_replace),
        "",
        "[tool.noxgrid.suite]",
        f"command = {_list(['pytest', *plan.suite_args])}",
        *docker_lines(plan.name, plan.application),
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
    for relative, text in plan.extra_files.items():
        offer(relative, text)
    offer("noxfile.py", NOXFILE)
    offer("docker/Dockerfile", TEMPLATE.read_text(encoding="utf-8"))
    action, ignored = dockerignore_fate(plan.folder / ".dockerignore", force=force)
    if ignored is not None:
        files[plan.folder / ".dockerignore"] = ignored
    fates.append(Written(prefix + ".dockerignore", action))
    _ignore_state(plan.folder, prefix, files, fates)
    return fates, files


def _ignore_state(folder: Path, prefix: str, files: dict[Path, str], fates: list[Written]) -> None:
    """``.noxgrid/`` (venvs, reports, caches) git-ignored in the service's folder."""
    path = folder / ".gitignore"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if any(line.strip().strip("/") == ".noxgrid" for line in text.splitlines()):
        return
    files[path] = text + ("" if text.endswith("\n") or not text else "\n") + ".noxgrid/\n"
    fates.append(Written(prefix + ".gitignore", ".noxgrid/ added" if text else "written"))
