"""A cold lean cell of the reference service: empty uv cache, no venv.

Compares, in one run and interleaved round by round, on a copy of the
reference service (the committed files are never touched), each with an empty
uv cache and no environment left from before:

* bare       - what the cell needs and nothing else: ``uv venv``, ``uv pip
               sync`` of the cell's lock (hashes required), the project
               installed editable without dependencies, ``pytest -m "not gpu"``
* noxgrid    - ``noxgrid run 3.11-cpu-lean --no-docker``: the lock checked,
               the venv made, synced and proved, the doctor, the suite; the
               share of each stage from the cell's report
* nox        - the same cell through nox: ``nox -s "ci-lean-3.11(cpu)" -- --no-docker``
* nox + uv   - plain nox with the uv backend, installing the same pins
* tox-uv     - tox 4 + tox-uv, installing the same pins

The pins for nox and tox are the lock's, written as a requirements file with
its hashes. Downloads come from the package index, so rounds differ with the
network; the per-round ratio to bare pairs runs made seconds apart. The
environment is a user's default: PYTHONDONTWRITEBYTECODE is not set.

    pip install -e . tox tox-uv
    python benchmarks/bench_cold.py --rounds 3
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
import tempfile
from pathlib import Path

from benchtools import ratio_rows, write_option
from benchtools import timed as sh
from markdown_section import write_section

from noxgrid.model.declaration import load_config
from noxgrid.model.lockfile import lock_path, parse_lock
from noxgrid.model.matrix import expand
from noxgrid.tools.interpreters import find_interpreter
from noxgrid.tools.uv import find_uv

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SOURCE = REPO / "examples" / "service"
CELL = "3.11-cpu-lean"
PYTHON = "3.11"
MARK = "bench:cold"

NOXFILE = """
import nox

@nox.session(python="3.11", venv_backend="uv")
def tests(session):
    session.install("--require-hashes", "-r", "pins.txt")
    session.install("--no-deps", "-e", ".")
    session.run("pytest", "-q", "-m", "not gpu")
"""

TOX = """
[tox]
env_list = py311
requires = tox-uv

[testenv]
deps = -r pins.txt
package = editable
commands = pytest -q -m "not gpu"
"""


def prepare(folder: Path) -> tuple[Path, Path]:
    """The service's copy, with a pins file, a noxfile and a tox.ini; and its lock."""
    project = folder / "service"
    shutil.copytree(SOURCE, project, ignore=shutil.ignore_patterns(".noxgrid", "*.egg-info"))
    config = load_config(project)
    cell = next(cell for cell in expand(config) if cell.id == CELL)
    lock = lock_path(config, cell)
    pins = []
    for package in parse_lock(lock.read_text()).packages.values():
        hashes = " ".join(f"--hash={digest}" for digest in package.hashes)
        pins.append(f"{package.name}=={package.version} {hashes}")
    (project / "pins.txt").write_text("\n".join(pins) + "\n")
    (project / "noxfile_uv.py").write_text(NOXFILE)
    (project / "tox.ini").write_text(TOX)
    return project, lock


