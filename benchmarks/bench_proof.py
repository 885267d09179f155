"""What proving a fresh venv costs: the reference service's full cells, installed cold.

On a copy of the reference service (the committed files are never touched), for each
full cell and each round, with an empty private uv cache and no venv:

* bare     - ``uv venv`` and ``uv pip sync`` of the cell's lock (hashes required): the
             install taken on uv's word
* noxgrid  - ``noxgrid run <cell> --no-docker``; its install stage (sync, every file of
             every distribution hashed against its RECORD, the project editable) and
             the proof's own time, as the stage's line reports it
* again    - the same proof repeated in this process on the venv just made (every file
             hashed again, the page cache warm as it is right after a sync)

The proof's share is its time over the install stage's. Downloads come from the package
index, so rounds differ with the network: run it on a quiet machine.

    python benchmarks/bench_proof.py --rounds 3
    python benchmarks/bench_proof.py --rounds 1 --cells 3.11-cpu-full   # a check: printed only
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchtools import timed as sh
from benchtools import write_option
from markdown_section import write_section

from noxgrid.cell.fileproof import prove_files
from noxgrid.model.declaration import load_config
from noxgrid.model.installed import read_installed
from noxgrid.model.lockfile import lock_path, parse_lock
from noxgrid.model.matrix import expand
from noxgrid.tools.interpreters import find_interpreter
from noxgrid.tools.uv import find_uv

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SOURCE = REPO / "examples" / "service"
MARK = "bench:proof"
PROOF_TIME = re.compile(r"hashed against their RECORD[^;)]* in ([0-9.]+)s")


def fresh(project: Path, cache: Path) -> None:
    """No venv, an empty uv cache."""
    for name in (".noxgrid", "bare-venv"):
        shutil.rmtree(project / name, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir()


def bare(project: Path, lock: Path, python: str, env: dict[str, str]) -> float:
    venv = project / "bare-venv"
    uv = find_uv()
    made = sh([uv, "venv", "-q", "--python", python, str(venv)], project, env)
    python_of = str(venv / "bin" / "python")
    synced = sh(
        [uv, "pip", "sync", "-q", "--python", python_of, "--require-hashes", str(lock)],
        project,
        env,
    )
    return made + synced


def noxgrid_install(project: Path, cell: str, env: dict[str, str]) -> tuple[float, float]:
    """The cell run cold: its install stage's seconds and the file proof's, from its report."""
    sh([sys.executable, "-m", "noxgrid", "run", "-q", cell, "--no-docker"], project, env)
    data = json.loads((project / ".noxgrid" / "reports" / f"{cell}.json").read_text())
    install = next(stage for stage in data["stages"] if stage["name"] == "install")
    found = PROOF_TIME.search(install["detail"])
    if found is None:
        sys.exit(f"{cell}: the install stage does not say what its proof took: {install}")
    return install["duration"], float(found.group(1))


def proof_again(project: Path, cell: str) -> tuple[float, int, int]:
    """The proof repeated on the venv just made: seconds, distributions, bytes hashed."""
    config = load_config(project)
    (target,) = [c for c in expand(config) if c.id == cell]
    lock = parse_lock(lock_path(config, target).read_text())
    installed = read_installed(config.venvs_dir / cell)
    start = time.perf_counter()
    proof = prove_files(installed, lock, None)
    seconds = time.perf_counter() - start
    if proof.tampered:
        sys.exit(f"{cell}: the proof found altered files: {proof.tampered}")
    size = sum(
        (dist.dist_info.parent / path).stat().st_size
        for dist in installed.values()
        for path in dist.record()
        if (dist.dist_info.parent / path).is_file()
    )
    return seconds, proof.hashed, size


def measure(cells: list[str], rounds: int, folder: Path) -> dict[str, dict[str, list[float]]]:
    project = folder / "service"
    shutil.copytree(SOURCE, project, ignore=shutil.ignore_patterns(".noxgrid", "*.egg-info"))
    cache = folder / "uv-cache"
    env = {**os.environ, "UV_CACHE_DIR": str(cache), "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    config = load_config(project)
    results: dict[str, dict[str, list[float]]] = {}
    for cell in cells:
        (target,) = [c for c in expand(config) if c.id == cell]
        lock = lock_path(config, target)
        python = str(find_interpreter(target.python).path)
        rows = results.setdefault(cell, {k: [] for k in ("bare", "install", "proof", "again")})
        for round_ in range(rounds):
            fresh(project, cache)
            rows["bare"].append(bare(project, lock, python, env))
            fresh(project, cache)
            install, proof = noxgrid_install(project, cell, env)
            again, hashed, size = proof_again(project, cell)
            rows["install"].append(install)
            rows["proof"].append(proof)
            rows["again"].append(again)
            rows.setdefault("hashed", []).append(hashed)
            rows.setdefault("bytes", []).append(size)
            print(
                f"{cell} round {round_ + 1}/{rounds}: bare {rows['bare'][-1]:.2f}s, install "
                f"{install:.2f}s, proof {proof:.2f}s ({proof / install:.1%}), again {again:.2f}s",
                flush=True,
            )
    return results


def section(results: dict[str, dict[str, list[float]]], rounds: int) -> str:
    lines = [
        "## The proof of a fresh venv: the reference service's full cells, installed cold",
        "",
        f"Measured {dt.date.today().isoformat()} on {os.cpu_count()} cores "
        f"({platform.machine()}, Python {platform.python_version()}); {rounds} round(s), "
        "median wall time; empty private uv cache, no venv. Command:",
        "",
        "```",
        f"python benchmarks/bench_proof.py --rounds {rounds}",
        "```",
        "",
        "| cell | files hashed | bare uv venv + sync | noxgrid install stage | of it, the proof "
        "| install without the proof | proof / install | proof / bare | proof again (warm) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for cell, rows in results.items():
        med = {key: statistics.median(values) for key, values in rows.items()}
        lines.append(
            f"| {cell} | {int(med['hashed'])} distributions, {med['bytes'] / 1e6:.0f} MB "
            f"| {med['bare']:.2f} s | {med['install']:.2f} s | {med['proof']:.2f} s "
            f"| {med['install'] - med['proof']:.2f} s "
            f"| {med['proof'] / med['install']:.1%} | {med['proof'] / med['bare']:.1%} "
            f"| {med['again']:.2f} s |"
        )
    lines += [
        "",
        "Goal (issue 24): the proof at most 10% of a cold install. The install stage also "
        "installs the project editable (it compiles no bytecode); the proof hashes every file "
        "every RECORD lists (a later sync hashes only what it changed).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds per cell (default 3)")
    parser.add_argument("--cells", nargs="*", help="cells (default: every full cell)")
    write_option(parser)
    args = parser.parse_args()
    cells = args.cells or [c.id for c in expand(load_config(SOURCE)) if c.profile == "full"]
    with tempfile.TemporaryDirectory(prefix="noxgrid-bench-proof-") as folder:
        results = measure(cells, args.rounds, Path(folder))
    text = section(results, args.rounds)
    print("\n" + text)
    if args.write:
        write_section(args.write, MARK, text)


if __name__ == "__main__":
    main()
