"""A stage's failure on one line, with its cause and its fix, never ending with a colon."""

from __future__ import annotations

from noxgrid.errors import NoxgridError
from noxgrid.model.image import image_problems
from noxgrid.model.matrix import Cell
from noxgrid.model.policy import Finding
from noxgrid.model.reason import failed_at, failure_line, refusal_line

BUDGET = Finding(
    kind="budget",
    packages=("opencv-python-headless", "scipy", "onnxruntime", "numpy"),
    chains=(
        "     159.5 MB  opencv-python-headless==5.0.0.93",
        "     138.8 MB  scipy==1.17.1",
        "      80.2 MB  onnxruntime==1.32.0",
        "      68.1 MB  numpy==2.4.6",
    ),
    message="the installed size is estimated at 526.6 MB, over the 10.0 MB budget of "
    "profile 'full'; the ten largest:",
    fix="drop or replace the largest packages, or raise size-budget in [tool.noxgrid.profile.full]",
)

# The lock stage's detail as main wrote it: a first line that ends with a colon.
OLD_LOCK = (
    "the lock requirements/locks/pylock.py311-cpu-full.toml is refused before anything "
    "is installed:\n" + BUDGET.render()
)


def test_a_policy_refusal_is_one_line_with_the_policy_fix():
    line = refusal_line([BUDGET])
    assert line.startswith("[budget] the installed size is estimated at 526.6 MB")
    assert "159.5 MB opencv-python-headless==5.0.0.93; 138.8 MB scipy==1.17.1" in line
    assert "numpy" not in line and "; ...;" in line
    assert line.endswith(
        "; fix: drop or replace the largest packages, or raise size-budget in "
        "[tool.noxgrid.profile.full]"
    )
    assert "noxgrid lock" not in line


def test_a_detail_whose_first_line_ends_with_a_colon_carries_its_cause_and_fix():
    line = failure_line(OLD_LOCK)
    assert not line.endswith(":")
    assert "over the 10.0 MB budget of profile 'full'" in line
    assert line.endswith(
        "; fix: drop or replace the largest packages, or raise size-budget in "
        "[tool.noxgrid.profile.full]"
    )


def test_an_image_that_runs_as_root_says_the_fix():
    problems = image_problems(
        {
            "Size": 1,
            "Config": {
                "User": "",
                "Labels": {"io.noxgrid.cell": "3.11-cpu-lean", "io.noxgrid.lock-sha256": "x"},
            },
        },
        cell=Cell(python="3.11", accelerator="cpu", profile="lean"),
        budget=None,
    )
    detail = "the image svc:3.11-cpu-lean fails its checks:\n- " + "\n- ".join(problems)
    line = failure_line(detail + "\nthe build output follows")
    assert line == (
        "the image svc:3.11-cpu-lean fails its checks: the image runs as root; fix: add a "
        "user and `USER` it in the Dockerfile (the template does: `useradd ... app` and "
        "`USER app`)"
    )


def test_a_doctor_report_that_opens_with_the_venv_gets_its_cause_and_fix():
    detail = (
        "venv .noxgrid/venvs/3.10-cpu-lean:\n"
        "  ELF audit: 120 ELF files in 0.20s, 1 library missing\n"
        "    libvips.so.42 missing (Debian package libvips42), needed by pyvips (pyvips)\n"
        "    fix: add libvips42 to apt = [...] of [tool.noxgrid.profile.lean]\n"
        "  import smoke: 3 modules imported, 0 failed"
    )
    line = failed_at("doctor", detail)
    assert line == (
        "doctor: venv .noxgrid/venvs/3.10-cpu-lean: ELF audit: 120 ELF files in 0.20s, 1 "
        "library missing; fix: add libvips42 to apt = [...] of [tool.noxgrid.profile.lean]"
    )


def test_an_error_with_a_fix_keeps_it_and_a_bare_line_is_kept_whole():
    error = NoxgridError("uv could not start", fix="install uv")
    assert failure_line(str(error)) == "uv could not start; fix: install uv"
    assert failure_line("3 tests failed; first: t.py::x\nE   tail") == (
        "3 tests failed; first: t.py::x"
    )
    assert failure_line("already says it; fix: do this\n  fix: not this") == (
        "already says it; fix: do this"
    )
    assert failure_line("") == ""
    assert failed_at("lock", "") == "lock failed (no reason was recorded)"


def test_a_long_cause_is_cut_but_its_fix_kept_whole():
    line = failure_line("x" * 2000 + ":\n- y\nfix: the fix")
    assert line.endswith("...; fix: the fix") and len(line) <= 600