def fresh(project: Path, cache: Path) -> None:
    """No venv of any tool, an empty uv cache."""
    for name in (".noxgrid", ".nox", ".tox", "bare-venv"):
        shutil.rmtree(project / name, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir()


def bare(project: Path, lock: Path, env: dict[str, str], uv: str) -> dict[str, float]:
    venv = project / "bare-venv"
    python = str(venv / "bin" / "python")
    interpreter = str(find_interpreter(PYTHON).path)
    steps = {
        "uv venv": [uv, "venv", "-q", "--python", interpreter, str(venv)],
        "uv pip sync": [uv, "pip", "sync", "-q", "--python", python, "--require-hashes", str(lock)],
        "project (editable, no deps)": [
            uv,
            "pip",
            "install",
            "-q",
            "--python",
            python,
            "--no-deps",
            "-e",
            ".",
        ],
        "pytest": [str(venv / "bin" / "pytest"), "-q", "-m", "not gpu"],
    }
    return {name: sh(argv, project, env) for name, argv in steps.items()}


def noxgrid_stages(project: Path) -> dict[str, float]:
    data = json.loads((project / ".noxgrid" / "reports" / f"{CELL}.json").read_text())
    return {stage["name"]: stage["duration"] for stage in data["stages"] if stage["duration"]}


def measure(project: Path, lock: Path, env: dict[str, str], rounds: int) -> dict:
    uv = find_uv()
    py = sys.executable
    cache = Path(env["UV_CACHE_DIR"])
    tools = {
        "noxgrid run --no-docker": [py, "-m", "noxgrid", "run", "-q", CELL, "--no-docker"],
        "nox -s ci-lean-3.11(cpu) (noxgrid session)": [
            py,
            "-m",
            "nox",
            "-s",
            "ci-lean-3.11(cpu)",
            "--",
            "--no-docker",
        ],
        "nox + uv": [py, "-m", "nox", "-f", "noxfile_uv.py"],
        "tox 4 + tox-uv": [py, "-m", "tox", "-e", "py311"],
    }
    times: dict[str, list[float]] = {"bare (uv venv, uv pip sync, project, pytest)": []}
    times.update({name: [] for name in tools})
    bare_steps: list[dict[str, float]] = []
    stages: list[dict[str, float]] = []
    names = list(tools)
    for round_ in range(rounds):
        fresh(project, cache)
        bare_steps.append(bare(project, lock, env, uv))
        times["bare (uv venv, uv pip sync, project, pytest)"].append(sum(bare_steps[-1].values()))
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            fresh(project, cache)
            times[name].append(sh(tools[name], project, env))
            if name.startswith("noxgrid run"):
                stages.append(noxgrid_stages(project))
        print(
            f"round {round_ + 1}/{rounds}: "
            + ", ".join(f"{n.split(' (')[0]} {t[-1]:.2f}s" for n, t in times.items()),
            flush=True,
        )
    return {"times": times, "bare_steps": bare_steps, "stages": stages}


def shares(runs: list[dict[str, float]]) -> str:
    """Each step's median, in the order they ran, with its share of the total."""
    keys = list(runs[0])
    medians = {key: statistics.median(run.get(key, 0.0) for run in runs) for key in keys}
    total = sum(medians.values())
    return ", ".join(f"{key} {value:.2f} s ({value / total:.0%})" for key, value in medians.items())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (default 3)")
    write_option(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="noxgrid-bench-cold-") as folder:
        project, lock = prepare(Path(folder))
        interpreter = find_interpreter(PYTHON).path.parent
        env = {
            **os.environ,
            "PATH": os.pathsep.join([str(interpreter), os.environ["PATH"]]),
            "UV_CACHE_DIR": str(Path(folder) / "uv-cache"),
            "UV_PYTHON_DOWNLOADS": "never",
        }
        env.pop("VIRTUAL_ENV", None)
        # A user's default: Python writes the .pyc files of what it imports.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        result = measure(project, lock, env, args.rounds)
    write(args, result)


def write(args: argparse.Namespace, result: dict) -> None:
    times = result["times"]
    rows = ratio_rows(times, next(iter(times)))
    py = sys.executable
    versions = ", ".join(
        [
            subprocess.run(
                [py, "-m", "noxgrid", "--version"], capture_output=True, text=True, check=False
            ).stdout.strip(),
            subprocess.run(
                [find_uv(), "--version"], capture_output=True, text=True, check=False
            ).stdout.strip(),
            "nox "
            + subprocess.run(
                [py, "-m", "nox", "--version"], capture_output=True, text=True, check=False
            ).stderr.strip(),
        ]
    )
    section = "\n".join(
        [
            "## A cold lean cell: the reference service's 3.11-cpu-lean, empty uv cache, no venv",
            "",
            f"Measured {dt.date.today().isoformat()} on {os.cpu_count()} cores "
            f"({platform.machine()}, Python {platform.python_version()}); {args.rounds} rounds, "
            f"tools interleaved, median wall time; {versions}. Command:",
            "",
            "```",
            "pip install -e . tox tox-uv",
            f"python benchmarks/bench_cold.py --rounds {args.rounds}",
            "```",
            "",
            "| run | median | range | median / bare median | median of per-round ratios |",
            "|---|---|---|---|---|",
            *rows,
            "",
            f"Bare, step by step (medians): {shares(result['bare_steps'])}.",
            "",
            f"noxgrid, stage by stage (medians): {shares(result['stages'])}.",
            "",
            "noxgrid's install compiles no bytecode (the cell's processes write what they "
            "import, as bare's pytest does) and proves the venv; its doctor audits the "
            "venv's ELF files, imports the direct dependencies and loads the application, in "
            "one process.",
            "",
            "Target (issue 17): a cold lean cell at most 1.2 x the bare equivalent.",
        ]
    )
    print("\n" + section)
    if args.write:
        write_section(args.write, MARK, section)


if __name__ == "__main__":
    main()
