"""One self-contained HTML page for a set of cell results: the matrix as a grid, two plots.

No script, no external file: the grid is a table (one row per profile and
accelerator, one column per Python), each cell coloured by status with its
time per stage and sizes written in it and the first error on hover; the
plots are inline SVG (time per stage, stacked, per cell; image size per cell).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from noxgrid.model.matrix import Cell, cell_key, version_key
from noxgrid.model.reason import failure_line
from noxgrid.model.results import (
    CellResult,
    Release,
    Status,
    allowed_lines,
    format_size,
    interruption,
)

if TYPE_CHECKING:
    from noxgrid.model.attestation import ImageAttestation
    from noxgrid.model.sbom import CellBom
from noxgrid.model.text import clean_text

COLOURS = {
    Status.PASSED: "#2e7d32",
    Status.FAILED: "#c62828",
    Status.SKIPPED: "#757575",
    Status.INTERRUPTED: "#ef6c00",
}
BACKGROUNDS = {
    Status.PASSED: "#e8f5e9",
    Status.FAILED: "#ffebee",
    Status.SKIPPED: "#f5f5f5",
    Status.INTERRUPTED: "#fff3e0",
}
STAGE_COLOURS = (
    "#5c6bc0",
    "#26a69a",
    "#ffa726",
    "#8d6e63",
    "#ab47bc",
    "#29b6f6",
    "#d4e157",
    "#ef5350",
    "#78909c",
    "#ec407a",
)

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px;
       color: #212121; }
h1 { font-size: 22px; margin: 0 0 4px; }
.verdict { font-size: 16px; font-weight: 600; margin: 8px 0 16px; }
.verdict.failed { color: #c62828; } .verdict.passed { color: #2e7d32; }
table.grid { border-collapse: separate; border-spacing: 6px; }
table.grid th { font-weight: 600; text-align: left; padding: 4px 8px; }
td.cell { vertical-align: top; padding: 8px 10px; border-radius: 6px; min-width: 190px;
          border-left: 6px solid; font-size: 12px; }
td.cell .id { font-weight: 600; font-size: 13px; }
td.cell .status { font-weight: 700; text-transform: uppercase; font-size: 11px; }
td.cell table { border-collapse: collapse; margin-top: 4px; }
td.cell table td { padding: 0 8px 0 0; }
td.absent { color: #9e9e9e; font-style: italic; padding: 8px 10px; }
.setup { margin-top: 2px; color: #455a64; max-width: 260px; overflow-wrap: anywhere; }
.error { margin-top: 4px; color: #b71c1c; white-space: pre-wrap; max-width: 260px; }
section { margin-top: 28px; }
.legend span { display: inline-block; margin-right: 12px; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
ul.failures li { margin-bottom: 6px; white-space: pre-wrap; }
footer { margin-top: 28px; color: #757575; font-size: 12px; }
"""


def _esc(text: object) -> str:
    return html.escape(clean_text(str(text)), quote=True)


def _stage_names(results: Sequence[CellResult]) -> list[str]:
    names: list[str] = []
    for result in results:
        for stage in result.stages:
            if stage.name not in names:
                names.append(stage.name)
    return names


def _cell_box(result: CellResult, bom: str | None = None) -> str:
    status = result.status
    rows = []
    for stage in result.stages:
        value = "skip" if stage.status is Status.SKIPPED else f"{stage.duration:.1f}s"
        mark = {Status.FAILED: " ✗", Status.INTERRUPTED: " ⏹"}.get(stage.status, "")
        rows.append(
            f'<tr title="{_esc(stage.detail[:400])}"><td>{_esc(stage.name)}</td>'
            f"<td>{value}{mark}</td></tr>"
        )
    sizes = f"venv {format_size(result.venv_size)} · image {format_size(result.image_size)}"
    error = result.first_error or (interruption(result) or None)
    tooltip = error or f"{result.cell.id}: passed in {result.duration:.1f}s"
    error_html = (
        f'<div class="error">{_esc(failure_line(error))}</div>' if error is not None else ""
    )
    setup = "".join(f'<div class="setup">{_esc(line)}</div>' for line in result.setup_lines())
    if bom is not None:
        setup += f'<div class="setup"><a href="{_esc(bom)}">bill of materials</a></div>'
    return (
        f'<td class="cell {status.value}" title="{_esc(tooltip[:1000])}" '
        f'style="background:{BACKGROUNDS[status]};border-color:{COLOURS[status]}">'
        f'<div class="id">{_esc(result.cell.id)}</div>'
        f'<div class="status" style="color:{COLOURS[status]}">{status.value} · '
        f"{result.duration:.1f}s</div>"
        f"<table>{''.join(rows)}</table><div>{_esc(sizes)}</div>{setup}{error_html}</td>"
    )


