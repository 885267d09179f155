"""scripts/base_images.py never copies a system prefix into a "slim" base."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "base_images.py"


def load():
    spec = importlib.util.spec_from_file_location("base_images", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("interpreter", ["/usr/bin/python3.11", "/usr/local/bin/python3.11"])
def test_an_interpreter_in_a_system_prefix_is_refused(monkeypatch, interpreter):
    module = load()
    monkeypatch.setattr(
        module, "find_interpreter", lambda version: SimpleNamespace(path=Path(interpreter))
    )
    with pytest.raises(SystemExit) as stopped:
        module.python_image("docker", "base", "3.11")
    message = str(stopped.value)
    assert "lives in the system prefix" in message and "uv python install 3.11" in message


def test_only_the_interpreters_own_programs_are_copied():
    module = load()
    names = ["python3.11", "pip3", "pydoc3.11", "2to3-3.11", "uv", "ruff", "zizmor"]
    kept = [n for n in names if n.startswith(module.OWN_PROGRAMS)]
    assert kept == ["python3.11", "pip3", "pydoc3.11", "2to3-3.11"]
    assert module.SIZE_LIMIT == 250_000_000
