"""init of a pyproject project reads its CI test job: the python matrix, the requirement
files and the extras its install lines name."""

from __future__ import annotations

import sys
from pathlib import Path

from noxgrid.init.plan import plan_init, render_table
from noxgrid.init.testreqs import Lean, with_ci

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

WORKFLOW = """\
name: ci
on: [push]
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: pip install ruff
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        python-version: ["3.10", "3.11", "3.7"]
    steps:
      - uses: actions/setup-python@v5
        with:
          python-version: ${{ matrix.python-version }}
      - run: pip install -e .[dev] -r requirements/ci-extra.txt -r requirements/gone.txt
      - run: pip install ./plugins/extra -r ../shared/ci.txt
      - run: pytest -q
"""

PROJECT = {
    "name": "demo",
    "requires-python": ">=3.9",
    "classifiers": [f"Programming Language :: Python :: 3.{n}" for n in (9, 10, 11)],
    "optional-dependencies": {"tests": ["pytest-benchmark"], "dev": ["pytest", "black"]},
}


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def everything(version: str) -> bool:
    return True


def test_the_ci_test_jobs_matrix_is_the_axis_before_the_classifiers(tmp_path):
    root = write(
        tmp_path,
        {".github/workflows/ci.yml": WORKFLOW, "requirements/ci-extra.txt": "iniconfig\n"},
    )
    plan = plan_init(PROJECT, root, available=everything)
    assert plan.pythons == ["3.10", "3.11"], "the classifiers' 3.9 is not what CI tests"
    assert (
        "python axis from the CI test job 'test': 3.10, 3.11 (.github/workflows/ci.yml:12)"
        in plan.notes
    )
    [left] = plan.left_out
    assert left.python == "3.7"
    assert "(.github/workflows/ci.yml:12)" in left.reason and "3.8 to 3.14" in left.reason


def test_requires_python_still_bounds_the_ci_values(tmp_path):
    root = write(tmp_path, {".github/workflows/ci.yml": WORKFLOW})
    plan = plan_init({**PROJECT, "requires-python": ">=3.11"}, root, available=everything)
    assert plan.pythons == ["3.11"]
    reasons = {item.python: item.reason for item in plan.left_out}
    assert "requires-python '>=3.11' excludes it" in reasons["3.10"]


def test_the_ci_jobs_files_and_extra_make_the_lean_profile(tmp_path):
    root = write(
        tmp_path,
        {".github/workflows/ci.yml": WORKFLOW, "requirements/ci-extra.txt": "iniconfig\n"},
    )
    plan = plan_init(PROJECT, root, available=everything)
    table = tomllib.loads(render_table(plan))["tool"]["noxgrid"]
    lean = table["profile"]["lean"]
    assert lean["requirements"] == ["requirements/lean.in", "requirements/ci-extra.txt"]
    assert lean["extras"] == ["dev"], "the extra CI installs, not the 'tests' one init guessed"
    assert "pytest" not in (plan.lean_text or "").split(), "dev brings pytest"
    notes = "\n".join(plan.notes)
    assert (
        "lean profile: the requirement files requirements/ci-extra.txt "
        "(.github/workflows/ci.yml:17) and the project's extras dev "
        "(.github/workflows/ci.yml:17), as the CI test job 'test' installs"
    ) in notes
    assert "`-r requirements/gone.txt` of the CI job 'test' (.github/workflows/ci.yml:17): " in (
        notes
    )
    assert "not carried: `./plugins/extra` installed by the CI job 'test'" in notes
    assert "`../shared/ci.txt` installed by the CI job 'test' (.github/workflows/ci.yml:18): " in (
        notes
    )
    assert "a requirement file outside the project" in notes


def test_an_extra_that_brings_no_runner_gets_pytest(tmp_path):
    workflow = WORKFLOW.replace(".[dev]", ".[tests]")
    root = write(tmp_path, {".github/workflows/ci.yml": workflow})
    project = {**PROJECT, "optional-dependencies": {"tests": ["black"], "dev": ["pytest"]}}
    plan = plan_init(project, root, available=everything)
    assert plan.lean_extras == ["tests"]
    assert "pytest" in (plan.lean_text or "").split()


def test_without_a_ci_job_the_classifiers_decide(tmp_path):
    plan = plan_init(PROJECT, tmp_path, available=everything)
    assert plan.pythons == ["3.9", "3.10", "3.11"]
    assert plan.lean_more == []


def test_the_projects_own_test_file_stays_and_gains_the_ci_extra():
    lean = Lean("requirements/tests.txt", None, note="lean profile: the project's own x")
    out = with_ci(lean, ["requirements/tests.txt", "ci.txt"], ["dev"], True, "lean profile: ci")
    assert out.requirements == "requirements/tests.txt" and out.text is None
    assert out.extras == ["dev"] and out.more == ["ci.txt"]
    assert out.note == "lean profile: ci (with the project's own x)"
