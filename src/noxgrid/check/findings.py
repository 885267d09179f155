"""Every finding of ``noxgrid check``: Python versions, locks, policy, the generated workflows."""

from __future__ import annotations

from pathlib import Path

from noxgrid.files import read_json
from noxgrid.model.allowances import RULES, Allowance, for_cell
from noxgrid.model.ci_variants import ci_variant_drift
from noxgrid.model.config import Config, relative_path
from noxgrid.model.drift import is_generated, version_drift
from noxgrid.model.freshness import (
    LockState,
    check_locks,
    orphaned_locks,
    policy_findings,
    refresh_command,
)
from noxgrid.model.gitignored import ignored_finding, parse_check_ignore
from noxgrid.model.matrix import Matrix
from noxgrid.model.reason import finding_cause
from noxgrid.render.actions import load_pins, outdated
from noxgrid.render.workflow import render_workflows
from noxgrid.tools.git import check_ignore, project_files

Finding = dict[str, str]

# The keys that hold the doctor's allowances' subjects.
DOCTOR = ("libraries", "modules")


def check_findings(config: Config, matrix: Matrix) -> list[Finding]:
    """Every finding of ``noxgrid check`` as {kind, where, message, fix}."""
    files = project_files(config.root)  # git's list of the project's files (None: walk)
    findings = [
        {"kind": "python", "where": drift.where, "message": drift.message, "fix": drift.fix}
        | ({"places": ", ".join(drift.places)} if drift.places else {})
        for drift in version_drift(config, files)
    ]
    # A CI-only Dockerfile or requirement file that tests something production does not ship.
    findings += [
        {"kind": "ci-drift", "where": drift.where, "message": drift.message, "fix": drift.fix}
        for drift in ci_variant_drift(config.root)
    ]
    findings += lock_findings(config, matrix)
    findings += doctor_allowance_findings(config, matrix)
    findings += no_gpu_allowance_findings(config, matrix)
    findings += workflow_findings(config)
    findings += poetry_app_findings(config)
    findings += flat_layout_findings(config)
    ignored = gitignored_finding(config, matrix)
    return findings + ([ignored] if ignored else [])


def poetry_app_findings(config: Config) -> list[Finding]:
    """requirements/app.in out of step with [tool.poetry.dependencies] (model.poetryapp):
    a dependency added to one and not the other, by name."""
    from noxgrid.model.ci_variants import read_pins
    from noxgrid.model.inputs import _pyproject
    from noxgrid.model.poetryapp import APP_REQUIREMENTS, app_drift, poetry_application

    path = config.root / APP_REQUIREMENTS
    uses = any(not p.install_project and path in p.requirements for p in config.profiles.values())
    exists = lambda relative: (config.root / relative).exists()  # noqa: E731
    app = uses and poetry_application(_pyproject(config), exists)
    if not app or not path.is_file():
        return []
    missing, extra = app_drift(app, set(read_pins(path)))
    if not missing and not extra:
        return []
    parts = [f"{', '.join(missing)} declared there and not in it"] if missing else []
    parts += [f"{', '.join(extra)} in it and not declared there"] if extra else []
    return [
        {
            "kind": "app-drift",
            "where": APP_REQUIREMENTS,
            "message": f"{APP_REQUIREMENTS} is out of step with [tool.poetry.dependencies]: "
            + "; ".join(parts),
            "fix": f"add or remove the same dependency in both ({APP_REQUIREMENTS} is what "
            "noxgrid locks; pyproject.toml is what the team's poetry reads)",
        }
    ]


def flat_layout_findings(config: Config) -> list[Finding]:
    """The declared Dockerfile in a folder that setuptools' flat-layout discovery takes
    for a second package of the project, which then cannot be built (model.flatlayout)."""
    from noxgrid.model.flatlayout import (
        declared_dockerfile_problem,
        existing_places,
        moved_dockerfile_fix,
        read_build_files,
    )

    if not any(profile.install_project for profile in config.profiles.values()):
        return []
    dockerfile = config.docker.dockerfile
    problem = declared_dockerfile_problem(read_build_files(config.root), dockerfile)
    if problem is None:
        return []
    exists = existing_places(config.root)
    return [
        {
            "kind": "build",
            "where": relative_path(config.pyproject, config.root),
            "message": problem,
            "fix": moved_dockerfile_fix(dockerfile, exists),
        }
    ]


def committed_files(config: Config, matrix: Matrix) -> list[Path]:
    """What noxgrid reads from the commit: the declaration, every cell's lock (written
    or to be), the profiles' requirement inputs, the Dockerfile and the workflows."""
    from noxgrid.model.lockfile import lock_path

    paths = [config.pyproject, config.root / config.docker.dockerfile]
    paths += [lock_path(config, cell) for cell in matrix]
    paths += [path for profile in config.profiles.values() for path in profile.requirements]
    paths += list(render_workflows(config))
    root = config.repo_root
    return [p for p in dict.fromkeys(paths) if p.resolve().is_relative_to(root.resolve())]


def gitignored_finding(config: Config, matrix: Matrix) -> Finding | None:
    """The files noxgrid needs committed that the project's .gitignore ignores."""
    root = config.repo_root
    output = check_ignore(root, [p.resolve() for p in committed_files(config, matrix)])
    return ignored_finding(parse_check_ignore(output or ""))


