"""Cold lean cells of several real projects against the floor, and their warm re-runs.

Each project is a copy in a temporary folder (nothing tracked changes), locked once
(``noxgrid lock CELL``) before the timed rounds. Each timed run starts with an empty
private UV_CACHE_DIR and no venv:

* floor    - ``uv venv``, ``uv pip sync --require-hashes`` of the cell's lock, the
             project installed editable without dependencies, then the cell's suite
             command (pytest, ``-m "not gpu"`` where the project marks GPU tests)
* noxgrid  - ``noxgrid run CELL --no-docker``: the lock checked, the venv made,
             synced and proved, the doctor, the suite; each stage from the cell's
             report. Then two warm re-runs: the user's environment as it is, and with
             PYTHONDONTWRITEBYTECODE=1 (bytecode not written by the user's processes).

``--noxgrid NAME=SRC`` (repeatable) times another noxgrid source tree (its ``src``
first on PYTHONPATH) beside this checkout's, interleaved: how the bytecode choice
was measured (``--noxgrid before=/tmp/base/src``). Floor and noxgrid alternate in
each round; downloads come from PyPI, so the per-round ratio is the fairer figure.
Wall and CPU time (user + sys of the processes) are both shown.

Projects (``--projects``):

* service       - the reference service (examples/service), 3.11-cpu-lean, 25 packages
* itsdangerous  - itsdangerous 2.2.0's sdist, its requirements/tests.txt, 3.11-cpu-lean
* mlservice     - a FastAPI + scikit-learn service assembled here (a model trained at
                  start-up, predictions over HTTP, tests through TestClient), 3.11-cpu-lean
* mlserver      - SeldonIO/MLServer at a325e52 as adopted in docs/adoption.md (built by
                  benchmarks/mlserver_material.py from ``--mlserver-git``), 3.11-cpu-lean;
                  its suite (451 tests, ~158 s) cut in the copy's [tool.noxgrid.suite]
                  command (floor and noxgrid run the same): the adoption's ``--ignore``s
                  plus tests/rest and tests/batch_processing, which start MLServer's HTTP
                  server and worker processes per test (~133 s); 398 tests remain, ~25 s.

    python benchmarks/bench_cold_projects.py --rounds 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path

from benchtools import write_option
from irisservice import LEAN_TABLE, mlservice
from markdown_section import write_section
from mlserver_material import MLSERVER_GIT, build_material

from noxgrid.model.declaration import load_config
from noxgrid.model.lockfile import lock_path
from noxgrid.model.matrix import expand
from noxgrid.tools.interpreters import find_interpreter
from noxgrid.tools.uv import find_uv

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MARK = "bench:coldprojects"
CELL = "3.11-cpu-lean"
PYTHON = "3.11"


def _service(folder: Path, env: Mapping[str, str]) -> Path:
    project = folder / "service"
    shutil.copytree(
        REPO / "examples" / "service",
        project,
        ignore=shutil.ignore_patterns(".noxgrid", "*.egg-info", "__pycache__"),
    )
    return project


def _itsdangerous(folder: Path, env: Mapping[str, str]) -> Path:
    run(
        [
            *[sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:"],
            *["itsdangerous==2.2.0", "-d", str(folder)],
        ],
        folder,
        env,
    )
    with tarfile.open(folder / "itsdangerous-2.2.0.tar.gz") as archive:
        archive.extractall(folder, filter="data")
    project = folder / "itsdangerous-2.2.0"
    with (project / "pyproject.toml").open("a") as stream:
        stream.write(LEAN_TABLE.format(requirements="requirements/tests.txt"))
    return project


MLSERVER_SKIPPED = ("--ignore=tests/rest", "--ignore=tests/batch_processing")


def _mlserver(folder: Path, env: Mapping[str, str], git: Path = MLSERVER_GIT) -> Path:
    """MLServer as adopted, its suite command cut to the subset (MLSERVER_SKIPPED added)."""
    project = build_material(git, folder / "mlserver")
    pyproject = project / "pyproject.toml"
    lines = pyproject.read_text().splitlines(keepends=True)
    table = lines.index("[tool.noxgrid.suite]\n")
    line = next(i for i in range(table, len(lines)) if lines[i].startswith("command = ["))
    command = [*json.loads(lines[line].partition("=")[2]), *MLSERVER_SKIPPED]
    lines[line] = f"command = {json.dumps(command)}\n"
    pyproject.write_text("".join(lines))
    if load_config(project).suite.command[-len(MLSERVER_SKIPPED) :] != MLSERVER_SKIPPED:
        sys.exit(f"{pyproject}: [tool.noxgrid.suite] command is not cut to the subset")
    return project


PROJECTS: dict[str, Callable[[Path, Mapping[str, str]], Path]] = {
    "service": _service,
    "itsdangerous": _itsdangerous,
    "mlservice": mlservice,
    "mlserver": _mlserver,
}


def run(argv: list[str], cwd: Path, env: Mapping[str, str]) -> tuple[float, float]:
    """Run ``argv``; its wall and CPU time (user + sys of it and its children), or exit
    naming the command and its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=dict(env), capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def suite_argv(project: Path) -> list[str]:
    """The cell's suite command as the suite stage runs it on a machine without a GPU."""
    config = load_config(project)
    argv = list(config.suite.command)
    if config.suite.gpu_marker:
        argv += ["-m", f"not {config.suite.gpu_marker}"]
    return argv


