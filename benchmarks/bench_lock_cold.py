"""A cold ``noxgrid lock`` against a cold ``uv pip compile --generate-hashes`` of the same inputs.

Material: SeldonIO/MLServer as adopted in docs/adoption.md (or ``--project DIR``, an adopted
copy), built by benchmarks/mlserver_material.py: its commit a325e52 exported from
``--mlserver-git`` (a clone of https://github.com/SeldonIO/MLServer), ``noxgrid init
--no-lock``, then the declaration and ``full.in`` of benchmarks/material/mlserver in place
of init's. Its ``full`` profile is
widened with the dependencies of the other runtimes (``runtimes/*/pyproject.toml``:
catboost, xgboost-cpu, mlflow, tensorflow, tf-keras, pillow, transformers, onnxruntime;
torch and pyspark left out: PyPI's torch is the CUDA build, pyspark only an sdist): 212
packages in each of the cells 3.11-cpu-full and 3.12-cpu-full.

* floor: ``uv pip compile --generate-hashes`` of each cell's own input files (the ones
  ``noxgrid lock`` derives), for its python and platform, one cell after the other, each
  with an empty private UV_CACHE_DIR
* noxgrid: ``noxgrid lock`` of the same cells, with an empty UV_CACHE_DIR and an empty
  NOXGRID_CACHE_DIR (sizes, policy, the PEP 751 export and the seal included)

Each round works on a fresh copy (benchmarks/.work/lockcold); nothing tracked changes.
Prints where noxgrid's time goes (uv calls, sizing, export, requests to the index,
connections opened), wall and CPU time; ``--write`` puts the table into docs/benchmarks.md.

    python benchmarks/bench_lock_cold.py --rounds 3 [--write]
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
import tempfile
import time
from pathlib import Path

from benchtools import publish, write_option
from mlserver_material import MLSERVER_GIT, build_material

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work" / "lockcold"
BUILT = HERE / ".work" / "mlserver"
MARK = "bench:lockcold"
JOBS: list[str] = [x for x in os.environ.get("BENCH_LOCK_JOBS", "").split() if x]
CELLS = ("3.11-cpu-full", "3.12-cpu-full")
WIDENED = """
# The other runtimes' own dependencies (runtimes/*/pyproject.toml); torch left out
# (PyPI's is the CUDA build), pyspark too (an sdist only)
catboost
xgboost-cpu
mlflow>=3.0.0
tensorflow
tf-keras>=2.16.0
pillow
transformers
onnxruntime
"""


def copy_project(source: Path) -> Path:
    """A fresh copy of the adopted project, without locks, runs or poetry.lock (so that
    noxgrid and the floor resolve from the same inputs and neither prefers old pins)."""
    if WORK.exists():
        shutil.rmtree(WORK)
    shutil.copytree(source, WORK, ignore=shutil.ignore_patterns(".noxgrid", ".nox", ".git"))
    for lock in (WORK / "requirements" / "locks").glob("*"):
        lock.unlink()
    (WORK / "poetry.lock").unlink(missing_ok=True)
    full = WORK / "requirements" / "full.in"
    if "catboost" not in full.read_text():
        full.write_text(full.read_text() + WIDENED)
    return WORK


def run_measured(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its children) of ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def floor_commands(
    project: Path, cells: tuple[str, ...], folder: Path
) -> list[tuple[list[str], Path]]:
    """Each cell's ``uv pip compile --generate-hashes`` of the inputs noxgrid derives, and
    the folder it runs in (where they were derived, with the project's uv settings)."""
    from noxgrid.lock.inputs import derive_inputs
    from noxgrid.lock.steps import cell_interpreter, copy_uv_settings
    from noxgrid.model.declaration import load_config
    from noxgrid.model.matrix import expand
    from noxgrid.model.resolution import compile_args
    from noxgrid.tools.uv import find_uv

    config = load_config(project)
    matrix = expand(config)
    commands = []
    for cell_id in cells:
        cell = next(c for c in matrix if c.id == cell_id)
        workdir = folder / cell_id
        workdir.mkdir(parents=True)
        inputs = derive_inputs(config, cell, workdir)
        copy_uv_settings(config, workdir)
        output = str(workdir / "out.txt")
        python = cell_interpreter(config, cell)
        argv = [find_uv(), *compile_args(config, cell, inputs, output, (), python)]
        commands.append((argv, workdir))
    return commands


def cold_env(folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        UV_CACHE_DIR=str(folder / "uv-cache"),
        NOXGRID_CACHE_DIR=str(folder / "noxgrid-cache"),
        UV_PYTHON_DOWNLOADS="never",
        PYTHONPATH=str(REPO / "src"),
    )
    return env


def one_round(source: Path, cells: tuple[str, ...]) -> dict[str, object]:
    project = copy_project(source)
    with tempfile.TemporaryDirectory(prefix="lockcold-") as tmp:
        folder = Path(tmp)
        floor_wall = floor_cpu = 0.0
        commands = floor_commands(project, cells, folder / "inputs")
        for number, (argv, cwd) in enumerate(commands):
            wall, cpu = run_measured(argv, cwd, cold_env(folder / f"floor{number}"))
            floor_wall, floor_cpu = floor_wall + wall, floor_cpu + cpu
        env = cold_env(folder / "noxgrid")
        trace = folder / "trace.json"
        env["BENCH_LOCK_TRACE"] = str(trace)
        argv = [sys.executable, str(Path(__file__)), "--child", "lock", *JOBS, *cells]
        wall, cpu = run_measured(argv, project, env)
        traced = json.loads(trace.read_text())
    locks = sorted((project / "requirements" / "locks").glob("pylock.*.toml"))
    packages = [lock.read_text().count("[[packages]]") for lock in locks]
    return {
        "floor": floor_wall,
        "floor_cpu": floor_cpu,
        "noxgrid": wall,
        "noxgrid_cpu": cpu,
        "packages": packages,
        "trace": traced,
    }


def _count_requests(add) -> None:  # type: ignore[no-untyped-def]
    """Count the HTTP requests (pages, range reads, other GETs) and HTTPS connections."""
    import http.client

    original_request = http.client.HTTPConnection.request
    original_connect = http.client.HTTPSConnection.connect

    def request(self, method, url, body=None, headers={}, **kwargs):  # type: ignore[no-untyped-def]  # noqa: B006
        ranged = any(k.lower() == "range" for k in headers)
        kind = "range" if ranged else ("page" if "/simple/" in url or url.endswith("/") else "get")
        add(f"http {method} {kind}", count=True)
        return original_request(self, method, url, body, headers, **kwargs)

    def connect(self):  # type: ignore[no-untyped-def]
        add("https connections", count=True)
        return original_connect(self)

    http.client.HTTPConnection.request = request  # type: ignore[method-assign]
    http.client.HTTPSConnection.connect = connect  # type: ignore[method-assign]


def child(argv: list[str]) -> int:
    """``noxgrid`` with timers on its stages and counters on its HTTP requests."""
    import threading

    from noxgrid import cli
    from noxgrid.lock import resolve, steps
    from noxgrid.tools import index

    trace: dict[str, list[float]] = {}
    spans: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    guard = threading.Lock()

    origin = time.perf_counter()

    def add(key: str, value: float = 0.0, count: bool = False) -> None:
        with guard:
            if count:
                counts[key] = counts.get(key, 0) + 1
            else:
                ended = time.perf_counter() - origin
                spans.setdefault(key, []).append(f"{ended - value:.1f}-{ended:.1f}")
                trace.setdefault(key, []).append(value)

    def timer(key: str, function):  # type: ignore[no-untyped-def]
        def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                name = key
                if key == "uv" and "--format" in args[1]:
                    name = "uv export (pylock)"
                elif key == "uv":
                    name = "uv resolve"
                add(name, time.perf_counter() - start)

        return timed

    resolve.call_uv = timer("uv", resolve.call_uv)
    steps.call_uv = timer("uv", steps.call_uv)
    index.PackageIndex.estimate = timer("sizing (estimate)", index.PackageIndex.estimate)
    resolve.indexed_pylock = timer("export from the index", resolve.indexed_pylock)
    resolve.export_pylock = timer("export by uv", resolve.export_pylock)
    resolve._judge = timer("policy (judge)", resolve._judge)
    resolve._write = timer("write + seal", resolve._write)
    _count_requests(add)
    start = time.perf_counter()
    try:
        code = cli.main(argv)
    finally:
        trace["total"] = [time.perf_counter() - start]
        Path(os.environ["BENCH_LOCK_TRACE"]).write_text(
            json.dumps({"times": trace, "counts": counts, "spans": spans})
        )
    return code


def breakdown(traced: dict[str, dict]) -> list[str]:
    spans = traced.get("spans", {})
    rows = [
        f"| {name} | {len(values)} | {sum(values):.2f} s | {max(values):.2f} s "
        f"| {', '.join(spans.get(name, []))} |"
        for name, values in traced["times"].items()
    ]
    rows += [f"| {name} | {count} | | | |" for name, count in sorted(traced["counts"].items())]
    return rows


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sys.exit(child(sys.argv[2:]))
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--project", type=Path, help="an adopted copy of MLServer (default: build it)"
    )
    parser.add_argument(
        "--mlserver-git",
        type=Path,
        default=MLSERVER_GIT,
        help=f"a clone of https://github.com/SeldonIO/MLServer (default: {MLSERVER_GIT})",
    )
    parser.add_argument("--cells", nargs="+", default=list(CELLS))
    write_option(parser)
    args = parser.parse_args()
    source = args.project or build_material(args.mlserver_git, BUILT)
    rounds = [one_round(source, tuple(args.cells)) for _ in range(args.rounds)]
    floor = [r["floor"] for r in rounds]
    ours = [r["noxgrid"] for r in rounds]
    paired = statistics.median(o / f for o, f in zip(ours, floor, strict=True))
    lines = [
        "## A cold lock of 212 packages per cell: SeldonIO/MLServer, widened",
        "",
        f"Cold `noxgrid lock {' '.join(args.cells)}` of SeldonIO/MLServer's widened `full` "
        f"profile ({', '.join(str(n) for n in rounds[-1]['packages'])} packages) against "
        "`uv pip compile --generate-hashes` of the same input files, each cell cold "
        f"(empty UV_CACHE_DIR, empty NOXGRID_CACHE_DIR), {args.rounds} round(s), "
        f"{dt.date.today()}, Python {platform.python_version()}, {os.cpu_count()} CPUs.",
        "",
        "| | median | range | CPU (median) |",
        "| --- | --- | --- | --- |",
        f"| floor: uv pip compile, per cell | {statistics.median(floor):.2f} s | "
        f"{min(floor):.2f}-{max(floor):.2f} s | "
        f"{statistics.median(r['floor_cpu'] for r in rounds):.2f} s |",
        f"| noxgrid lock | {statistics.median(ours):.2f} s | {min(ours):.2f}-{max(ours):.2f} s | "
        f"{statistics.median(r['noxgrid_cpu'] for r in rounds):.2f} s |",
        "",
        f"Ratio (median of per-round ratios): **{paired:.2f} x** (target 1.5 x).",
        "",
        "Where noxgrid's time went (last round; stages overlap across cells):",
        "",
        "| stage / counter | calls | total | longest | when (s from the start) |",
        "| --- | --- | --- | --- | --- |",
        *breakdown(rounds[-1]["trace"]),
        "",
        "Command: `python benchmarks/bench_lock_cold.py --rounds 3 --write`",
    ]
    section = "\n".join(lines)
    publish(section, args.write, MARK)


if __name__ == "__main__":
    main()
