"""[[tool.noxgrid.allow]]: every allowance read into a value, every mistake named with its key
path and fix."""

from __future__ import annotations

import pytest

from noxgrid.errors import ConfigError
from noxgrid.model.allowances import Allowance, allowed_text, allowing, kept_in
from noxgrid.model.declaration import load_config
from noxgrid.model.matrix import Cell

HEAD = """
[tool.noxgrid]
python = ["3.10", "3.11"]
[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
"""

OPENCV = """
[[tool.noxgrid.allow]]
rule = "exclusive"
packages = ["opencv-python", "opencv-contrib-python"]
keep = "opencv-contrib-python"
cells = "*-cpu-*"
reason = "the detectors need contrib"
"""


def problems(make_project, body: str) -> str:
    root = make_project(HEAD + body, {"requirements/lean.in": "numpy\n"})
    with pytest.raises(ConfigError) as info:
        load_config(root)
    return str(info.value)


def test_an_exclusive_allowance_is_read_into_a_value(make_project):
    root = make_project(HEAD + OPENCV, {"requirements/lean.in": "numpy\n"})
    (allowance,) = load_config(root).allowances
    assert allowance == Allowance(
        rule="exclusive",
        subjects=("opencv-python", "opencv-contrib-python"),
        keep="opencv-contrib-python",
        cells=("*-cpu-*",),
        reason="the detectors need contrib",
        where="pyproject.toml: tool.noxgrid.allow[0]",
    )
    assert allowance.applies(Cell(python="3.10", accelerator="cpu", profile="lean"))
    assert not allowance.applies(Cell(python="3.10", accelerator="gpu", profile="lean"))


def test_doctor_allowances_take_libraries_and_modules(make_project):
    body = """
[[tool.noxgrid.allow]]
rule = "missing-library"
libraries = ["libibverbs.so.*"]
cells = ["gpu"]
reason = "RDMA transport, never loaded"
[[tool.noxgrid.allow]]
rule = "import"
modules = ["easyocr"]
reason = "downloads its model at import"
"""
    root = make_project(HEAD + body, {"requirements/lean.in": "numpy\n"})
    libraries, modules = load_config(root).allowances
    assert libraries.covers("libibverbs.so.1") and not libraries.covers("libGL.so.1")
    assert modules.covers("easyocr") and modules.covers("easyocr.utils")
    assert not modules.covers("easyocr2")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            'rule = "forbidden"\npackages = ["nvidia-ml-py"]',
            "allow[0].reason: an allowance needs a reason",
        ),
        (
            'rule = "exclusive"\npackages = ["a", "b"]\nreason = "x"',
            "allow[0].keep: an exclusive allowance needs keep",
        ),
        (
            'rule = "exclusive"\npackages = ["a", "b"]\nkeep = "c"\nreason = "x"',
            "keep 'c' is not one of packages (a, b)",
        ),
        (
            'rule = "forbidden"\npackages = ["a"]\nkeep = "a"\nreason = "x"',
            "keep is for rule 'exclusive' only",
        ),
        (
            'rule = "forbidden"\nlibraries = ["libGL.so.1"]\nreason = "x"',
            "allow[0].libraries: rule 'forbidden' does not take libraries",
        ),
        (
            'rule = "missing-library"\npackages = ["a"]\nlibraries = ["x.so"]\nreason = "x"',
            "rule 'missing-library' does not take packages",
        ),
        (
            'rule = "forbidden"\nreason = "x"',
            "allow[0].packages: rule 'forbidden' needs the packages it allows",
        ),
        ('rule = "budget"\npackages = ["torch"]\nreason = "x"', "'budget' takes none"),
        (
            'rule = "forbidden"\npackages = ["a"]\ncells = "*-tpu-*"\nreason = "x"',
            "the pattern '*-tpu-*' selects no cell of the matrix",
        ),
        (
            'rule = "exclusive"\npackages = ["a"]\nkeep = "a"\nreason = "x"',
            "an exclusive group has at least two packages",
        ),
        ('rule = "exclusiv"\npackages = ["a"]\nreason = "x"', "did you mean 'exclusive'?"),
        ('rule = "budget"\nreasons = "x"\nreason = "y"', "allow[0].reasons: unknown key"),
    ],
)
def test_every_mistake_is_named_with_its_key_and_fix(make_project, body, expected):
    text = problems(make_project, "[[tool.noxgrid.allow]]\n" + body + "\n")
    assert expected in text
    assert "fix" in text


def test_a_budget_allowance_needs_no_subjects(make_project):
    body = '[[tool.noxgrid.allow]]\nrule = "budget"\ncells = "3.11"\nreason = "torch is big"\n'
    root = make_project(HEAD + body, {"requirements/lean.in": "numpy\n"})
    (allowance,) = load_config(root).allowances
    assert allowing([allowance], "budget", []) is allowance


def test_one_rendering_for_every_front_end():
    assert allowed_text("contrib on purpose") == "allowed on purpose: contrib on purpose"


def test_kept_groups_need_keep_and_another_member_in_the_lock():
    allowance = Allowance(
        rule="exclusive",
        subjects=("opencv-python", "opencv-contrib-python"),
        keep="opencv-contrib-python",
        reason="r",
    )
    both = ["numpy", "opencv-python", "opencv-contrib-python"]
    assert kept_in([allowance], both) == [("opencv-contrib-python", ["opencv-python"])]
    assert kept_in([allowance], ["opencv-contrib-python"]) == []


def test_a_no_gpu_allowance_takes_cells_and_a_reason(make_project):
    gpu = HEAD + '[tool.noxgrid.accelerator.gpu]\nruns-on = ["self-hosted", "gpu"]\n'
    body = '[[tool.noxgrid.allow]]\nrule = "no-gpu"\ncells = "*-gpu-*"\nreason = "no runner"\n'
    root = make_project(gpu + body, {"requirements/lean.in": "numpy\n"})
    (allowance,) = load_config(root).allowances
    assert allowance.applies(Cell(python="3.11", accelerator="gpu", profile="lean"))
    assert not allowance.applies(Cell(python="3.11", accelerator="cpu", profile="lean"))
    assert allowing([allowance], "no-gpu", []) is allowance
    wrong = '[[tool.noxgrid.allow]]\nrule = "no-gpu"\npackages = ["torch"]\nreason = "x"\n'
    assert "'no-gpu' takes none" in problems(make_project, wrong)
