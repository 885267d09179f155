"""A forbidden package the project itself asks for: the chain ends at the project and the
fix reads as one (model.policy, model.lockfile's chain)."""

from __future__ import annotations

from noxgrid.model.config import Policy
from noxgrid.model.lockfile import parse_lock
from noxgrid.model.policy import evaluate
from tests.unit.model.test_policy import CPU, FULL, lock_of


def test_a_forbidden_dependency_of_the_project_itself_names_the_project():
    # uv's own output for a setup.py project asking for cuda-bindings (its pin left out).
    lock = parse_lock(lock_of(("cuda-bindings", "mysvc"), ("cuda-pathfinder", "cuda-bindings")))
    assert lock.chain("cuda-pathfinder") == ["cuda-pathfinder", "cuda-bindings", "mysvc"]
    [finding] = evaluate(lock, accelerator=CPU, policy=Policy(), profile=FULL)
    assert finding.chains == ("cuda-bindings, cuda-pathfinder <- mysvc",)
    assert finding.fix.startswith(
        "cuda-bindings is a dependency of the project itself (mysvc): move it to an extra "
        "that cpu cells do not install"
    )
    assert "from cuda-bindings" not in finding.fix


def test_a_static_project_dependency_reads_the_same():
    lock = parse_lock(lock_of(("cuda-bindings", "-r pyproject.toml")))
    [finding] = evaluate(lock, accelerator=CPU, policy=Policy(), profile=FULL)
    assert "a dependency of the project itself (pyproject.toml)" in finding.fix


def test_torch_asked_for_by_the_project_gets_the_torch_backend_hint():
    lock = parse_lock(lock_of(("torch", "mysvc"), ("nvidia-cublas-cu12", "torch")))
    [finding] = evaluate(lock, accelerator=CPU, policy=Policy(), profile=FULL)
    assert finding.chains == ("nvidia-cublas-cu12 <- torch <- mysvc",)
    assert 'set torch-backend = "cpu" in [tool.noxgrid.accelerator.cpu]' in finding.fix


def test_a_requirement_file_chain_keeps_its_fix():
    lock = parse_lock(lock_of(("cupy", "-r requirements/full.in"), ("cuda-bindings", "cupy")))
    [finding] = evaluate(lock, accelerator=CPU, policy=Policy(), profile=FULL)
    assert finding.fix.startswith("drop cupy from requirements/full.in for cpu cells")
