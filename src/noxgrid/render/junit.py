"""JUnit XML for cell results: one testsuite per cell, one testcase per stage."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from noxgrid.result import CellResult, Status


def render_junit(results: Iterable[CellResult]) -> str:
    """A ``<testsuites>`` document CI systems can show next to their own tests."""
    root = ET.Element("testsuites", name="noxgrid")
    total = failures = skipped = 0
    elapsed = 0.0
    for result in results:
        suite = ET.SubElement(
            root,
            "testsuite",
            name=result.cell.id,
            timestamp=result.started_at,
            time=f"{result.duration:.3f}",
        )
        suite_failures = suite_skipped = 0
        for stage in result.stages:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"noxgrid.{result.cell.id}",
                name=stage.name,
                time=f"{stage.duration:.3f}",
            )
            if stage.status is Status.FAILED:
                suite_failures += 1
                failure = ET.SubElement(case, "failure", message=stage.detail.split("\n")[0])
                failure.text = stage.detail
            elif stage.status is Status.SKIPPED:
                suite_skipped += 1
                ET.SubElement(case, "skipped", message=stage.detail)
            elif stage.detail:
                ET.SubElement(case, "system-out").text = stage.detail
        suite.set("tests", str(len(result.stages)))
        suite.set("failures", str(suite_failures))
        suite.set("skipped", str(suite_skipped))
        suite.set("errors", "0")
        total += len(result.stages)
        failures += suite_failures
        skipped += suite_skipped
        elapsed += result.duration
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("skipped", str(skipped))
    root.set("errors", "0")
    root.set("time", f"{elapsed:.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
