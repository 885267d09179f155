"""The test job of a project's hand-written CI, carried into init's plan of a project
with a pyproject.toml (or setup.py): what the project already tests with.

- its Python values (the matrix, ``setup-python``'s ``python-version``) are the
  declared python axis, before the classifiers and requires-python; a value that
  requires-python excludes, or that noxgrid cannot hold, is left out with why;
- the requirement files its install lines name (``-r requirements/ci.txt``) join the
  lean profile's requirements;
- the extras of its install of the project itself (``pip install -e .[dev]``) are the
  lean profile's test extras.

Each value is said with the file and line it came from (``model.ci_testjob`` reads
the workflow; the requirement-file services use the same reader in ``service_ci``).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from noxgrid.init.axis import LeftOut
from noxgrid.init.testreqs import Lean, with_ci
from noxgrid.model.ci_jobs import Stated
from noxgrid.model.ci_testjob import SuiteJob, installs, read_suite_jobs, suite_job_for
from noxgrid.model.devtools import runs_tests
from noxgrid.model.inputs import expand_self

# ``.[dev]``, ``./[dev,test]``, ``.``: the project's own tree, with its extras.
_TREE = re.compile(r"^(?P<path>[^\[\]]*?)/?(?:\[(?P<extras>[^\]]*)\])?$")


@dataclass
class CiTestJob:
    """What the project's CI test job declares, each value with where it is written."""

    name: str
    pythons: list[Stated] = field(default_factory=list)
    files: list[Stated] = field(default_factory=list)  # relative to the project's root
    extras: list[Stated] = field(default_factory=list)  # extras the project declares
    notes: list[str] = field(default_factory=list)


def read_ci_test_job(root: Path, extras: Iterable[str]) -> CiTestJob | None:
    """The test job of ``root``'s hand-written workflows (the first that runs pytest for
    the root), or None where there is none."""
    job = suite_job_for(read_suite_jobs(root), ".", [])
    return None if job is None else ci_test_job(job, root, extras)


def ci_test_job(job: SuiteJob, root: Path, extras: Iterable[str]) -> CiTestJob:
    """What init carries of ``job`` for the project at ``root`` with ``extras``."""
    declared = {canonicalize_name(extra): extra for extra in extras}
    found = CiTestJob(job.name, pythons=list(job.pythons))
    carried = installs(job, ".")
    for stated in carried.files:
        where = stated.where(root)
        if not (root / stated.value).is_file():
            found.notes.append(
                f"not carried: `-r {stated.value}` of the CI job '{job.name}' ({where}): "
                "no such file"
            )
        elif stated.value not in [s.value for s in found.files]:
            found.files.append(stated)
    for stated in carried.local:
        found.notes.append(
            f"not carried: `./{stated.value}` installed by the CI job '{job.name}' "
            f"({stated.where(root)}): a local package; if the tests need it, declare it "
            f'in the profile: local-packages = ["./{stated.value}"]'
        )
    for stated in carried.left_out:
        cwd = next(
            (c.cwd for c in job.commands if (c.path, c.line) == (stated.path, stated.line)), "."
        )
        match = _TREE.match(stated.value)
        if match is None or posixpath.normpath(posixpath.join(cwd, match["path"] or ".")) != ".":
            what = (
                "a requirement file outside the project (add it to a profile)"
                if stated.value.endswith((".txt", ".in"))
                else "not the project itself (declare it in a profile if the tests need it)"
            )
            found.notes.append(
                f"not carried: `{stated.value}` installed by the CI job '{job.name}' "
                f"({stated.where(root)}): {what}"
            )
            continue
        for extra in (e.strip() for e in (match["extras"] or "").split(",") if e.strip()):
            name = declared.get(canonicalize_name(extra))
            if name is None:
                found.notes.append(
                    f"not carried: the extra '{extra}' that the CI job '{job.name}' installs "
                    f"({stated.where(root)}): the project declares no such extra"
                )
            elif name not in [s.value for s in found.extras]:
                found.extras.append(Stated(name, stated.path, stated.line))
    return found


def _places(items: Sequence[Stated], root: Path) -> str:
    """``3.10, 3.11 (ci.yml:9)``: the values grouped by where they are written."""
    by_place: dict[str, list[str]] = {}
    for item in items:
        values = by_place.setdefault(item.where(root), [])
        if item.value not in values:
            values.append(item.value)
    return "; ".join(f"{', '.join(values)} ({where})" for where, values in by_place.items())


def ci_pythons(
    job: CiTestJob,
    allowed: Sequence[str],
    candidates: Sequence[str],
    root: Path,
    requires: str | None,
) -> tuple[list[str], list[str], list[LeftOut]]:
    """(the job's python values that the axis can hold, notes, the values left out):
    within requires-python (``allowed``) and noxgrid's ``candidates``."""
    values = list(dict.fromkeys(s.value for s in job.pythons))
    kept = [v for v in candidates if v in values and v in allowed]
    notes: list[str] = []
    left_out: list[LeftOut] = []
    for value in values:
        if value in kept:
            continue
        where = ", ".join(dict.fromkeys(s.where(root) for s in job.pythons if s.value == value))
        reason = (
            f"requires-python {requires!r} excludes it"
            if value in candidates
            else f"noxgrid's axis holds {candidates[0]} to {candidates[-1]}"
        )
        left_out.append(LeftOut(value, f"the CI test job tests it ({where}) but {reason}"))
        notes.append(f"left out python {value} of the CI test job '{job.name}': {reason}")
    if kept:
        shown = _places([s for s in job.pythons if s.value in kept], root)
        notes.insert(0, f"python axis from the CI test job '{job.name}': {shown}")
    return kept, notes, left_out


def ci_profile_note(job: CiTestJob, root: Path) -> str | None:
    """What the lean profile takes from the job, said with where, or None."""
    parts = []
    if job.files:
        parts.append(f"the requirement files {_places(job.files, root)}")
    if job.extras:
        parts.append(f"the project's extras {_places(job.extras, root)}")
    if not parts:
        return None
    return f"lean profile: {' and '.join(parts)}, as the CI test job '{job.name}' installs"


def ci_lean(lean: Lean, job: CiTestJob, extras: Mapping[str, Any], own: str, root: Path) -> Lean:
    """``lean`` (what init chose from the project's declarations) with what the CI test
    job installs: its requirement files, and its extras as the test extras."""
    said = ci_profile_note(job, root)
    if said is None:
        return lean
    wanted = [s.value for s in job.extras]
    optional = {name: list(items or []) for name, items in extras.items()}
    items = [i for e in wanted for i in expand_self(optional.get(e, []), own, optional)]
    return with_ci(lean, [s.value for s in job.files], wanted, runs_tests(items, own), said)