def fresh(project: Path, cache: Path) -> None:
    for name in (".noxgrid", "floor-venv"):
        shutil.rmtree(project / name, ignore_errors=True)
    for pycache in project.rglob("__pycache__"):
        shutil.rmtree(pycache, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir()


def floor(project: Path, env: Mapping[str, str]) -> dict[str, tuple[float, float]]:
    uv = find_uv()
    venv = project / "floor-venv"
    python = str(venv / "bin" / "python")
    lock = lock_path(
        config := load_config(project), next(c for c in expand(config) if c.id == CELL)
    )
    suite = suite_argv(project)
    steps = {
        "uv venv": [uv, "venv", "-q", "--python", str(find_interpreter(PYTHON).path), str(venv)],
        "uv pip sync": [uv, "pip", "sync", "-q", "--python", python, "--require-hashes", str(lock)],
        "project": [uv, "pip", "install", "-q", "--python", python, "--no-deps", "-e", "."],
        "suite": [str(venv / "bin" / suite[0]), *suite[1:]],
    }
    return {name: run(argv, project, env) for name, argv in steps.items()}


def noxgrid(project: Path, env: Mapping[str, str], src: str) -> dict[str, object]:
    """A cold run, then the warm re-runs; times and the cold run's stages."""
    env = {**env, "PYTHONPATH": src}
    argv = [sys.executable, "-m", "noxgrid", "run", "-q", CELL, "--no-docker"]
    cold = run(argv, project, env)
    stages = stages_of(project)
    warm = run(argv, project, env)
    warm_stages = stages_of(project)
    # The user sets it: the first run fills the venv's own bytecode folder, the next reads it.
    switch = run(argv, project, {**env, "PYTHONDONTWRITEBYTECODE": "1"})
    quiet = run(argv, project, {**env, "PYTHONDONTWRITEBYTECODE": "1"})
    tree = sum(1 for p in project.rglob("__pycache__") if ".noxgrid" not in p.parts)
    return {
        "cold": cold,
        "warm": warm,
        "warm_dontwrite_first": switch,
        "warm_dontwrite": quiet,
        "stages": stages,
        "warm_stages": warm_stages,
        "tree": tree,
    }


def stages_of(project: Path) -> dict[str, float]:
    report = json.loads((project / ".noxgrid" / "reports" / f"{CELL}.json").read_text())
    return {s["name"]: s["duration"] for s in report["stages"] if s["duration"]}


def measure(projects: dict[str, Path], env: dict[str, str], variants: dict[str, str], rounds: int):
    results: dict[str, dict] = {}
    for name, project in projects.items():
        cache = project.parent / f"uv-cache-{name}"
        rows: dict[str, list] = {"floor": [], **{v: [] for v in variants}}
        order = ["floor", *variants]
        for round_ in range(rounds):
            for who in order[round_ % len(order) :] + order[: round_ % len(order)]:
                fresh(project, cache)
                run_env = {**env, "UV_CACHE_DIR": str(cache)}
                if who == "floor":
                    steps = floor(project, run_env)
                    rows[who].append({"steps": steps})
                else:
                    rows[who].append(noxgrid(project, run_env, variants[who]))
            line = ", ".join(f"{who} {cold_of(rows[who][-1])[0]:.1f}s" for who in order)
            print(f"{name} round {round_ + 1}/{rounds}: {line}", flush=True)
        shutil.rmtree(cache, ignore_errors=True)
        results[name] = rows
    return results


def cold_of(entry: dict) -> tuple[float, float]:
    if "steps" in entry:
        steps = entry["steps"].values()
        return sum(w for w, _ in steps), sum(c for _, c in steps)
    return entry["cold"]


def table(results: dict, variants: dict[str, str]) -> list[str]:
    lines = [
        "| project | run | cold wall (median, range) | cold CPU | per-round ratio to floor "
        "| warm (wall / CPU) | warm, PYTHONDONTWRITEBYTECODE=1 from then on "
        "| `__pycache__` in the tree |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for project, rows in results.items():
        floors = [cold_of(e) for e in rows["floor"]]
        for who, entries in rows.items():
            colds = [cold_of(e) for e in entries]
            walls = [w for w, _ in colds]
            ratios = [w / f for (w, _), (f, _) in zip(colds, floors, strict=True)]
            warm = quiet = tree = "-"
            if who != "floor":
                warm = both(entries, "warm")
                first = statistics.median(e["warm_dontwrite_first"][1] for e in entries)
                quiet = f"{both(entries, 'warm_dontwrite')} (first {first:.2f} s CPU)"
                tree = str(entries[-1]["tree"])
            lines.append(
                f"| {project} | {who} | {statistics.median(walls):.2f} s "
                f"({min(walls):.1f}-{max(walls):.1f}) "
                f"| {statistics.median(c for _, c in colds):.2f} s "
                f"| {statistics.median(ratios):.2f} x ({', '.join(f'{r:.2f}' for r in ratios)}) "
                f"| {warm} | {quiet} | {tree} |"
            )
    return lines


def both(entries: list[dict], key: str) -> str:
    """Median wall / median CPU time of one kind of run."""
    wall = statistics.median(e[key][0] for e in entries)
    return f"{wall:.2f} s / {statistics.median(e[key][1] for e in entries):.2f} s"


def breakdown(results: dict) -> list[str]:
    lines = []
    for project, rows in results.items():
        steps = [e["steps"] for e in rows["floor"]]
        shown = ", ".join(
            f"{k} {statistics.median(s[k][0] for s in steps):.2f} s" for k in steps[0]
        )
        lines.append(f"- {project}, floor: {shown}")
        for who, entries in rows.items():
            if who == "floor":
                continue
            for kind, label in (("stages", "cold"), ("warm_stages", "warm")):
                keys = list(entries[0][kind])
                shown = ", ".join(
                    f"{k} {statistics.median(e[kind].get(k, 0.0) for e in entries):.2f} s"
                    for k in keys
                )
                lines.append(f"- {project}, {who}, {label}: {shown}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (default 3)")
    parser.add_argument(
        "--projects", default=",".join(PROJECTS), help=f"comma-separated ({', '.join(PROJECTS)})"
    )
    parser.add_argument(
        "--noxgrid",
        action="append",
        default=[],
        metavar="NAME=SRC",
        help="another noxgrid source tree to time beside this checkout's",
    )
    parser.add_argument(
        "--mlserver-git",
        type=Path,
        default=MLSERVER_GIT,
        help=f"a clone of https://github.com/SeldonIO/MLServer (default: {MLSERVER_GIT})",
    )
    write_option(parser)
    args = parser.parse_args()
    names = [n.strip() for n in args.projects.split(",") if n.strip()]
    unknown = [n for n in names if n not in PROJECTS]
    if unknown:
        parser.error(f"unknown project(s) {', '.join(unknown)}; choose from {', '.join(PROJECTS)}")
    variants = {"noxgrid": str(REPO / "src")}
    for item in args.noxgrid:
        label, _, src = item.partition("=")
        variants[label] = str(Path(src).resolve())
    interpreter = find_interpreter(PYTHON).path.parent
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(interpreter), os.environ["PATH"]]),
        "UV_PYTHON_DOWNLOADS": "never",
    }
    for name in ("VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX", "PYTHONPATH"):
        env.pop(name, None)  # a user's default: Python writes the bytecode of what it imports
    with tempfile.TemporaryDirectory(prefix="noxgrid-bench-coldprojects-") as folder:
        projects = prepare(names, Path(folder), env, variants["noxgrid"], args.mlserver_git)
        results = measure(projects, env, variants, args.rounds)
    report(args, results, variants)


