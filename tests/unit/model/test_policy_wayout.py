"""Each refusal's fix says, after the real fix, how to relax the rule on purpose: the
``[[tool.noxgrid.allow]]`` entry for that rule, which (filled in) allows the finding."""

from __future__ import annotations

import re
import sys

from noxgrid.model.allowances import Allowance
from noxgrid.model.config import Policy, Profile
from noxgrid.model.lockfile import parse_lock
from noxgrid.model.policy import Finding, evaluate, refusing
from tests.unit.model.test_lockfile import LOCK
from tests.unit.model.test_policy import CPU, FULL, GPU, lock_of

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

WAY_OUT = "; or, where this is on purpose, allow it in pyproject.toml: [[tool.noxgrid.allow]] "


def allowance_from(finding: Finding) -> Allowance:
    """The allowance a user writes from the fix's form (each key on its own line)."""
    form = finding.fix.split(WAY_OUT, 1)[1]
    keys = re.findall(r'(\w+) = ("[^"]*"|\[[^\]]*\])', form)
    table = tomllib.loads("\n".join(f"{key} = {value}" for key, value in keys))
    return Allowance(
        rule=table["rule"],
        subjects=tuple(table.get("packages", ())),
        keep=table.get("keep"),
        reason=table["reason"],
    )


def test_an_exclusive_refusal_offers_the_allowance_with_keep_after_the_real_fix():
    lock = parse_lock(
        lock_of(
            ("opencv-contrib-python", "-r requirements/full.in"),
            ("opencv-python-headless", "easyocr"),
            ("easyocr", "-r requirements/full.in"),
        )
    )
    policy = Policy(forbid_gui_opencv=False)
    (finding,) = evaluate(lock, accelerator=GPU, policy=policy, profile=FULL)
    real, _, form = finding.fix.partition(WAY_OUT)
    assert real.startswith("keep only opencv-python-headless")
    assert form == (
        'rule = "exclusive", packages = ["opencv-python-headless", "opencv-contrib-python"], '
        'keep = "opencv-contrib-python" (the one whose files must win), '
        'reason = "why it is wanted"'
    ), "keep: the variant the project asks for itself"
    allowance = allowance_from(finding)
    again = evaluate(lock, accelerator=GPU, policy=policy, profile=FULL, allowances=[allowance])
    assert refusing(again) == [] and again[0].allowed == "why it is wanted"


def test_a_forbidden_refusal_offers_the_allowance_for_its_packages():
    lock = parse_lock(LOCK)
    (finding,) = evaluate(lock, accelerator=CPU, policy=Policy(), profile=FULL)
    assert 'set torch-backend = "cpu"' in finding.fix.split(WAY_OUT)[0]
    assert 'rule = "forbidden", packages = ["nvidia-cublas-cu12", "triton"]' in finding.fix
    assert "keep =" not in finding.fix
    again = evaluate(
        lock, accelerator=CPU, policy=Policy(), profile=FULL, allowances=[allowance_from(finding)]
    )
    assert refusing(again) == []


def test_a_budget_refusal_offers_the_allowance_without_packages():
    lock = parse_lock(lock_of(("numpy", "-r requirements/full.in")))
    small = Profile(name="full", requirements=(), size_budget=1_000)
    args = dict(accelerator=GPU, policy=Policy(), profile=small, installed_estimate=5_000)
    (finding,) = evaluate(lock, largest=[("numpy==1.0", 5_000)], **args)
    assert finding.fix.startswith("drop or replace the largest packages")
    assert finding.fix.endswith(WAY_OUT + 'rule = "budget", reason = "why it is wanted"')
    again = evaluate(
        lock, largest=[("numpy==1.0", 5_000)], allowances=[allowance_from(finding)], **args
    )
    assert refusing(again) == []


def test_the_form_is_shown_where_the_fix_is_and_not_for_an_allowed_finding():
    lock = parse_lock(LOCK)
    (finding,) = evaluate(lock, accelerator=CPU, policy=Policy(), profile=FULL)
    assert f"  fix: {finding.fix}" in finding.render()
    (allowed,) = evaluate(
        lock, accelerator=CPU, policy=Policy(), profile=FULL, allowances=[allowance_from(finding)]
    )
    assert WAY_OUT not in allowed.fix and "[[tool.noxgrid.allow]]" not in allowed.render()
