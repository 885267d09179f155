"""The parts of init's ``[tool.noxgrid]`` text that come from what the repository says
and what locking found: the python axis with what was left out and why, the
accelerators (a gpu one only where the repository builds for GPUs), uv's torch backend.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from noxgrid.init.axis import LeftOut
    from noxgrid.init.plan import Plan
    from noxgrid.model.gpufiles import GpuEvidence
    from noxgrid.model.poetryapp import PoetryApp


class Declared(Protocol):
    """What these lines read of a plan: a project's (``init.plan.Plan``) or a
    requirement-file service's (``init.services.ServicePlan``)."""

    pythons: list[str]
    left_out: list[LeftOut]
    gpu: list[GpuEvidence]
    torch: bool
    notes: list[str]


GPU_TORCH_BACKEND = "cu126"


def _toml_list(items: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(item) for item in items) + "]"


def _comment(text: str) -> str:
    return "# " + " ".join(text.split())


def axis_lines(plan: Declared) -> list[str]:
    """``python``, ``exclude`` and ``accelerators`` of ``[tool.noxgrid]``."""
    lines = [
        _comment(f"left out python {item.python}: {item.reason}")
        for item in plan.left_out
        if item.accelerator is None
    ]
    lines.append(f"python = {_toml_list(plan.pythons)}")
    cells = [item for item in plan.left_out if item.accelerator is not None]
    if cells:
        lines.append("exclude = [")
        for item in cells:
            lines.append("  " + _comment(f"{item.what}: {item.reason}"))
            axes = {"python": item.python, "accelerator": item.accelerator, "profile": item.profile}
            inner = ", ".join(f"{key} = {json.dumps(value)}" for key, value in axes.items())
            lines.append(f"  {{ {inner} }},")
        lines.append("]")
    accelerators = ["cpu", "gpu"] if plan.gpu else ["cpu"]
    lines.append(f"accelerators = {_toml_list(accelerators)}")
    return lines


def cpu_lines(plan: Declared) -> list[str]:
    """``[tool.noxgrid.accelerator.cpu]``."""
    lines = ["[tool.noxgrid.accelerator.cpu]", 'base-image = "python:{python}-slim-bookworm"']
    if plan.torch:
        lines.append('torch-backend = "cpu"  # PyPI\'s torch is the CUDA build')
    return lines


def gpu_lines(plan: Declared, replace: Mapping[str, str] | None = None) -> list[str]:
    """``[tool.noxgrid.accelerator.gpu]`` where the repository builds for GPUs, else none.
    ``replace``: the swaps read from a GPU requirement file; None: onnxruntime's where
    the signs name onnxruntime-gpu."""
    if not plan.gpu:
        return []
    lines = ["", "[tool.noxgrid.accelerator.gpu]", "# Proposed: the repository builds for GPUs:"]
    lines += [_comment(f"  {item.render()}") for item in plan.gpu[:5]]
    lines.append('base-image = "python:{python}-slim-bookworm"')
    if plan.torch:
        lines.append(f'torch-backend = "{GPU_TORCH_BACKEND}"')
    if replace is None and any("onnxruntime-gpu" in item.what for item in plan.gpu):
        replace = {"onnxruntime": "onnxruntime-gpu"}
    if replace:
        swaps = ", ".join(f"{old} = {json.dumps(new)}" for old, new in replace.items())
        lines.append(f"replace = {{ {swaps} }}")
    lines += [
        "# The labels of your GPU runners (GitHub's hosted runners have no GPU):",
        'runs-on = ["self-hosted", "linux", "gpu"]',
    ]
    return lines


def declare_application(plan: Plan, app: PoetryApp) -> None:
    """A poetry application into the plan: no project to install, its dependencies
    written as the first requirements input of every profile."""
    from noxgrid.model.poetryapp import APP_REQUIREMENTS

    plan.app_requirements = APP_REQUIREMENTS
    plan.app_text = app.requirements_text()
    plan.notes.insert(
        0,
        f"not a package ({app.why}): install-project = false, its code is the tree; "
        f"[tool.poetry.dependencies] copied to {APP_REQUIREMENTS} in PEP 508",
    )
    if app.untranslated:
        plan.notes.append(
            f"{APP_REQUIREMENTS}: no PEP 508 form for {'; '.join(app.untranslated)}: "
            "add them by hand"
        )
