"""No step of a generated workflow downloads a floating version: every action at a
commit, every tool an action installs at a version, every pip requirement pinned."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import yaml

from noxgrid.errors import ConfigError
from noxgrid.model.declaration import load_config
from noxgrid.model.workflow_section import pinned_uv, runner_uv
from noxgrid.render.workflow import render_workflows

PROJECT = """
[project]
name = "svc"
requires-python = ">=3.9"

[tool.noxgrid]
python = ["3.10", "3.11"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]

[tool.noxgrid.accelerator.gpu]
runs-on = ["self-hosted", "linux", "gpu"]
"""
DOCKER = '\n[tool.noxgrid.docker]\nimage = "svc"\n'

_EXACT = re.compile(r"^v?\d+(\.\d+){2}$")  # X.Y.Z: one release
_PYTHON = re.compile(r"^\d+\.\d+(\.\d+)?$")  # a CPython minor (the cell's) or a release
# What each action downloads, and the input that must pin it.
PINNING_INPUTS = {
    "astral-sh/setup-uv": ("version",),
    "docker/setup-buildx-action": ("version", "driver-opts"),
}


def _steps(workflow: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for name, job in workflow["jobs"].items():
        for step in job["steps"]:
            yield name, step


def floating(workflow: Mapping[str, Any]) -> list[str]:
    """Every floating version the workflow's steps would download."""
    found = []
    for job, step in _steps(workflow):
        where = f"job {job}, step {step.get('name') or step.get('uses') or step.get('run')}"
        uses = str(step.get("uses", ""))
        options = step.get("with") or {}
        if uses:
            action, _, ref = uses.partition("@")
            if not re.fullmatch(r"[0-9a-f]{40}", ref):
                found.append(f"{where}: {uses} is not pinned to a commit")
            for key in PINNING_INPUTS.get(action, ()):
                value = str(options.get(key, ""))
                tag = value.rpartition(":")[2] if key == "driver-opts" else value
                if not _EXACT.match(tag):
                    found.append(f"{where}: {key} {value!r} is not one release")
            if action == "actions/setup-python":
                for version in str(options.get("python-version", "")).splitlines():
                    if version != "${{ matrix.python }}" and not _PYTHON.match(version):
                        found.append(f"{where}: python-version {version!r} floats")
        run = str(step.get("run", ""))
        for line in run.splitlines():
            if "pip install" in line:
                found += [f"{where}: {w}" for w in _unpinned(line, step.get("env") or {})]
    return found


def _unpinned(line: str, env: Mapping[str, str]) -> list[str]:
    words = shlex.split(line.split("pip install", 1)[1])
    out, skip = [], False
    for word in words:
        if skip or word.startswith("-"):
            skip = word in ("-r", "-e", "--requirement", "--editable")
            continue
        value = env.get(word.lstrip("$").strip("{}"), word) if word.startswith("$") else word
        local = value.startswith((".", "/")) or value in (".", "..")
        if not local and "==" not in value:
            out.append(f"pip install {value!r} is not pinned with ==")
    return out


@pytest.mark.parametrize("extra", ["", DOCKER])
def test_no_step_of_a_generated_workflow_downloads_a_floating_version(make_project, extra):
    config = load_config(make_project(PROJECT + extra))
    for path, text in render_workflows(config).items():
        assert floating(yaml.safe_load(text)) == [], path


def test_the_walk_finds_each_floating_kind():
    steps = [
        {"uses": "astral-sh/setup-uv@" + "a" * 40, "with": {"enable-cache": True}},
        {"uses": "docker/setup-buildx-action@v4"},
        {"uses": "actions/setup-python@" + "b" * 40, "with": {"python-version": "3.x"}},
        {"run": "python -m pip install noxgrid", "env": {}},
        {"run": 'pip install "$NOXGRID_INSTALL"', "env": {"NOXGRID_INSTALL": "noxgrid>=1"}},
    ]
    found = floating({"jobs": {"j": {"steps": steps}}})
    assert len(found) == 7, found  # setup-uv version; buildx ref, version, image; 3.x; 2 pips
    pinned = [
        {"uses": "astral-sh/setup-uv@" + "a" * 40, "with": {"version": "0.9.1"}},
        {"run": 'pip install -e "$I" uv==0.9.1', "env": {"I": "../.."}},
    ]
    assert floating({"jobs": {"j": {"steps": pinned}}}) == []


def test_setup_uv_and_pip_pin_the_uv_noxgrid_runs(make_project, tmp_path):
    config = load_config(make_project(PROJECT))
    text = render_workflows(config)[config.workflow_file]
    uv = runner_uv(None)
    assert uv and f'version: "{uv}"' in text and f"uv=={uv}" in text
    assert pinned_uv("noxgrid==1.0 \\\n    --hash=sha256:ab\nuv==0.8.3 --hash=sha256:cd\n") == (
        "0.8.3"
    )
    assert pinned_uv("uvicorn==0.30\n") is None
    requirements = tmp_path / "r.txt"
    requirements.write_text("uv==0.7.2 \\\n  --hash=sha256:00\n", encoding="utf-8")
    assert runner_uv(requirements) == "0.7.2"


def test_a_stated_uv_is_the_one_pinned_wherever_the_workflow_is_generated(make_project):
    stated = PROJECT + '\n[tool.noxgrid.workflow]\nuv = "0.9.1"\n'
    config = load_config(make_project(stated))
    assert config.workflow.uv == "0.9.1"
    text = render_workflows(config)[config.workflow_file]
    assert 'version: "0.9.1"' in text and "uv==0.9.1" in text
    with pytest.raises(ConfigError, match="not a uv release"):
        load_config(make_project(PROJECT + '\n[tool.noxgrid.workflow]\nuv = "latest"\n'))
