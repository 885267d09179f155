"""A warm re-run of three lean cells against the floor, by wall time, CPU time and processes.

The same project as bench_itsdangerous.py (itsdangerous 2.2.0's own suite on 3.9,
3.10 and 3.11, venvs and locks made once), and only the runs that target 4 of
issue 25 compares, interleaved round by round:

* floor     - the three bare pytest runs side by side
* nox       - ``nox -s ci-lean -j 3`` (noxgrid's sessions): each venv proved equal to
              its lock, where the project imports from, the doctor, the suite
* noxgrid   - ``noxgrid run -q -j 3``, the same cells without nox

CPU time is user+sys of the run and every process it waited for (getrusage of the
children): on a machine other work shares, it moves far less than wall time. The
processes are counted once per contender, by tracing exec calls (strace, where it is
installed): noxgrid's own beyond the floor's three suites are its overhead.

    python benchmarks/bench_warm.py --rounds 9            # prints the table
    python benchmarks/bench_warm.py --rounds 9 --write    # and writes docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_itsdangerous import PYTHONS, VERSION, warm_project
from benchtools import suite_env, write_option
from benchtools import timed as sh
from markdown_section import write_section

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MARK = "bench:warm"
FLOOR = "floor (3 bare pytest runs)"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _env_of(argv: list[str], env: dict[str, str]) -> dict[str, str]:
    """A bare pytest of a venv reads the bytecode the cell's suite reads there."""
    program = Path(argv[0])
    return suite_env(program.parent.parent, env) if program.name == "pytest" else env


def run_timed(argvs: list[list[str]], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Start every argv at once and wait for all: (wall seconds, CPU seconds)."""
    cpu, start = _children_cpu(), time.perf_counter()
    procs = [
        subprocess.Popen(
            argv,
            cwd=cwd,
            env=_env_of(argv, env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for argv in argvs
    ]
    outputs = [proc.communicate()[0] for proc in procs]
    wall = time.perf_counter() - start
    for argv, proc, output in zip(argvs, procs, outputs, strict=True):
        if proc.returncode:
            sys.exit(f"{' '.join(argv)} failed ({proc.returncode}):\n{output[-3000:]}")
    return wall, _children_cpu() - cpu


def processes(argvs: list[list[str]], cwd: Path, env: dict[str, str]) -> int | None:
    """How many programs a run executes (successful execve calls, traced), or None."""
    strace = shutil.which("strace")
    if strace is None:
        return None
    total = 0
    with tempfile.TemporaryDirectory(prefix="noxgrid-bench-") as folder:
        for index, argv in enumerate(argvs):
            trace = Path(folder) / f"trace-{index}"
            command = [strace, "-f", "-qq", "-e", "trace=execve", "-e", "signal=none"]
            sh([*command, "-o", str(trace), *argv], cwd, _env_of(argv, env))
            lines = trace.read_text(errors="replace").splitlines()
            total += sum(1 for line in lines if "execve(" in line and line.rstrip().endswith("= 0"))
            # a call strace saw start and resume on two lines ends on "<... execve resumed>"
            total += sum(1 for line in lines if "execve resumed>" in line and "= 0" in line)
    return total


def rows(wall: dict[str, list[float]], cpu: dict[str, list[float]], counts: dict) -> list[str]:
    base_cpu = statistics.median(cpu[FLOOR])
    lines = []
    for name in wall:
        paired = statistics.median(w / f for w, f in zip(wall[name], wall[FLOOR], strict=True))
        median_cpu = statistics.median(cpu[name])
        count = counts.get(name)
        lines.append(
            f"| {name} | {statistics.median(wall[name]):.2f} s | {paired:.2f} x "
            f"| {median_cpu:.2f} s | {median_cpu / base_cpu:.2f} x "
            f"| {median_cpu - base_cpu:+.2f} s | {'-' if count is None else count} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default 5)")
    write_option(parser)
    args = parser.parse_args()

    env, project = warm_project()
    py = sys.executable
    venvs = project / ".noxgrid" / "venvs"
    contenders = {
        FLOOR: [[str(venvs / f"{v}-cpu-lean" / "bin" / "pytest"), "-q"] for v in PYTHONS],
        "nox -s ci-lean -j 3 (noxgrid sessions)": [
            [py, "-m", "nox", "-f", "noxfile_noxgrid.py", "-s", "ci-lean", "-j", "3"]
        ],
        "noxgrid run -q -j 3": [[py, "-m", "noxgrid", "run", "-q", "-j", "3"]],
    }
    sh([py, "-m", "noxgrid", "lock"], project, env)
    print("warming up (the first run makes the venvs)...", flush=True)
    for argvs in list(contenders.values())[1:]:
        run_timed(argvs, project, env)
    wall: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for round_ in range(args.rounds):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            seconds, used = run_timed(contenders[name], project, env)
            wall[name].append(seconds)
            cpu[name].append(used)
        print(
            f"round {round_ + 1}/{args.rounds}: "
            + ", ".join(
                f"{n.split(' (')[0]} {wall[n][-1]:.2f}s/{cpu[n][-1]:.2f}s cpu" for n in names
            ),
            flush=True,
        )
    counts = {name: processes(argvs, project, env) for name, argvs in contenders.items()}
    section = "\n".join(
        [
            f"## Warm re-run of three lean cells: itsdangerous {VERSION}, wall and CPU time",
            "",
            f"Measured {dt.date.today().isoformat()} on {os.cpu_count()} cores "
            f"({platform.machine()}, Python {platform.python_version()}); {args.rounds} rounds, "
            "runs interleaved. Command:",
            "",
            "```",
            f"python benchmarks/bench_warm.py --rounds {args.rounds} --write",
            "```",
            "",
            "| run | median wall | median of per-round wall ratios | median CPU (user+sys) "
            "| CPU / floor's | CPU over the floor | programs executed |",
            "|---|---|---|---|---|---|---|",
            *rows(wall, cpu, counts),
            "",
            "CPU time counts the run and every process it waited for. Programs executed are "
            "successful exec calls (strace -f), wrappers included. Target (issue 25, 4): the "
            "nox run at most 1.2 x the floor's wall time, each venv still proved equal to "
            "its lock.",
        ]
    )
    print("\n" + section)
    if args.write is not None:
        if args.write:
            write_section(args.write, MARK, section)
        print(f"\nwrote {args.write}")


if __name__ == "__main__":
    main()