def prepare(
    names: list[str], folder: Path, env: dict[str, str], src: str, git: Path
) -> dict[str, Path]:
    """Each project's copy under ``folder``, its cell locked once (a private uv cache)."""
    projects = {}
    for name in names:
        where = folder / name
        where.mkdir()
        make = partial(_mlserver, git=git) if name == "mlserver" else PROJECTS[name]
        project = make(where, env)
        lock_env = {**env, "UV_CACHE_DIR": str(where / "lock-cache"), "PYTHONPATH": src}
        run([sys.executable, "-m", "noxgrid", "lock", CELL], project, lock_env)
        shutil.rmtree(where / "lock-cache", ignore_errors=True)
        projects[name] = project
    return projects


def report(args: argparse.Namespace, results: dict, variants: dict[str, str]) -> None:
    uv = subprocess.run([find_uv(), "--version"], capture_output=True, text=True).stdout.strip()
    extra = "".join(f" --noxgrid {k}={v}" for k, v in variants.items() if k != "noxgrid")
    section = "\n".join(
        [
            "## Cold lean cells of real projects: empty uv cache, no venv, against the floor",
            "",
            f"Measured {dt.date.today().isoformat()} on {os.cpu_count()} cores "
            f"({platform.machine()}, Python {platform.python_version()}, {uv}); "
            f"{args.rounds} rounds, floor and noxgrid interleaved. Command:",
            "",
            "```",
            f"python benchmarks/bench_cold_projects.py --rounds {args.rounds} "
            f"--projects {','.join(results)}{extra}",
            "```",
            "",
            *table(results, variants),
            "",
            "Step by step (medians of wall time):",
            "",
            *breakdown(results),
            "",
            "The floor: `uv venv`, `uv pip sync --require-hashes` of the lock, the project "
            "editable without dependencies, the suite. Python writes the bytecode of what "
            "each run imports, in the floor as in noxgrid (beside the venv's sources; in "
            "the venv's own folder where the user set PYTHONDONTWRITEBYTECODE, "
            "`model/bytecode.py`); warm re-runs are noxgrid's, the venv kept. CPU: user + "
            "sys of every process of the run.",
            "",
            "mlserver: SeldonIO/MLServer at a325e52 as adopted (docs/adoption.md); its suite "
            "(the copy's `[tool.noxgrid.suite]` command, floor and noxgrid alike) also skips "
            f"{' '.join(MLSERVER_SKIPPED)}, which start MLServer's HTTP server and worker "
            "processes per test (~133 s of the full suite's ~158 s): 398 of 451 tests remain.",
            "",
            "Target (issue 25): a cold lean cell at most 1.3 x the floor on three real projects.",
        ]
    )
    print("\n" + section)
    if args.write:
        write_section(args.write, MARK, section)


if __name__ == "__main__":
    main()
