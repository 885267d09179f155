"""Locking the reference service's 12 cells, checking them, and how good the size estimate is.

* ``noxgrid lock`` of every cell with warm caches (uv's and noxgrid's index cache)
* ``noxgrid lock --check`` (offline)
* with ``--sizes``: run every cell (``noxgrid run -j 2``), then set each cell's
  installed-size estimate (from its lock, made before any download) beside the
  venv size measured after the install

Works on a copy of the reference service (benchmarks/.work/service), so the
committed locks are never rewritten. Writes the results into docs/benchmarks.md.

    pip install -e .
    python benchmarks/bench_locks.py --rounds 3 --sizes
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from benchtools import publish, write_option
from benchtools import timed as run_timed

from noxgrid.tools.uv import find_uv

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ORIGINAL = REPO / "examples" / "service"
SERVICE = HERE / ".work" / "service"
MARK = "bench:locks"


def copy_service() -> None:
    """A fresh copy of the reference service to lock in (venvs and reports left behind)."""
    if SERVICE.exists():
        shutil.rmtree(SERVICE)
    shutil.copytree(
        ORIGINAL, SERVICE, ignore=shutil.ignore_patterns(".noxgrid", ".nox", "*.egg-info")
    )


def timed(argv: list[str], *, ok: tuple[int, ...] = (0,)) -> float:
    return run_timed(argv, SERVICE, ok=ok)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--sizes",
        action="store_true",
        help="also run every cell and compare estimated with measured sizes",
    )
    write_option(parser)
    args = parser.parse_args()
    py = sys.executable
    copy_service()
    locks = SERVICE / "requirements" / "locks"
    before = {p.name: p.read_text() for p in locks.glob("pylock.*.toml")}
    timed([py, "-m", "noxgrid", "lock"])  # warm-up: fills the caches
    lock_times = [timed([py, "-m", "noxgrid", "lock"]) for _ in range(args.rounds)]
    check_times = [timed([py, "-m", "noxgrid", "lock", "--check"]) for _ in range(args.rounds * 3)]
    refresh_times = [timed([py, "-m", "noxgrid", "lock", "--refresh"]) for _ in range(args.rounds)]
    from noxgrid.model.lockfile import parse_lock, pin_changes

    changed = sorted(
        f"{n} ({', '.join(moved)})"
        for n, text in before.items()
        if (moved := pin_changes(parse_lock(text), parse_lock((locks / n).read_text())))
    )

    lines = [
        "## Locks of the reference service (12 cells)",
        "",
        f"Measured {dt.date.today().isoformat()} on {os.cpu_count()} cores "
        f"({platform.machine()}, Python {platform.python_version()}); "
        + subprocess.run(
            [py, "-m", "noxgrid", "--version"], capture_output=True, text=True
        ).stdout.strip()
        + ", "
        + subprocess.run([find_uv(), "--version"], capture_output=True, text=True).stdout.strip()
        + ". Command:",
        "",
        "```",
        f"python benchmarks/bench_locks.py --rounds {args.rounds}"
        + (" --sizes" if args.sizes else ""),
        "```",
        "",
        "| what | median | range |",
        "|---|---|---|",
        f"| `noxgrid lock` (12 cells, 4 at a time, warm uv and index caches) "
        f"| {statistics.median(lock_times):.2f} s "
        f"| {min(lock_times):.2f}-{max(lock_times):.2f} s |",
        f"| `noxgrid lock --refresh` (12 cells, every resolution asks the index) "
        f"| {statistics.median(refresh_times):.2f} s "
        f"| {min(refresh_times):.2f}-{max(refresh_times):.2f} s |",
        f"| `noxgrid lock --check` (offline) | {statistics.median(check_times):.2f} s "
        f"| {min(check_times):.2f}-{max(check_times):.2f} s |",
        "",
        "Relocking moved the pins of "
        + ("; ".join(changed) if changed else "no lock")
        + " (new releases on PyPI since the committed locks were written, if any). "
        "Warm: uv's and noxgrid's caches filled and every lock's inputs unchanged, so each "
        "resolution is answered from uv's cache (`--offline`) before the index is asked; "
        "`noxgrid lock --refresh` asks the index for every cell. "
        "Target (issue 17): 12 warm locks in at most 3 s, `lock --check` under 0.2 s.",
    ]
    if args.sizes:
        timed([py, "-m", "noxgrid", "run", "-q", "-j", "2", "--no-docker"])
        rows = []
        for cell_report in sorted((SERVICE / ".noxgrid" / "reports").glob("*.json")):
            data = json.loads(cell_report.read_text())
            estimate, measured = data.get("size_estimate"), data.get("venv_size")
            if not estimate or not measured:
                continue
            error = (estimate - measured) / measured * 100
            rows.append(
                f"| {data['cell']['id']} | {estimate / 1e6:.1f} MB "
                f"| {measured / 1e6:.1f} MB | {error:+.1f} % |"
            )
        lines += [
            "",
            "Installed-size estimate (from the lock header, made from the index before "
            "any download) against the venv measured after `noxgrid run -j 2 --no-docker`:",
            "",
            "| cell | estimate | measured venv | error |",
            "|---|---|---|---|",
            *rows,
        ]
    section = "\n".join(lines)
    publish(section, args.write, MARK)


if __name__ == "__main__":
    main()