def _missing_box(cell: Cell) -> str:
    colour, background = COLOURS[Status.FAILED], BACKGROUNDS[Status.FAILED]
    return (
        f'<td class="cell missing" title="{_esc(cell.id)}: no result" '
        f'style="background:{background};border-color:{colour}">'
        f'<div class="id">{_esc(cell.id)}</div>'
        f'<div class="status" style="color:{colour}">missing</div>'
        '<div class="error">no result: the cell did not run, or its report was lost</div></td>'
    )


def grid(
    results: Sequence[CellResult],
    expected: Sequence[Cell] = (),
    boms: Mapping[str, str] | None = None,
) -> str:
    """The matrix as a table: rows are profile x accelerator, columns are Pythons.

    An ``expected`` cell without a result is shown as MISSING; ``boms``: the link to
    each cell's bill of materials, by cell id.
    """
    boms = boms or {}
    cells_shown = [r.cell for r in results] + list(expected)
    pythons = sorted({c.python for c in cells_shown}, key=version_key)
    rows = sorted({(c.profile, c.accelerator) for c in cells_shown})
    by_axes = {(r.cell.profile, r.cell.accelerator, r.cell.python): r for r in results}
    wanted = {(c.profile, c.accelerator, c.python): c for c in expected}
    head = "".join(f"<th>Python {_esc(p)}</th>" for p in pythons)
    body = []
    for profile, accelerator in rows:
        cells = []
        for python in pythons:
            found = by_axes.get((profile, accelerator, python))
            missing = wanted.get((profile, accelerator, python))
            if found:
                cells.append(_cell_box(found, boms.get(found.cell.id)))
            elif missing:
                cells.append(_missing_box(missing))
            else:
                cells.append('<td class="absent">not in the matrix</td>')
        body.append(f"<tr><th>{_esc(profile)} · {_esc(accelerator)}</th>{''.join(cells)}</tr>")
    return f'<table class="grid"><tr><th></th>{head}</tr>{"".join(body)}</table>'


def stage_plot(results: Sequence[CellResult]) -> str:
    """Horizontal stacked bars: each cell's time, split by stage."""
    names = _stage_names(results)
    colours = {name: STAGE_COLOURS[i % len(STAGE_COLOURS)] for i, name in enumerate(names)}
    longest = max((sum(s.duration for s in r.stages) for r in results), default=0.0) or 1.0
    label_width, bar_width, row = 130, 560, 24
    height = row * len(results) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_width + bar_width + 80}" '
        f'height="{height}" role="img" aria-label="time per stage per cell">'
    ]
    for index, result in enumerate(results):
        y = index * row + 4
        parts.append(f'<text x="0" y="{y + 14}" font-size="12">{_esc(result.cell.id)}</text>')
        x = float(label_width)
        for stage in result.stages:
            width = stage.duration / longest * bar_width
            if width <= 0:
                continue
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{row - 8}" '
                f'fill="{colours[stage.name]}"><title>{_esc(result.cell.id)} '
                f"{_esc(stage.name)}: {stage.duration:.2f}s</title></rect>"
            )
            x += width
        total = sum(s.duration for s in result.stages)
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 14}" font-size="11">{total:.1f}s</text>')
    parts.append("</svg>")
    legend = "".join(
        f'<span><i style="background:{colours[name]}"></i>{_esc(name)}</span>' for name in names
    )
    return f'<div class="legend">{legend}</div>' + "".join(parts)


