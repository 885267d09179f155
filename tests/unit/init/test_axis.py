from __future__ import annotations

from pathlib import Path

from noxgrid.init.axis import cut_matrix, python_reason, torch_refused, uv_reason
from noxgrid.lock.steps import LockOutcome
from noxgrid.model.matrix import Cell
from noxgrid.model.policy import Finding

UV_NO_SOLUTION = """\
  \u00d7 No solution found when resolving dependencies:
  ╰─▶ Because the requested Python version (>=3.8) does not satisfy Python>=3.9 and
      numpy==2.0.2 depends on Python>=3.9, we can conclude that numpy==2.0.2 cannot be used.
      And because you require numpy==2.0.2, we can conclude that your requirements are
      unsatisfiable.
"""


def outcome(cell_id: str, *, written: bool = True, error: str | None = None, findings=()):
    python, accelerator, profile = cell_id.split("-")
    cell = Cell(python=python, accelerator=accelerator, profile=profile)
    result = LockOutcome(cell=cell, path=Path(f"{cell_id}.toml"), written=written, error=error)
    result.findings = list(findings)
    return result


def failed(cell_id: str) -> LockOutcome:
    return outcome(
        cell_id, written=False, error=f"uv could not resolve {cell_id}:\n{UV_NO_SOLUTION}"
    )


def source_build(cell_id: str) -> LockOutcome:
    finding = Finding(
        kind="source-build", packages=("numpy",), chains=(), message="no wheel", fix="x"
    )
    return outcome(cell_id, written=False, findings=[finding])


def test_uvs_explanation_on_one_line():
    reason = uv_reason(UV_NO_SOLUTION)
    assert reason.startswith("Because the requested Python version (>=3.8)")
    assert reason.endswith("your requirements are unsatisfiable.")
    assert "\n" not in reason and "╰" not in reason


def test_uvs_plain_output_too():
    text = (
        "Error: No solution found when resolving dependencies\n"
        "  cause: Because zipp==3.21.0 depends on Python>=3.9, we can conclude that your\n"
        "         requirements are unsatisfiable.\n\n"
        "hint: The `--python-version` value (>=3.8) includes Python versions ...\n"
    )
    assert uv_reason(text) == (
        "Because zipp==3.21.0 depends on Python>=3.9, we can conclude that your "
        "requirements are unsatisfiable."
    )


def test_what_a_python_causes_and_what_it_does_not():
    assert python_reason(outcome("3.11-cpu-lean")) is None
    assert python_reason(failed("3.8-cpu-lean")).startswith("uv found no solution: Because")
    assert python_reason(source_build("3.13-cpu-full")) == (
        "no wheel for Python 3.13: numpy would be built from source"
    )
    forbidden = Finding(kind="forbidden", packages=("triton",), chains=(), message="m", fix="f")
    assert python_reason(outcome("3.11-cpu-full", written=False, findings=[forbidden])) is None
    unreachable = outcome("3.11-cpu-lean", written=False, error="uv could not reach the index")
    assert python_reason(unreachable) is None


def test_a_value_whose_every_cell_fails_is_dropped_and_single_cells_excluded():
    outcomes = [
        failed("3.8-cpu-lean"),
        failed("3.8-cpu-full"),
        outcome("3.11-cpu-lean"),
        outcome("3.11-cpu-full"),
        outcome("3.13-cpu-lean"),
        source_build("3.13-cpu-full"),
    ]
    cut = cut_matrix(["3.8", "3.11", "3.13"], outcomes)
    assert cut.pythons == ["3.8"]
    assert [item.what for item in cut.cells] == ["3.13-cpu-full"]
    assert cut.failed == []
    assert cut.leaves_out(Cell(python="3.8", accelerator="cpu", profile="lean"))
    assert cut.leaves_out(Cell(python="3.13", accelerator="cpu", profile="full"))
    assert not cut.leaves_out(Cell(python="3.13", accelerator="cpu", profile="lean"))


def test_a_profile_that_locks_nowhere_is_a_failure_not_an_old_python():
    outcomes = [outcome("3.11-cpu-lean"), failed("3.11-cpu-full"), failed("3.12-cpu-full")]
    outcomes.insert(2, outcome("3.12-cpu-lean"))
    cut = cut_matrix(["3.11", "3.12"], outcomes)
    assert cut.left_out == [] and cut.failed == ["3.11-cpu-full", "3.12-cpu-full"]
    every = cut_matrix(["3.11"], [failed("3.11-cpu-lean")])
    assert every.left_out == [] and every.failed == ["3.11-cpu-lean"]


def test_cpu_cells_refused_for_what_torch_pulls_in():
    torch_chain = Finding(
        kind="forbidden",
        packages=("nvidia-cublas-cu12",),
        chains=("nvidia-cublas-cu12 <- torch <- sentence-transformers <- requirements/full.in",),
        message="m",
        fix="f",
    )
    direct = Finding(
        kind="forbidden",
        packages=("onnxruntime-gpu",),
        chains=("onnxruntime-gpu <- requirements/full.in",),
        message="m",
        fix="f",
    )
    outcomes = [
        outcome("3.11-cpu-full", written=False, findings=[torch_chain]),
        outcome("3.11-cpu-lean", written=False, findings=[direct]),
        outcome("3.11-gpu-full", written=False, findings=[torch_chain]),
    ]
    assert [cell.id for cell in torch_refused(outcomes)] == ["3.11-cpu-full"]
