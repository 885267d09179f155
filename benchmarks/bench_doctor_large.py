"""The doctor on a large venv (issue 25, target 5: at most 10% of the venv's install time).

The venv: ``benchmarks/doctor_large.txt``, 253 pins from PyPI (docTR's API with torch's CUDA
build, transformers, onnxruntime-gpu, scikit-learn, pandas, jupyterlab, mlflow, dask...),
about 7.7 GB. Each round, in a temporary folder:

1. ``uv venv`` + ``uv pip install -r doctor_large.txt`` with an empty private
   ``UV_CACHE_DIR`` (cold: every wheel downloaded), no bytecode compiled;
2. the doctor's work on a new install, in a fresh process, as the stage does it where the
   project names no application (the import smoke writes the bytecode of what it imports
   into the venv's pycache folder, as where the user set PYTHONDONTWRITEBYTECODE): the
   ELF audit (``audit_venv``) in a thread while the import
   smoke of the direct dependencies runs (``alongside``), then the Debian packages of what is
   missing or taken from the system; the audit is also timed alone with pyelftools only
   (the reader before the fast one) and with the fast reader;
3. the floor of the import proof: ``python -c "import <the same modules>"``;
4. ``python -m compileall`` of site-packages, then 2. and 3. again with bytecode present.

Wall times are noisy on a shared machine: CPU time (user + sys, the process and its
children) is printed next to each. The page cache is warm (the install just wrote the files).

    python benchmarks/bench_doctor_large.py --rounds 1          # prints the table
    python benchmarks/bench_doctor_large.py --rounds 3 --write  # also docs/benchmarks.md
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

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MARK = "bench:doctorlarge"
REQUIREMENTS = HERE / "doctor_large.txt"
# The direct dependencies the smoke imports (mlflow and gradio are installed, not imported:
# with these pins their imports fail on protobuf and gradio_client versions).
NAMES = (
    "fastapi httpx pytest pytest-asyncio python-doctr python-multipart requests uvicorn "
    "transformers onnxruntime-gpu opencv-python-headless scikit-learn pandas scipy "
    "sentencepiece tokenizers datasets accelerate lightgbm xgboost polars pyarrow jupyterlab "
    "matplotlib statsmodels boto3 sqlalchemy dask seaborn"
)
DIRECT = NAMES.split()

DOCTOR = """
import json, os, sys, time
from pathlib import Path
from noxgrid.cell.doctor import alongside, import_smoke_venv, lookup_packages
from noxgrid.model.bytecode import bytecode_env
from noxgrid.model.doctor import audit_venv
from noxgrid.tools.runner import Runner
venv, names = Path(sys.argv[1]), sys.argv[2:]
runner = Runner()
start = time.perf_counter()
smoke = {}
def run_smoke():
    begun = time.perf_counter()
    report = import_smoke_venv(runner, venv / "bin" / "python", names, cwd=venv, timeout=600,
                               env=bytecode_env(venv, os.environ))
    smoke["seconds"] = time.perf_counter() - begun
    return report
result, imports = alongside(lambda: audit_venv(venv), run_smoke)
packages = lookup_packages(runner, [item.soname for item in result.missing])
packages.update(lookup_packages(runner, result.from_system, result.from_system))
print(json.dumps({"total": time.perf_counter() - start, "audit": result.seconds,
                  "smoke": smoke["seconds"], "files": result.files,
                  "imported": list(imports.imported),
                  "failures": [f.module or f.distribution for f in imports.failures]}))
