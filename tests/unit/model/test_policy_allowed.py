"""Findings allowed on purpose stay findings, marked with their allowance, and refuse
nothing; a forbid glob judges what a wheel is."""

from __future__ import annotations

from noxgrid.model.allowances import Allowance
from noxgrid.model.config import Policy, Profile
from noxgrid.model.lockfile import parse_lock
from noxgrid.model.policy import evaluate, refusing
from noxgrid.model.pylock import render_pylock
from tests.unit.model.test_policy import CPU, FULL, GPU, lock_of

OPENCV = lock_of(
    ("opencv-python", "-r requirements/full.in"),
    ("opencv-contrib-python", "-r requirements/full.in"),
)


def exclusive(keep: str = "opencv-contrib-python", *names: str) -> Allowance:
    return Allowance(
        rule="exclusive",
        subjects=names or ("opencv-python", "opencv-contrib-python"),
        keep=keep,
        reason="contrib on purpose",
        where="pyproject.toml: tool.noxgrid.allow[0]",
    )


def test_an_allowed_exclusive_group_stays_a_finding_and_refuses_nothing():
    lock = parse_lock(OPENCV)
    policy = Policy(forbid_gui_opencv=False)
    refused = evaluate(lock, accelerator=GPU, policy=policy, profile=FULL)
    assert [f.kind for f in refusing(refused)] == ["exclusive"]
    findings = evaluate(
        lock, accelerator=GPU, policy=policy, profile=FULL, allowances=[exclusive()]
    )
    (finding,) = findings
    assert finding.kind == "exclusive" and finding.allowed == "contrib on purpose"
    assert refusing(findings) == []
    assert "opencv-contrib-python is installed last" in finding.message
    assert "allowed on purpose: contrib on purpose" in finding.render()
    assert "fix:" not in finding.render()
    assert finding.summary().endswith(": allowed on purpose: contrib on purpose")


def test_an_exclusive_allowance_covers_only_the_members_it_names():
    lock = parse_lock(OPENCV + "\n" + lock_of(("opencv-python-headless", "easyocr")))
    policy = Policy(forbid_gui_opencv=False)
    findings = evaluate(
        lock, accelerator=GPU, policy=policy, profile=FULL, allowances=[exclusive()]
    )
    assert [f.kind for f in refusing(findings)] == ["exclusive"], "headless was not allowed"


def test_an_exclusive_allowance_whose_keep_is_not_in_the_lock_allows_nothing():
    lock = parse_lock(OPENCV)
    allowance = exclusive(
        "opencv-python-headless", "opencv-python", "opencv-contrib-python", "opencv-python-headless"
    )
    findings = evaluate(
        lock,
        accelerator=GPU,
        policy=Policy(forbid_gui_opencv=False),
        profile=FULL,
        allowances=[allowance],
    )
    assert [f.kind for f in refusing(findings)] == ["exclusive"]


def test_forbidden_packages_allowed_by_name_split_from_the_others():
    lock = parse_lock(lock_of(("onnxruntime-gpu", "-r a.in"), ("cupy-cuda12x", "-r a.in")))
    allowance = Allowance(rule="forbidden", subjects=("onnxruntime-gpu",), reason="benchmarks")
    findings = evaluate(
        lock, accelerator=CPU, policy=Policy(), profile=FULL, allowances=[allowance]
    )
    allowed = [f for f in findings if f.allowed]
    assert [f.packages for f in allowed] == [("onnxruntime-gpu",)]
    assert [f.packages for f in refusing(findings)] == [("cupy-cuda12x",)]


def test_a_budget_allowance_lets_a_big_lock_through():
    lock = parse_lock(lock_of(("numpy", "-r a.in")))
    budget = Allowance(rule="budget", reason="the model server is big")
    kwargs = dict(
        accelerator=GPU,
        policy=Policy(),
        profile=Profile(name="full", requirements=(), size_budget=1000),
        installed_estimate=5000,
        largest=[("numpy==1.0", 5000)],
    )
    assert [f.kind for f in refusing(evaluate(lock, **kwargs))] == ["budget"]
    (finding,) = evaluate(lock, **kwargs, allowances=[budget])
    assert finding.kind == "budget" and finding.allowed == "the model server is big"


def test_an_allowance_of_another_rule_allows_nothing():
    lock = parse_lock(OPENCV)
    other = Allowance(rule="forbidden", subjects=("opencv-*",), reason="r")
    findings = evaluate(lock, accelerator=GPU, policy=Policy(), profile=FULL, allowances=[other])
    assert {f.kind for f in refusing(findings)} == {"exclusive", "gui-opencv"}


def pylock_with_wheels(wheels: dict[str, str]) -> str:
    packages = [
        {
            "name": name,
            "version": "1.0",
            "wheels": [{"url": f"https://files.example/{wheel}", "hashes": {"sha256": "00"}}],
        }
        for name, wheel in wheels.items()
    ]
    return render_pylock(
        title=["t"],
        python="3.11",
        exported={"packages": packages},
        indexes={},
        via={name: ("-r requirements/lean.in",) for name in wheels},
        header=[],
    )


def test_a_pure_python_wheel_is_not_forbidden_by_a_glob():
    lock = parse_lock(
        pylock_with_wheels(
            {
                "nvidia-ml-py": "nvidia_ml_py-12.560.30-py3-none-any.whl",
                "nvidia-cudnn-cu12": "nvidia_cudnn_cu12-9.1.0.70-py3-none-manylinux2014_x86_64.whl",
            }
        )
    )
    assert lock.pure_python() == {"nvidia-ml-py"}
    (finding,) = evaluate(lock, accelerator=CPU, policy=Policy(), profile=FULL)
    assert finding.kind == "forbidden" and finding.packages == ("nvidia-cudnn-cu12",)


def test_a_name_written_out_in_forbid_forbids_even_a_pure_wheel():
    lock = parse_lock(pylock_with_wheels({"nvidia-ml-py": "nvidia_ml_py-12.0-py3-none-any.whl"}))
    accelerator = CPU.__class__(name="cpu", needs_gpu=False, forbid=("nvidia-ml-py",))
    (finding,) = evaluate(lock, accelerator=accelerator, policy=Policy(), profile=FULL)
    assert finding.packages == ("nvidia-ml-py",)


def test_what_the_resolution_sized_says_which_wheels_are_pure():
    lock = parse_lock(lock_of(("nvidia-ml-py", "-r a.in"), ("nvidia-nccl-cu12", "-r a.in")))
    (finding,) = evaluate(
        lock, accelerator=CPU, policy=Policy(), profile=FULL, pure=["nvidia-ml-py"]
    )
    assert finding.packages == ("nvidia-nccl-cu12",)
    assert len(evaluate(lock, accelerator=CPU, policy=Policy(), profile=FULL)[0].packages) == 2


def test_a_pure_metapackage_between_torch_and_cuda_does_not_split_the_finding():
    lock = parse_lock(
        lock_of(
            ("torch", "-r requirements/full.in"),
            ("cuda-toolkit", "torch"),
            ("nvidia-cublas", "cuda-toolkit"),
            ("nvidia-cudnn-cu12", "torch"),
        )
    )
    (finding,) = evaluate(
        lock, accelerator=CPU, policy=Policy(), profile=FULL, pure=["cuda-toolkit"]
    )
    assert finding.packages == ("nvidia-cublas", "nvidia-cudnn-cu12")
    assert finding.chains[0].endswith("<- torch <- requirements/full.in")
