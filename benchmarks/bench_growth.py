"""How noxgrid grows with the matrix: generated projects of 12, 48, 200 and 1,000 cells.

For each size, once every cell is locked (one tiny requirement: resolutions that can be
shared are): ``noxgrid matrix --github``, ``nox -l`` (the noxfile registering every
cell) and ``noxgrid lock --check`` (every lock read and its inputs digested), each the
median of a few runs; and a warm ``noxgrid lock`` of the 12- and 48-cell projects.
Projects are made in a temporary folder; nothing tracked is touched. Writes
docs/benchmarks.md.

    pip install -e .
    python benchmarks/bench_growth.py --rounds 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchtools import publish, timed, write_option

from noxgrid.tools.uv import find_uv

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MARK = "bench:growth"
PYTHONS = ["3.9", "3.10", "3.11", "3.12", "3.13"]
# cells = pythons x accelerators x profiles
SHAPES = {12: (3, 2, 2), 48: (3, 4, 4), 200: (5, 5, 8), 1000: (5, 10, 20)}


def project(root: Path, cells: int) -> Path:
    pythons, accelerators, profiles = SHAPES[cells]
    root.mkdir(parents=True)
    (root / "requirements").mkdir()
    (root / "requirements" / "base.in").write_text("iniconfig\n")
    lines = [
        "[project]",
        'name = "grown"',
        'version = "0.1.0"',
        'requires-python = ">=3.9"',
        "",
        "[tool.noxgrid]",
        f"python = {PYTHONS[:pythons]!r}".replace("'", '"'),
        "accelerators = [" + ", ".join(f'"a{i}"' for i in range(accelerators)) + "]",
        "profiles = [" + ", ".join(f'"p{i}"' for i in range(profiles)) + "]",
    ]
    for i in range(accelerators):
        lines += ["", f"[tool.noxgrid.accelerator.a{i}]", 'runs-on = "ubuntu-latest"']
    for i in range(profiles):
        lines += ["", f"[tool.noxgrid.profile.p{i}]", 'requirements = ["requirements/base.in"]']
    (root / "pyproject.toml").write_text("\n".join(lines) + "\n")
    (root / "noxfile.py").write_text("import noxgrid\n\nnoxgrid.sessions()\n")
    return root


def versions() -> str:
    """noxgrid's, uv's and nox's versions, as they print them."""
    py = sys.executable
    found = []
    for argv in ([py, "-m", "noxgrid", "--version"], [find_uv(), "--version"]):
        found.append(subprocess.run(argv, capture_output=True, text=True).stdout.strip())
    nox = subprocess.run([py, "-m", "nox", "--version"], capture_output=True, text=True)
    return ", ".join([*found, "nox " + (nox.stdout or nox.stderr).strip()])


def median(argv: list[str], cwd: Path, rounds: int, ok: tuple[int, ...] = (0,)) -> float:
    return statistics.median(timed(argv, cwd, ok=ok) for _ in range(rounds))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    write_option(parser)
    args = parser.parse_args()
    py = sys.executable
    import noxgrid

    timed([py, "-m", "compileall", "-q", str(Path(noxgrid.__file__).parent)], REPO)
    rows = []
    locks: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="noxgrid-growth-") as folder:
        for cells in SHAPES:
            root = project(Path(folder) / f"m{cells}", cells)
            timed([py, "-m", "noxgrid", "lock"], root)  # every lock in place; caches warm
            if cells in (12, 48):
                locks[cells] = timed([py, "-m", "noxgrid", "lock"], root)
                print(f"{cells} cells: lock {locks[cells]:.2f} s", flush=True)
            matrix = median([py, "-m", "noxgrid", "matrix", "--github"], root, args.rounds)
            listed = median([py, "-m", "nox", "-l"], root, args.rounds)
            check = median([py, "-m", "noxgrid", "lock", "--check"], root, args.rounds)
            rows.append((cells, matrix, listed, check))
            print(
                f"{cells} cells: matrix {matrix:.2f} s, nox -l {listed:.2f} s, "
                f"lock --check {check:.2f} s",
                flush=True,
            )
    lines = [
        "## Growth with the matrix",
        "",
        f"Measured {dt.date.today().isoformat()} on {os.cpu_count()} cores "
        f"({platform.machine()}, Python {platform.python_version()}). Command:",
        "",
        "```",
        f"python benchmarks/bench_growth.py --rounds {args.rounds}",
        "```",
        "",
        "Generated projects (pythons x accelerators x profiles), every cell locked, "
        f"medians; {versions()}. noxgrid's modules have their bytecode (compiled once, "
        "as an installed noxgrid has it).",
        "",
        "| cells | `noxgrid matrix --github` | `nox -l` | `noxgrid lock --check` |",
        "|---|---|---|---|",
        *[f"| {c} | {m:.2f} s | {n:.2f} s | {k:.2f} s |" for c, m, n, k in rows],
        "",
        "`noxgrid lock` again, warm (the inputs unchanged: each resolution answered from "
        f"uv's cache), one small requirement: 12 cells {locks[12]:.2f} s, 48 cells "
        f"{locks[48]:.2f} s ({locks[48] / locks[12]:.1f} x). Targets (issue 17): under 0.5 s "
        "at 1,000 cells, no worse than linear; locking 48 cells at most 3 x the time of 12.",
    ]
    section = "\n".join(lines)
    publish(section, args.write, MARK)


if __name__ == "__main__":
    main()
