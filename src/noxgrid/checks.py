"""Every finding of ``noxgrid check``: Python versions, locks, policy, the generated workflows."""

from __future__ import annotations

from noxgrid.model.config import Config, relative_path
from noxgrid.model.drift import version_drift
from noxgrid.model.freshness import check_locks, read_lock, refresh_command
from noxgrid.model.matrix import Matrix
from noxgrid.model.policy import evaluate
from noxgrid.render.actions import load_pins, outdated
from noxgrid.render.workflow import render_workflows

Finding = dict[str, str]


def check_findings(config: Config, matrix: Matrix) -> list[Finding]:
    """Every finding of ``noxgrid check`` as {kind, where, message, fix}."""
    findings = [
        {"kind": "python", "where": drift.where, "message": drift.message, "fix": drift.fix}
        for drift in version_drift(config, skip=list(render_workflows(config)))
    ]
    findings += lock_findings(config, matrix)
    findings += workflow_findings(config)
    return findings


def lock_findings(config: Config, matrix: Matrix) -> list[Finding]:
    """Locks that are not fresh, and the policy findings of those that are."""
    states = check_locks(config, list(matrix))
    bad = [s for s in states if s.state != "fresh"]
    findings = [
        {
            "kind": "lock",
            "where": relative_path(state.path, config.root),
            "message": f"the lock of {state.cell.id} is {state.state}",
            "fix": refresh_command([s.cell for s in bad]),
        }
        for state in bad
    ]
    for state in states:
        if state.state != "fresh":
            continue
        lock = read_lock(state.path)
        for finding in evaluate(
            lock,
            accelerator=config.accelerators[state.cell.accelerator],
            policy=config.policy,
            profile=config.profiles[state.cell.profile],
            installed_estimate=lock.header_bytes("installed-bytes"),
            largest=lock.largest(),
        ):
            findings.append(
                {
                    "kind": "policy",
                    "where": relative_path(state.path, config.root),
                    "message": f"{state.cell.id}: {finding.message}",
                    "fix": finding.fix,
                }
            )
    return findings


def workflow_findings(config: Config) -> list[Finding]:
    """Generated workflows that are missing or differ from what the matrix generates."""
    pins = load_pins()
    findings = []
    for path, text in render_workflows(config).items():
        where = relative_path(path, config.root)
        if not path.is_file():
            message, fix = "there is no generated workflow", "noxgrid workflow"
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
