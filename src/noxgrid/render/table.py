"""Plain-text tables for the terminal: the matrix, and per-cell timings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from noxgrid.model.matrix import Matrix
from noxgrid.model.reason import failure_line
from noxgrid.model.results import CellResult, format_size
from noxgrid.model.text import clean_text


def markdown_text(text: str) -> str:
    """``text`` as one line of Markdown safe inside a table cell or a list item."""
    line = " ".join(clean_text(text).split())
    return line.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")


def text_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces, with a rule under the header."""
    rows = [list(map(str, row)) for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(lines)


def matrix_table(matrix: Matrix) -> str:
    """One row per cell: id, axes, and the nox session that runs it."""
    return text_table(
        ["cell", "python", "accelerator", "profile", "nox session"],
        [[c.id, c.python, c.accelerator, c.profile, c.session] for c in matrix],
    )


def timings_table(results: Iterable[CellResult]) -> str:
    """One row per cell: status, total time, time per stage, venv and image size."""
    results = list(results)
    stage_names: list[str] = []
    for result in results:
        for stage in result.stages:
            if stage.name not in stage_names:
                stage_names.append(stage.name)
    rows = []
    for result in results:
        by_name = {stage.name: stage for stage in result.stages}
        row = [result.cell.id, result.status.value, f"{result.duration:.1f}s"]
        for name in stage_names:
            found = by_name.get(name)
            if found is None:
                row.append("-")
            elif found.status.value == "skipped":
                row.append("skip")
            else:
                row.append(f"{found.duration:.1f}s")
        row.append(format_size(result.venv_size))
        row.append(format_size(result.image_size) if result.image_size else "-")
        rows.append(row)
    table = text_table(["cell", "status", "total", *stage_names, "venv size", "image size"], rows)
    extra = [f"{r.cell.id}: {line}" for r in results for line in r.setup_lines()]
    return "\n".join([table, "", *extra]) if extra else table


def markdown_table(results: Iterable[CellResult]) -> str:
    """The timings table as Markdown, for GitHub's step summary."""
    results = list(results)
    lines = [
        "| cell | status | total | "
        + " | ".join(s.name for s in (results[0].stages if results else ()))
        + " | venv | image |"
    ]
    lines.append("|" + "---|" * (5 + (len(results[0].stages) if results else 0)))
    for result in results:
        stages = " | ".join(
            "skip" if s.status.value == "skipped" else f"{s.duration:.1f}s" for s in result.stages
        )
        mark = {"passed": "✅", "interrupted": "⏹️"}.get(result.status.value, "❌")
        lines.append(
            f"| {result.cell.id} | {mark} {result.status.value} | "
            f"{result.duration:.1f}s | {stages} | {format_size(result.venv_size)} | "
            f"{format_size(result.image_size)} |"
        )
    extra = [f"- {r.cell.id}: {markdown_text(line)}" for r in results for line in r.setup_lines()]
    extra += [f"- {markdown_text(line)}" for line in failure_lines(results)]
    return "\n".join([*lines, "", *extra] if extra else lines)


def failure_lines(results: Iterable[CellResult]) -> list[str]:
    """``<cell> failed at <stage>: <cause>; fix: <fix>``, one line per failed cell: the
    reason every report shows under its table."""
    return [
        f"{r.cell.id} failed at {failure_line(r.first_error)}"
        for r in results
        if r.first_error is not None
    ]
