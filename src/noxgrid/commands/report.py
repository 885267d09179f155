"""``noxgrid report``: stored results, or a merged release report over the expected cells."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from noxgrid.commands.common import Subparsers, add_project, load_project, report_title
from noxgrid.errors import (
    SelectionError,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from noxgrid.model.config import Config
    from noxgrid.model.matrix import Matrix
    from noxgrid.model.results import CellResult


def register_report(commands: Subparsers) -> None:
    """``noxgrid report``: its parser and its handler."""
    report = commands.add_parser(
        "report",
        help="print the stored results of each cell, or merge several runs into one report",
        description="Read <reports>/<cell>.json and print the status, total time, time "
        "per stage and venv size of each cell. With --from, read every cell report below "
        "the given folders instead (the artifacts of several CI jobs, downloaded), the "
        "latest run of each cell winning. With --out, also write the release report there: "
        "release.json, release.md, release.xml (JUnit, every cell) and release.html. "
        "With --from, --out or --expect the result is a release verdict over every expected "
        "cell (the whole matrix unless --expect says otherwise): a cell without a result is "
        "MISSING, one whose image or smoke stage was skipped or never ran is NOT VERIFIED, "
        "and either makes the command exit 1.",
    )
    add_project(report)
    report.add_argument("patterns", nargs="*", metavar="PATTERN", help="cells to show")
    report.add_argument("--json", action="store_true", help="print JSON for machines")
    report.add_argument(
        "--markdown", action="store_true", help="print a Markdown table (for $GITHUB_STEP_SUMMARY)"
    )
    report.add_argument(
        "--from",
        dest="sources",
        action="append",
        type=Path,
        metavar="DIR",
        help="read cell reports below DIR (repeatable) instead of the project's reports folder",
    )
    report.add_argument(
        "--out", type=Path, metavar="DIR", help="write the four release-report files into DIR"
    )
    report.add_argument(
        "--expect",
        metavar="CELLS",
        help="the cells the merged report must cover: the plan job's strategy.matrix JSON, or "
        "cell ids separated by commas (default: every cell of the matrix); each one without "
        "a result is MISSING and fails the report",
    )
    report.set_defaults(handler=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    """``noxgrid report``."""
    from noxgrid.cell.report import read_cell_reports
    from noxgrid.model.results import Status
    from noxgrid.render.table import markdown_table, timings_table

    config, matrix = load_project(args)
    if args.sources or args.out or args.expect:
        return merged_report(args, config, matrix)
    wanted = set(matrix.select(args.patterns).ids())
    results = [r for r in read_cell_reports(config.reports_dir) if r.cell.id in wanted]
    if args.json:
        print(json.dumps([result.as_dict() for result in results], indent=2))
    elif not results:
        print(f"no results in {config.reports_dir} yet: run `noxgrid run` or `nox -s ci-lean`")
    elif args.markdown:
        print(markdown_table(results))
    else:
        print(timings_table(results))
        print_failures(results)
    if results and not args.json:
        print_allowed(results, markdown=args.markdown)
    if not results:
        return 1
    return 1 if any(result.status is not Status.PASSED for result in results) else 0


def print_failures(results: Sequence[CellResult]) -> None:
    """Why each failed cell failed, with its fix, under the table (nothing when none did)."""
    from noxgrid.render.table import failure_lines

    lines = failure_lines(results)
    if lines:
        print()
        for line in lines:
            print(line)


def print_allowed(results: Sequence[CellResult], *, markdown: bool) -> None:
    """The findings allowed on purpose, under the table (nothing when there are none)."""
    from noxgrid.model.results import allowed_lines
    from noxgrid.render.table import markdown_text

    lines = allowed_lines(results)
    if lines:
        print("\n### Allowed on purpose\n" if markdown else "\nfindings allowed on purpose:")
        for line in lines:
            print(f"- {markdown_text(line)}" if markdown else f"  {line}")


def merged_report(args: argparse.Namespace, config: Config, matrix: Matrix) -> int:
    """``report --from/--out/--expect``: a release verdict over every expected cell."""
    from noxgrid.cell.report import read_cell_reports
    from noxgrid.commands.release_report import collect_results, write_release
    from noxgrid.commands.release_sbom import image_attestations, write_boms
    from noxgrid.commands.verdict import expected_cells, judge, print_release, release_failed
    from noxgrid.render.table import markdown_table, timings_table

    expected = expected_cells(matrix, args.expect)
    if args.patterns:
        chosen = set(matrix.select(args.patterns).ids())
        expected = [cell for cell in expected if cell.id in chosen]
    if args.sources:
        missing = [str(path) for path in args.sources if not path.exists()]
        if missing:
            raise SelectionError(
                f"no such folder: {', '.join(missing)}",
                fix="pass the folders the CI jobs' report artifacts were downloaded to",
            )
        merged, ignored = collect_results(args.sources)
        for path in ignored:
            sys.stderr.write(f"noxgrid: {path} is not a cell report; ignored\n")
    else:
        merged = read_cell_reports(config.reports_dir)
    wanted = {cell.id for cell in expected}
    results = [r for r in merged if r.cell.id in wanted]
    release = judge(config, results, expected)
    out = sys.stderr if args.json else sys.stdout
    if args.out:
        boms = write_boms(config, results, args.out)
        paths = write_release(
            release,
            args.out,
            title=report_title(config),
            boms=boms,
            images=image_attestations(results),
        )
        out.write(f"wrote {', '.join(str(path) for path in paths.values())}\n")
    if args.json:
        print(json.dumps([result.as_dict() for result in results], indent=2))
    elif args.markdown:
        print(markdown_table(results) if results else "_no cell results_")
    elif results:
        print(timings_table(results))
        print_failures(results)
    if not args.json:
        print_allowed(results, markdown=args.markdown)
    with contextlib.redirect_stdout(out):
        print_release(release)
    if not release.passed:
        raise release_failed(release, args.out or Path(config.reports_dir))
    return 0
