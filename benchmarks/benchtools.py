"""What the benchmarks share: one timed command that fails loudly."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path


def timed(
    argv: list[str], cwd: Path, env: Mapping[str, str] | None = None, ok: tuple[int, ...] = (0,)
) -> float:
    """Run ``argv`` in ``cwd``; its wall time, or exit naming the command and its output."""
    start = time.perf_counter()
    done = subprocess.run(
        argv,
        cwd=cwd,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode not in ok:
        sys.exit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed


def ratio_rows(times: Mapping[str, list[float]], floor: str) -> list[str]:
    """A Markdown row per contender: median, range, median over the floor's median, and
    the median of per-round ratios (which pairs runs made seconds apart and so cancels
    most of the drift of a shared machine)."""
    import statistics

    floors = times[floor]
    base = statistics.median(floors)
    rows = []
    for name, values in times.items():
        median = statistics.median(values)
        paired = statistics.median(v / f for v, f in zip(values, floors, strict=True))
        rows.append(
            f"| {name} | {median:.2f} s | {min(values):.2f}-{max(values):.2f} s "
            f"| {median / base:.2f} x | {paired:.2f} x |"
        )
    return rows


DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def write_option(parser) -> None:  # type: ignore[no-untyped-def]
    """``--write``: put the section into docs/benchmarks.md (``--write-to FILE``: into FILE);
    without either the table is only printed, and nothing tracked changes. ``--write`` takes
    no value, so a cell or project named after it is never taken for a file."""
    parser.add_argument(
        "--write",
        action="store_const",
        const=DOCS,
        default=None,
        help="write the section into docs/benchmarks.md; without it the table is only printed",
    )
    parser.add_argument(
        "--write-to", dest="write", type=Path, metavar="FILE", help="write the section into FILE"
    )


def suite_env(venv: Path, env: Mapping[str, str]) -> dict[str, str]:
    """``env`` as a cell's suite in ``venv`` gets it (noxgrid.model.bytecode): where
    PYTHONDONTWRITEBYTECODE is set, the bytecode of what it imports is read from and written
    to the venv's pycache folder. A bare pytest of a floor run with this reads the same
    bytecode as noxgrid's runs (the install compiles none): a fair floor."""
    from noxgrid.model.bytecode import bytecode_env

    return {**env, **bytecode_env(venv, env)}


def publish(section: str, write: Path | None, mark: str) -> None:
    """Print ``section``; write it into ``write`` (the --write option's value) when given."""
    from markdown_section import write_section

    print(section)
    if write:
        write_section(write, mark, section)
