"""What else ``noxgrid init`` reads of the repository besides its requirements: the
pytest options its CI passes, the lock it keeps for another tool, whether it builds
for GPUs, whether it asks for torch."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from noxgrid.model.foreign_locks import read_foreign_lock
from noxgrid.model.gpufiles import GpuEvidence, gpu_evidence, torch_backend_needed
from noxgrid.model.testoptions import project_test_options

if TYPE_CHECKING:
    from noxgrid.init.declare import Declared
    from noxgrid.init.plan import Plan


def read_repository(
    plan: Plan, project: Mapping[str, Any], root: Path, extras: Mapping[str, Any]
) -> None:
    """What else the repository says: its CI's pytest options, its lock for another tool,
    its GPU builds, torch."""
    options = project_test_options(root)
    if options is not None and options.args:
        plan.suite_args = list(options.args)
        plan.notes.append(
            f"suite command: pytest {shlex.join(plan.suite_args)}, the options the project's "
            f"own CI passes ({options.where})"
        )
    foreign = read_foreign_lock(root, plan.name)
    if foreign is not None:
        plan.notes.append(
            f"first locks prefer the {len(foreign.pins)} pins of {foreign.file} "
            "(the versions the project tests with today)"
        )
    wanted = list(project.get("dependencies", []) or [])
    wanted += [item for items in extras.values() for item in items or []]
    read_builds(plan, gpu_evidence(root), _names(wanted))


def read_builds(plan: Declared, gpu: list[GpuEvidence], names: set[str]) -> None:
    """Into ``plan``, each said: the signs of a GPU build (a gpu accelerator is proposed
    with them) and whether the project asks for torch by name (uv's torch backend)."""
    plan.gpu = gpu
    if plan.gpu:
        shown = ", ".join(item.render() for item in plan.gpu[:3])
        more = f" (+{len(plan.gpu) - 3} more)" if len(plan.gpu) > 3 else ""
        plan.notes.append(
            f"accelerators: cpu and gpu (the repository builds for GPUs: {shown}{more})"
        )
    else:
        plan.notes.append(
            "accelerators: cpu (no GPU requirement file, GPU Dockerfile or CUDA pin found)"
        )
    plan.torch = torch_backend_needed(names)
    if plan.torch:
        plan.notes.append(
            'torch-backend: the project asks for torch: cpu cells take its CPU build ("cpu")'
            + (', gpu cells CUDA 12.6 ("cu126")' if plan.gpu else "")
        )


def _names(items: Iterable[Any]) -> set[str]:
    names: set[str] = set()
    for item in items:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", str(item))
        if match:
            names.add(canonicalize_name(match.group(1)))
    return names
