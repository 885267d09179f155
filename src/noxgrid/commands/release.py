"""``noxgrid release``: check, every cell with its image, one report over the matrix."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from noxgrid.commands.common import (
    Subparsers,
    add_project,
    load_project,
    report_title,
    require_engine,
    run_selected,
)

if TYPE_CHECKING:
    from noxgrid.model.results import CellResult


def register_release(commands: Subparsers) -> None:
    """``noxgrid release``: its parser and its handler."""
    release = commands.add_parser(
        "release",
        help="release verification: check, every cell with its image, one report",
        description="Run `noxgrid check`, then every cell of the matrix (lock, venv, install, "
        "doctor, image, smoke, suite; in parallel up to the number of cores), and write one "
        "report: release.json, release.md (also appended to $GITHUB_STEP_SUMMARY when set), "
        "release.xml (JUnit, every cell) and release.html (the matrix as a grid, time per "
        "stage and image size plotted) into <reports>/release, with each cell's bill of "
        "materials (CycloneDX JSON, from its lock) in sbom/ beside them. A failing cell does "
        "not stop the others; the run exits 1 naming each failing cell and its first error.",
    )
    add_project(release)
    release.add_argument(
        "patterns", nargs="*", metavar="PATTERN", help="only these cells (default: every cell)"
    )
    release.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="cells at once (default: the number of cores)",
    )
    release.add_argument("-q", "--quiet", action="store_true", help="do not stream output")
    release.add_argument(
        "--no-docker", action="store_true", help="skip images and smoke tests (said in the report)"
    )
    release.add_argument(
        "--out", type=Path, metavar="DIR", help="where the report goes (default <reports>/release)"
    )
    release.set_defaults(in_image=False)
    release.set_defaults(handler=cmd_release)


def cmd_release(args: argparse.Namespace) -> int:
    """``noxgrid release``: check, every cell, one report over the whole matrix."""
    from noxgrid.check.findings import check_findings
    from noxgrid.commands.release_report import write_release
    from noxgrid.commands.release_sbom import image_attestations, write_boms
    from noxgrid.commands.verdict import judge, print_release, release_failed
    from noxgrid.render.table import timings_table

    config, matrix = load_project(args)
    require_engine(args, config, None)
    findings = check_findings(config, matrix)
    if findings:
        for finding in findings:
            print(f"drift: {finding['where']}: {finding['message']}\n  fix: {finding['fix']}")
        print(f"noxgrid check: {len(findings)} finding(s); the cells run anyway\n")
    else:
        print("noxgrid check: no drift\n")
    folder = args.out or config.reports_dir / "release"
    done: list[CellResult] = []
    start = time.perf_counter()
    try:
        results, elapsed = run_selected(args, config, matrix, None, done=done, cell_tables=False)
    except KeyboardInterrupt:
        # The report is written all the same: what finished, and the rest MISSING.
        write_release(
            judge(config, done, list(matrix), findings),
            folder,
            title=report_title(config),
            boms=write_boms(config, done, folder),
            images=image_attestations(done),
        )
        print(f"\nthe report in {folder} covers the cells that finished or were interrupted")
        raise
    release = judge(config, results, list(matrix), findings)
    boms = write_boms(config, results, folder)
    images = image_attestations(results)
    paths = write_release(release, folder, title=report_title(config), boms=boms, images=images)
    print()
    print(timings_table(results))
    print_release(release, time.perf_counter() - start if elapsed is None else elapsed)
    print(
        f"report: {paths['html']} (and release.json, release.md, release.xml beside it; "
        f"bills of materials in {folder / 'sbom'})"
    )
    if not release.passed:
        raise release_failed(release, paths["html"])
    return 0
