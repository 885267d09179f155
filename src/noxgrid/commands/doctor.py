"""``noxgrid doctor``: the venv's and the image's audit and import smoke, as a report."""

from __future__ import annotations

import argparse
import json
import sys

from noxgrid.commands.common import (
    Subparsers,
    add_project,
    load_project,
    print_summary,
    require_engine,
    run_selected,
)


def register_doctor(commands: Subparsers) -> None:
    """``noxgrid doctor``: its parser and its handler."""
    doctor = commands.add_parser(
        "doctor",
        help="find missing system libraries and broken imports, in the venv and the image",
        description="For each selected cell: install it (as `run` does), then read every ELF "
        "file the installed packages ship (extension modules, bundled libraries) and resolve "
        "each library it needs through its RPATH/RUNPATH, the packages' own *.libs folders "
        "and the system's library folders, first on this machine, then inside the cell's "
        "image. Each missing library is named with what needs it, the Debian package that "
        "provides it and the exact apt line for the profile. Then the top-level modules of "
        "the cell's direct dependencies are imported, in the venv and in the image. A "
        "library needed only by files nothing imported (another accelerator's provider, a "
        "transport plugin) is a note, not a failure. Every cell session runs the same checks "
        "as its doctor stage, before the suite.",
    )
    add_project(doctor)
    doctor.add_argument("patterns", nargs="*", metavar="PATTERN", help="cells to examine")
    doctor.add_argument(
        "-j", "--jobs", type=int, default=1, metavar="N", help="cells at once (default 1)"
    )
    doctor.add_argument(
        "-q", "--quiet", action="store_true", help="do not stream install and build output"
    )
    doctor.add_argument(
        "--no-docker", action="store_true", help="the venv only: build and audit no image"
    )
    doctor.add_argument("--json", action="store_true", help="print the findings as JSON")
    doctor.set_defaults(in_image=False)
    doctor.set_defaults(handler=cmd_doctor)


DOCTOR_STAGES = ("interpreter", "lock", "venv", "install", "doctor", "image")


def cmd_doctor(args: argparse.Namespace) -> int:
    """``noxgrid doctor``: the venv's and the image's audit and import smoke, as a report."""
    from noxgrid.cell.doctor import doctor_path
    from noxgrid.model.reason import failed_at
    from noxgrid.model.results import Status

    config, matrix = load_project(args)
    require_engine(args, config, DOCTOR_STAGES)
    # With --json, stdout carries the JSON alone; the progress goes to stderr.
    stream = sys.stderr if args.json else sys.stdout
    results, elapsed = run_selected(args, config, matrix, DOCTOR_STAGES, stream)
    documents = []
    for result in results:
        path = doctor_path(config, result.cell)
        # The run removed any earlier findings: a missing file means the doctor did not look.
        document = (
            json.loads(path.read_text(encoding="utf-8"))
            if path.is_file()
            else {"cell": result.cell.id}
        )
        # a stage that stopped the cell before the doctor could look
        stopped = [
            stage
            for stage in result.stages
            if stage.status is Status.FAILED and stage.name not in ("doctor", "image")
        ]
        document["stopped"] = failed_at(stopped[0].name, stopped[0].detail) if stopped else None
        document["status"] = result.status.value
        documents.append(document)
    if args.json:
        print(json.dumps(documents, indent=2))
    else:
        print()
        for document in documents:
            print(f"== {document['cell']}: {document['status']}")
            if document["stopped"]:
                print(f"  stopped before the doctor: {document['stopped']}")
            for key in ("venv", "image"):
                entry = document.get(key)
                if isinstance(entry, dict):
                    print(entry["text"])
            print()
    return print_summary(config, results, elapsed, stream)
