"""JUnit XML for cell results: one testsuite per cell, one testcase per stage.

Every text is cleaned first (``render.text.clean_text``): a stage's detail
quotes a suite's output, and ANSI codes or other control characters would
make the document not well-formed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence

from noxgrid.model.matrix import Cell
from noxgrid.model.reason import failure_line
from noxgrid.model.results import CellResult, Status, first_line
from noxgrid.model.text import clean_text


def render_junit(results: Iterable[CellResult], *, missing: Sequence[Cell] = ()) -> str:
    """A ``<testsuites>`` document CI systems can show next to their own tests.

    ``missing``: cells a release expected but has no result of; each is a
    suite with one errored case, so the CI's test view shows it too.
    """
    root = ET.Element("testsuites", name="noxgrid")
    counts = {"tests": 0, "failures": 0, "skipped": 0, "errors": 0}
    elapsed = 0.0
    for result in results:
        for key, value in _cell_suite(root, result).items():
            counts[key] += value
        elapsed += result.duration
    for cell in missing:
        _missing_suite(root, cell)
        counts["tests"] += 1
        counts["errors"] += 1
    for key, value in counts.items():
        root.set(key, str(value))
    root.set("time", f"{elapsed:.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _cell_suite(root: ET.Element, result: CellResult) -> dict[str, int]:
    """One cell's testsuite (a testcase per stage); its counts."""
    suite = ET.SubElement(
        root,
        "testsuite",
        name=result.cell.id,
        timestamp=clean_text(result.started_at),
        time=f"{result.duration:.3f}",
    )
    failures = skipped = errors = 0
    for stage in result.stages:
        detail = clean_text(stage.detail)
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"noxgrid.{result.cell.id}",
            name=clean_text(stage.name),
            time=f"{stage.duration:.3f}",
        )
        if stage.status is Status.FAILED:
            failures += 1
            ET.SubElement(case, "failure", message=failure_line(detail)).text = detail
        elif stage.status is Status.SKIPPED:
            skipped += 1
            ET.SubElement(case, "skipped", message=detail)
        elif stage.status is Status.INTERRUPTED:  # stopped, not failed: an error
            errors += 1
            ET.SubElement(
                case, "error", type="interrupted", message=first_line(detail)
            ).text = detail
        elif detail:
            ET.SubElement(case, "system-out").text = detail
    counts = {
        "tests": len(result.stages),
        "failures": failures,
        "skipped": skipped,
        "errors": errors,
    }
    for key, value in counts.items():
        suite.set(key, str(value))
    return counts


def _missing_suite(root: ET.Element, cell: Cell) -> None:
    """A suite for a cell with no result: one errored case saying so."""
    suite = ET.SubElement(root, "testsuite", name=cell.id, tests="1", failures="0")
    suite.set("skipped", "0")
    suite.set("errors", "1")
    suite.set("time", "0.000")
    case = ET.SubElement(suite, "testcase", classname=f"noxgrid.{cell.id}", name="result")
    ET.SubElement(case, "error", message="MISSING: no result for this cell").text = (
        "The release expected this cell, but no result of it was found: the cell did "
        "not run, or its job died before uploading its report."
    )