"""

AUDITS = """
import json, sys, time
from pathlib import Path
import noxgrid.model.elf as elf
from noxgrid.model.doctor import audit_venv
venv = Path(sys.argv[1])
fast = audit_venv(venv).seconds
elf.dynamic_of = lambda stream: None  # pyelftools alone, as before the fast reader
print(json.dumps({"fast": fast, "slow": audit_venv(venv).seconds}))
"""


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(
    argv: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)
) -> tuple[float, float, str]:
    """(wall, CPU of the command and its children, stdout); exits naming a failure."""
    start, used = time.perf_counter(), cpu()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall, used = time.perf_counter() - start, cpu() - used
    if done.returncode not in ok:
        sys.exit(f"{' '.join(argv[:6])} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return wall, used, done.stdout


def doctor(venv: Path, env: dict[str, str]) -> dict[str, float | int | list[str]]:
    """The doctor's work (its process's CPU: the audit and the smoke's child), then the
    audit alone both ways in another process."""
    _, used, out = timed([sys.executable, "-c", DOCTOR, str(venv), *DIRECT], env)
    data = json.loads(out.strip().splitlines()[-1])
    audits = json.loads(timed([sys.executable, "-c", AUDITS, str(venv)], env)[2].strip())
    return {**data, **audits, "wall": data["total"], "cpu": used}


def floor(venv: Path, modules: list[str], env: dict[str, str]) -> tuple[float, float]:
    wall, used, _ = timed([str(venv / "bin" / "python"), "-c", f"import {', '.join(modules)}"], env)
    return wall, used


def one_round(work: Path) -> dict[str, float | int]:
    # PYTHONDONTWRITEBYTECODE set: the floor imports without bytecode and writes none; the
    # doctor, as the stage does (model/bytecode.py), writes the .pyc of what it imports
    # under the venv's pycache folder, which the floor never reads. The first doctor is a
    # cold cell's; the second, after compileall, a re-run's (its own .pyc present).
    env = {**os.environ, "UV_CACHE_DIR": str(work / "cache"), "PYTHONDONTWRITEBYTECODE": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    venv = work / "venv"
    timed(["uv", "venv", "-q", "-p", "3.11", str(venv)], env)
    python = str(venv / "bin" / "python")
    install = timed(
        ["uv", "pip", "install", "-q", "--python", python, "-r", str(REQUIREMENTS)], env
    )
    print(f"  install (cold) {install[0]:.1f} s wall, {install[1]:.1f} s CPU", flush=True)
    row: dict[str, float | int] = {"install": install[0], "install_cpu": install[1]}
    for mode in ("nopyc", "pyc"):
        if mode == "pyc":
            compiling = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
            site = next(venv.glob("lib/python*/site-packages"))
            wall, used, _ = timed(
                [python, "-m", "compileall", "-q", "-j", "0", str(site)],
                compiling,
                ok=(0, 1),  # 1: a file for another Python (torch's py312 tests) does not compile
            )
            row.update(compile=wall, compile_cpu=used)
        found = doctor(venv, env)
        if found["failures"]:
            sys.exit(f"the import smoke failed: {found['failures']}")
        modules = [str(name) for name in found["imported"]]  # type: ignore[union-attr]
        floor_wall, floor_cpu = floor(venv, modules, env)
        print(
            f"  doctor ({mode}) {found['wall']:.1f} s wall, {found['cpu']:.1f} s CPU; "
            f"imports alone {floor_wall:.1f} s wall, {floor_cpu:.1f} s CPU",
            flush=True,
        )
        for key in ("wall", "cpu", "audit", "smoke", "fast", "slow"):
            row[f"{mode}_{key}"] = float(found[key])  # type: ignore[arg-type]
        row.update({f"{mode}_floor": floor_wall, f"{mode}_floor_cpu": floor_cpu})
        row.update(files=int(found["files"]), modules=len(modules))  # type: ignore[arg-type]
    return row


def table(rows: list[dict[str, float | int]], rounds: int) -> str:
    def med(key: str) -> float:
        return statistics.median(float(row[key]) for row in rows)

    install = med("install")
    first = rows[0]
    lines = [
        "## The doctor on a large venv (253 packages, about 7.7 GB)",
        "",
        f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d} on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; {rounds} round(s), "
        f"medians; {first['files']} ELF files audited, {first['modules']} modules imported. "
        "Target (issue 25): the doctor at most 10% of the install. Wall (CPU = user + sys).",
        "",
        "| step | without bytecode | with bytecode (compileall) |",
        "|---|---|---|",
        f"| cold install (`uv pip install`, empty cache) | {install:.1f} s "
        f"({med('install_cpu'):.1f} s) | + compileall {med('compile'):.1f} s "
        f"({med('compile_cpu'):.1f} s) |",
    ]
    for label, key in (
        ("doctor (audit alongside the import smoke, packages)", "wall"),
        ("of which the import smoke", "smoke"),
        ("of which the ELF audit (in a thread)", "audit"),
        ("ELF audit alone, fast reader", "fast"),
        ("ELF audit alone, pyelftools only (before)", "slow"),
        ("the same imports alone (`python -c 'import ...'`)", "floor"),
    ):
        cells = []
        for mode in ("nopyc", "pyc"):
            value = med(f"{mode}_{key}")
            extra = {
                "wall": f" ({med(f'{mode}_cpu'):.1f} s)",
                "floor": f" ({med(f'{mode}_floor_cpu'):.1f} s)",
            }
            cells.append(f"{value:.2f} s{extra.get(key, '')}")
        lines.append(f"| {label} | {cells[0]} | {cells[1]} |")
    compiled = install + med("compile")
    share = [100 * med("nopyc_wall") / install, 100 * med("pyc_wall") / compiled]
    lines += [
        f"| doctor / cold install (with bytecode: install + compileall) | {share[0]:.0f}% | "
        f"{share[1]:.0f}% ({100 * med('pyc_wall') / install:.0f}% of the install alone) |",
        "",
        f"Command: `python benchmarks/bench_doctor_large.py --rounds {rounds}`",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None, help="where the venv goes (tmp)")
    write_option(parser)
    args = parser.parse_args()
    rows = []
    for index in range(args.rounds):
        print(f"round {index + 1}", flush=True)
        work = Path(tempfile.mkdtemp(prefix="noxgrid-doctor-large-", dir=args.workdir))
        try:
            rows.append(one_round(work))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    section = table(rows, args.rounds)
    publish(section, args.write, MARK)


if __name__ == "__main__":
    main()
