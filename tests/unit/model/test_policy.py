from __future__ import annotations

from noxgrid.model.config import CPU_FORBID_DEFAULT, Accelerator, Policy, Profile
from noxgrid.model.lockfile import parse_lock
from noxgrid.model.policy import evaluate
from tests.unit.model.test_lockfile import LOCK

CPU = Accelerator(name="cpu", needs_gpu=False, forbid=CPU_FORBID_DEFAULT)
GPU = Accelerator(name="gpu", needs_gpu=True)
FULL = Profile(name="full", requirements=(), size_budget=3_000_000_000)


def lock_of(*entries: tuple[str, str]) -> str:
    return "\n".join(
        f"{name}==1.0 \\\n    --hash=sha256:00\n    # via {via}" for name, via in entries
    )


def test_cuda_torch_in_a_cpu_cell_is_one_finding_with_chain_and_fix():
    findings = evaluate(parse_lock(LOCK), accelerator=CPU, policy=Policy(), profile=FULL)
    assert [f.kind for f in findings] == ["forbidden"]
    finding = findings[0]
    assert finding.packages == ("nvidia-cublas-cu12", "triton")
    assert finding.chains == ("nvidia-cublas-cu12, triton <- torch <- requirements/full.in",)
    assert (
        'torch-backend = "cpu"' in finding.fix and "[tool.noxgrid.accelerator.cpu]" in finding.fix
    )
    assert "fix:" in finding.render()


def test_the_same_lock_is_fine_for_a_gpu_cell():
    assert evaluate(parse_lock(LOCK), accelerator=GPU, policy=Policy(), profile=FULL) == []


def test_onnxruntime_gpu_in_a_cpu_cell_says_to_use_the_replace_map():
    lock = parse_lock(lock_of(("onnxruntime-gpu", "-r requirements/full.in")))
    (finding,) = evaluate(lock, accelerator=CPU, policy=Policy(), profile=FULL)
    assert 'replace = { onnxruntime = "onnxruntime-gpu" }' in finding.fix


def test_both_opencv_variants_are_refused_naming_both_chains():
    lock = parse_lock(
        lock_of(
            ("opencv-python-headless", "-r requirements/lean.in"),
            ("opencv-python", "albumentations"),
            ("albumentations", "-r requirements/full.in"),
        )
    )
    findings = evaluate(lock, accelerator=GPU, policy=Policy(), profile=FULL)
    kinds = {f.kind: f for f in findings}
    assert set(kinds) == {"exclusive", "gui-opencv"}
    assert kinds["exclusive"].chains == (
        "opencv-python <- albumentations <- requirements/full.in",
        "opencv-python-headless <- requirements/lean.in",
    )
    assert "opencv-python-headless" in kinds["exclusive"].fix
    assert "libGL.so.1" in kinds["gui-opencv"].message


def test_gui_opencv_can_be_allowed():
    lock = parse_lock(lock_of(("opencv-python", "-r requirements/full.in")))
    policy = Policy(forbid_gui_opencv=False)
    assert evaluate(lock, accelerator=GPU, policy=policy, profile=FULL) == []


def test_custom_exclusive_group():
    lock = parse_lock(lock_of(("pillow", "-r a.in"), ("pillow-simd", "-r b.in")))
    policy = Policy(exclusive=(("pillow", "pillow-simd"),))
    (finding,) = evaluate(lock, accelerator=GPU, policy=policy, profile=FULL)
    assert finding.kind == "exclusive" and "keep one of pillow, pillow-simd" in finding.fix


def test_budget_lists_the_ten_largest():
    lock = parse_lock(lock_of(("numpy", "-r a.in")))
    largest = [(f"pkg{i}==1", 100_000_000 - i) for i in range(12)]
    findings = evaluate(
        lock,
        accelerator=GPU,
        policy=Policy(),
        profile=FULL,
        installed_estimate=3_500_000_000,
        largest=largest,
    )
    (finding,) = findings
    assert finding.kind == "budget" and len(finding.chains) == 10
    assert "3.5 GB, over the 3.0 GB budget of profile 'full'" in finding.message
    assert (
        evaluate(
            lock,
            accelerator=GPU,
            policy=Policy(),
            profile=FULL,
            installed_estimate=2_000_000_000,
            largest=largest,
        )
        == []
    )


def test_the_gui_opencv_fix_proposes_headless_or_the_allowance_with_its_apt_packages():
    from noxgrid.model.opencvfix import GUI_SONAMES, gui_apt
    from noxgrid.model.sonames import debian_package

    lock = parse_lock(lock_of(("opencv-python", "python-doctr"), ("python-doctr", "-r x.in")))
    (finding,) = [
        f
        for f in evaluate(lock, accelerator=GPU, policy=Policy(), profile=FULL)
        if f.kind == "gui-opencv"
    ]
    assert "use opencv-python-headless instead" in finding.fix
    assert '[[tool.noxgrid.allow]] rule = "gui-opencv", packages = ["opencv-python"]' in finding.fix
    assert f"[tool.noxgrid.profile.{FULL.name}]" in finding.fix
    apt = gui_apt()
    # From the generated table, not a hand list of packages: each is a soname's package.
    assert apt[:2] == ["libgl1", "libglib2.0-0"]
    assert set(apt) == {debian_package(name) for name in GUI_SONAMES}
    assert 'apt = ["libgl1", "libglib2.0-0", "libsm6"' in finding.fix