def size_plot(results: Sequence[CellResult]) -> str:
    """Bars of image size per cell (venv size beside it, lighter)."""
    largest = max((max(r.image_size or 0, r.venv_size or 0) for r in results), default=0) or 1
    label_width, bar_width, row = 130, 560, 30
    height = row * len(results) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_width + bar_width + 120}" '
        f'height="{height}" role="img" aria-label="image and venv size per cell">'
    ]
    for index, result in enumerate(results):
        y = index * row + 4
        parts.append(f'<text x="0" y="{y + 13}" font-size="12">{_esc(result.cell.id)}</text>')
        for offset, size, colour, what in (
            (0, result.image_size, "#5c6bc0", "image"),
            (12, result.venv_size, "#b0bec5", "venv"),
        ):
            if not size:
                continue
            width = size / largest * bar_width
            parts.append(
                f'<rect x="{label_width}" y="{y + offset}" width="{width:.1f}" height="10" '
                f'fill="{colour}"><title>{_esc(result.cell.id)} {what}: '
                f"{format_size(size)}</title></rect>"
                f'<text x="{label_width + width + 6:.1f}" y="{y + offset + 9}" '
                f'font-size="10">{what} {format_size(size)}</text>'
            )
    parts.append("</svg>")
    legend = (
        '<div class="legend"><span><i style="background:#5c6bc0"></i>image</span>'
        '<span><i style="background:#b0bec5"></i>venv</span></div>'
    )
    return legend + "".join(parts)


def _materials(boms: Sequence[CellBom], images: Sequence[ImageAttestation]) -> str:
    """The bills of materials, one line each (the file linked), and the images' attestations."""
    items = [
        f'<li>{_esc(bom.cell)}: <a href="{_esc(bom.file)}">{_esc(bom.file)}</a>: '
        f"{_esc(bom.summary())}</li>"
        if bom.file
        else f"<li>{_esc(bom.line())}</li>"
        for bom in boms
    ]
    items += [f"<li>{_esc(image.line())}</li>" for image in images]
    return (
        "<section><h2>Bills of materials (CycloneDX)</h2>"
        f'<ul class="boms">{"".join(items)}</ul></section>'
    )


def render_html(
    release: Release,
    *,
    title: str,
    generated: str,
    check: Sequence[str] = (),
    boms: Sequence[CellBom] = (),
    images: Sequence[ImageAttestation] = (),
) -> str:
    """The whole page. ``check``: drift findings from ``noxgrid check`` (they fail the verdict);
    ``boms``: each cell's bill of materials (linked); ``images``: their SBOM attestations."""
    results = sorted(release.results, key=lambda r: cell_key(r.cell))
    problems = "".join(
        f"<li><b>{_esc(cell_id)}</b>: <b>{_esc(what)}</b>: {_esc(why)}</li>"
        for cell_id, what, why in release.cell_problems()
    )
    drift = "".join(f"<li>{_esc(item)}</li>" for item in check)
    sections = [
        f"<h1>{_esc(title)}</h1>",
        f'<div class="verdict {"passed" if release.passed else "failed"}">'
        f"{_esc(release.verdict())}</div>",
        grid(results, release.expected, {b.cell: b.file for b in boms if b.file}),
    ]
    if problems:
        sections.append(
            f'<section><h2>Cells not verified for release</h2><ul class="failures">{problems}</ul>'
        )
        sections.append("</section>")
    allowed = "".join(f"<li>{_esc(line)}</li>" for line in allowed_lines(results))
    if allowed:
        sections.append(f"<section><h2>Allowed on purpose</h2><ul>{allowed}</ul></section>")
    if check:
        sections.append(f"<section><h2>Drift (noxgrid check)</h2><ul>{drift}</ul></section>")
    if boms or images:
        sections.append(_materials(boms, images))
    sections.append(f"<section><h2>Time per stage</h2>{stage_plot(results)}</section>")
    if any(r.image_size or r.venv_size for r in results):
        sections.append(f"<section><h2>Image and venv size</h2>{size_plot(results)}</section>")
    sections.append(f"<footer>{_esc(generated)}</footer>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_esc(title)}</title><style>{STYLE}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>\n"
    )