def lock_findings(config: Config, matrix: Matrix) -> list[Finding]:
    """Locks that are not fresh, the policy findings of those that are (those allowed on
    purpose aside), and the policy allowances that allow nothing in any of them."""
    states = check_locks(config, list(matrix))
    bad = [s for s in states if s.state != "fresh"]
    findings = _not_fresh(config, bad)
    findings += [
        {
            "kind": "lock",
            "where": relative_path(orphan.path, config.root),
            "message": f"the lock of {orphan.cell} belongs to no cell of the matrix "
            f"({orphan.reason})",
            "fix": orphan.fix(config.root),
        }
        for orphan in orphaned_locks(config)
    ]
    judged: set[Allowance] = set()
    used: set[Allowance] = set()
    for state in states:
        if state.state != "fresh":
            continue
        judged.update(for_cell(config.allowances, state.cell))
        for finding in policy_findings(config, state):
            if finding.allowance is not None:
                used.add(finding.allowance)
                continue
            findings.append(
                {
                    "kind": "policy",
                    "where": relative_path(state.path, config.root),
                    "message": f"{state.cell.id}: {finding_cause(finding)}",
                    "fix": finding.fix,
                }
            )
    # no-gpu is judged where the cells run (is there a GPU?), not in a lock.
    unused = [
        a
        for a in config.allowances
        if RULES[a.rule] not in DOCTOR and a.rule != "no-gpu" and a in judged - used
    ]
    return findings + [unused_allowance(config, allowance) for allowance in unused]


def no_gpu_allowance_findings(config: Config, matrix: Matrix) -> list[Finding]:
    """A ``no-gpu`` allowance that applies to no cell of an accelerator that needs a GPU."""
    gpu_cells = [c for c in matrix if config.accelerators[c.accelerator].needs_gpu]
    return [
        unused_allowance(config, allowance)
        for allowance in config.allowances
        if allowance.rule == "no-gpu" and not any(allowance.applies(c) for c in gpu_cells)
    ]


def doctor_allowance_findings(config: Config, matrix: Matrix) -> list[Finding]:
    """The doctor's allowances (missing-library, import) that allowed nothing in the last
    doctor report of any cell they apply to; cells without a report are not judged."""
    from noxgrid.cell.doctor import doctor_path

    judged: set[Allowance] = set()
    used: set[str] = set()
    for cell in matrix:
        report = read_json(doctor_path(config, cell))
        if report is None:
            continue
        judged.update(a for a in for_cell(config.allowances, cell) if RULES[a.rule] in DOCTOR)
        for key in ("venv", "image"):
            entry = report.get(key)
            if isinstance(entry, dict):
                used.update(str(where) for where in entry.get("allowed_by", ()))
    unused = [a for a in config.allowances if a in judged and a.where not in used]
    return [unused_allowance(config, allowance) for allowance in unused]


def unused_allowance(config: Config, allowance: Allowance) -> Finding:
    """The finding for an allowance that allowed nothing in any cell it applies to."""
    return {
        "kind": "allowance",
        "where": allowance.where or relative_path(config.pyproject, config.root),
        "message": f"the {allowance.describe()} matches nothing: no finding of the cells it "
        "applies to needs it",
        "fix": "remove it or correct its packages/cells",
    }


def _not_fresh(config: Config, bad: list[LockState]) -> list[Finding]:
    """One finding per fact: the locks in the same state for the same reason together."""
    facts: dict[tuple[str, str], list[LockState]] = {}
    for state in bad:
        facts.setdefault((state.state, state.detail), []).append(state)
    findings = []
    for (kind, detail), group in facts.items():
        places = [relative_path(s.path, config.root) for s in group]
        cells = ", ".join(s.cell.id for s in group[:3])
        cells += f" (+{len(group) - 3} more)" if len(group) > 3 else ""
        what = f"the lock of {cells} is" if len(group) == 1 else f"{len(group)} locks are"
        fix = refresh_command([s.cell for s in bad])
        # A folder in a lock's place: `noxgrid lock` leaves it alone, so it goes first.
        folders = [relative_path(s.path, config.root) for s in group if s.path.is_dir()]
        finding = {
            "kind": "lock",
            "where": places[0],
            "message": f"{what} {kind}"
            + (f" ({cells})" if len(group) > 1 else "")
            + (f": {detail}" if detail else ""),
            "fix": f"rm -r {' '.join(folders)} (then {fix})" if folders else fix,
        }
        if len(group) > 1:
            finding["places"] = ", ".join(places)
        findings.append(finding)
    return findings


def workflow_findings(config: Config) -> list[Finding]:
    """Generated workflows that are missing or differ from what the matrix generates."""
    pins = load_pins()
    findings = []
    for path, text in render_workflows(config).items():
        where = relative_path(path, config.root)
        if not path.is_file():
            message, fix = "there is no generated workflow", "noxgrid workflow"
        elif not is_generated(path):
            message = (
                "a hand-written workflow is where noxgrid writes its own (it has no "
                "'# Generated by noxgrid' line): its Python versions are checked above, and "
                "`noxgrid workflow` would replace it"
            )
            fix = (
                'set path = ".github/workflows/noxgrid.yml" in [tool.noxgrid.workflow], then '
                "noxgrid workflow (or move the hand-written one)"
            )
        else:
            current = path.read_text(encoding="utf-8")
            if current == text:
                continue
            old = outdated(current, pins)
            message = "the workflow differs from what the matrix generates" + (
                f" ({len(old)} action pin(s) older than noxgrid's table)" if old else ""
            )
            fix = "noxgrid workflow (see the diff: noxgrid workflow --check)"
        findings.append({"kind": "workflow", "where": where, "message": message, "fix": fix})
    return findings
