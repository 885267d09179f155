"""The release report: every cell's result (and the drift check) as JSON, Markdown, JUnit, HTML.

Results come from the reports folder of this run, or from several folders at
once (the artifacts each CI job uploaded): every cell report found below them
is read, and where one cell appears more than once the latest run wins.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noxgrid._version import __version__

if TYPE_CHECKING:
    from noxgrid.model.attestation import ImageAttestation
    from noxgrid.model.results import CellResult, Release
    from noxgrid.model.sbom import CellBom

FILES = ("release.json", "release.md", "release.xml", "release.html")


def collect_results(folders: Iterable[Path]) -> tuple[list[CellResult], list[str]]:
    """Every cell report below ``folders``; (results, paths that were not cell reports)."""
    from noxgrid.model.matrix import cell_key
    from noxgrid.model.results import CellResult

    latest: dict[str, CellResult] = {}
    skipped: list[str] = []
    for folder in folders:
        paths = [folder] if folder.is_file() else sorted(folder.rglob("*.json"))
        for path in paths:
            if path.name in FILES or path.parent.name == "doctor":
                continue
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                result = CellResult.from_dict(data)
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                skipped.append(str(path))
                continue
            known = latest.get(result.cell.id)
            if known is None or result.started_at >= known.started_at:
                latest[result.cell.id] = result
    return sorted(latest.values(), key=lambda result: cell_key(result.cell)), skipped


def drift_lines(findings: Sequence[Mapping[str, str]]) -> list[str]:
    """``noxgrid check`` findings as one line each."""
    return [f"{f['where']}: {f['message']} (fix: {f['fix']})" for f in findings]


def markdown_report(
    release: Release,
    *,
    title: str,
    boms: Sequence[CellBom] = (),
    images: Sequence[ImageAttestation] = (),
) -> str:
    """The report for GitHub's step summary."""
    from noxgrid.model.matrix import cell_key
    from noxgrid.model.results import allowed_lines
    from noxgrid.render.table import markdown_table, markdown_text

    lines = [f"## {title}", "", f"**{release.verdict()}**", ""]
    if release.results:
        lines += [markdown_table(sorted(release.results, key=lambda r: cell_key(r.cell))), ""]
    problems = release.cell_problems()
    if problems:
        lines.append("### Cells not verified for release")
        for cell_id, what, why in problems:
            lines.append(f"- `{cell_id}`: **{what}**: {markdown_text(why)}")
        lines.append("")
    allowed = allowed_lines(release.results)
    if allowed:
        lines.append("### Allowed on purpose")
        lines += [f"- {markdown_text(line)}" for line in allowed]
        lines.append("")
    if release.findings:
        lines.append("### Drift (`noxgrid check`)")
        lines += [f"- {markdown_text(line)}" for line in drift_lines(release.findings)]
        lines.append("")
    if boms or images:
        lines.append("### Bills of materials (CycloneDX)")
        lines += [f"- {markdown_text(bom.line())}" for bom in boms]
        lines += [f"- {markdown_text(image.line())}" for image in images]
        lines.append("")
    return "\n".join(lines)


def release_document(
    release: Release,
    *,
    generated: str,
    boms: Sequence[CellBom] = (),
    images: Sequence[ImageAttestation] = (),
) -> dict[str, Any]:
    """The JSON form: verdict, every cell that fails the release and why, drift, every cell,
    each cell's bill of materials and whether its image carries an SBOM attestation."""
    from noxgrid.model.matrix import cell_key

    return {
        "noxgrid": __version__,
        "generated": generated,
        "status": "passed" if release.passed else "failed",
        "verdict": release.verdict(),
        "expected": [cell.id for cell in release.expected],
        "required_stages": list(release.required),
        "problems": [
            {"cell": cell_id, "status": what, "why": why}
            for cell_id, what, why in release.cell_problems()
        ],
        "failed": [{"cell": r.cell.id, "first_error": r.first_error} for r in release.failed],
        "interrupted": [cell.cell.id for cell in release.interrupted],
        "missing": [cell.id for cell in release.missing],
        "drift": list(release.findings),
        "cells": [r.as_dict() for r in sorted(release.results, key=lambda r: cell_key(r.cell))],
        "sbom": [bom.as_dict() for bom in boms],
        "image_sbom": [image.as_dict() for image in images],
    }


def write_release(
    release: Release,
    folder: Path,
    *,
    title: str,
    env: Mapping[str, str] | None = None,
    boms: Sequence[CellBom] = (),
    images: Sequence[ImageAttestation] = (),
) -> dict[str, Path]:
    """Write the four files into ``folder`` (atomically); append to the step summary if set.

    ``boms``: the cells' bills of materials already written below ``folder``
    (``release_sbom.write_boms``), listed and linked; ``images``: which images carry
    BuildKit's SBOM attestation."""
    from noxgrid.files import atomic_write
    from noxgrid.render.html import render_html
    from noxgrid.render.junit import render_junit

    env = os.environ if env is None else env
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    generated = f"noxgrid {__version__}, {now}"
    markdown = markdown_report(release, title=title, boms=boms, images=images)
    paths = {name.split(".")[1]: folder / name for name in FILES}
    document = release_document(release, generated=generated, boms=boms, images=images)
    atomic_write(paths["json"], json.dumps(document, indent=2) + "\n")
    atomic_write(paths["md"], markdown + "\n")
    atomic_write(paths["xml"], render_junit(release.results, missing=release.missing))
    atomic_write(
        paths["html"],
        render_html(
            release,
            title=title,
            generated=generated,
            check=drift_lines(release.findings),
            boms=boms,
            images=images,
        ),
    )
    summary = env.get("GITHUB_STEP_SUMMARY")
    if summary:
        with Path(summary).open("a", encoding="utf-8") as stream:
            stream.write(markdown + "\n")
    return paths
