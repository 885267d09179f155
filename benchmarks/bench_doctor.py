"""How long the doctor takes on the reference service's full cpu cells.

* the ELF audit of each full cpu venv (every ELF file under site-packages read with
  pyelftools, every DT_NEEDED resolved), in a fresh process per round so nothing is
  cached in Python; the target is under 5 s for a full cpu venv;
* the whole doctor stage of 3.11-cpu-full (audit + import smoke of the direct
  dependencies), as the cell report records it;
* with ``--image``: the image audit of noxgrid/refservice:3.11-cpu-full (docker export
  to a temporary tar, read on the host) and the import smoke inside the image.

Writes the results into docs/benchmarks.md.

    pip install -e .
    python benchmarks/bench_doctor.py --rounds 5 --image
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

from benchtools import publish, write_option

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SERVICE = REPO / "examples" / "service"
MARK = "bench:doctor"
CELLS = ("3.9-cpu-full", "3.10-cpu-full", "3.11-cpu-full")

ONE_AUDIT = """
import json, sys, time
start = time.perf_counter()
from noxgrid.model.doctor import audit_venv
result = audit_venv(__import__("pathlib").Path(sys.argv[1]))
print(json.dumps({"seconds": time.perf_counter() - start, "files": result.files,
                  "missing": len(result.missing)}))
"""

ONE_IMAGE = """
import json, sys, time
from noxgrid.tools.docker import Docker
from noxgrid.cell.image_doctor import audit_image, import_smoke_image
from noxgrid.tools.runner import Runner
docker = Docker.find(Runner())
start = time.perf_counter()
result = audit_image(docker, sys.argv[1], timeout=600)
middle = time.perf_counter()
imports, _trace = import_smoke_image(docker, sys.argv[1], sys.argv[2:], timeout=600)
end = time.perf_counter()
print(json.dumps({"audit": middle - start, "imports": end - middle, "files": result.files,
                  "missing": len(result.missing), "failures": len(imports.failures)}))
"""


def run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv[:4])} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--image", action="store_true", help="also time the image audit")
    write_option(parser)
    args = parser.parse_args()
    py = sys.executable
    # Make sure the venvs exist and are current (this also runs the doctor stage once).
    run([py, "-m", "noxgrid", "doctor", "-q", "--no-docker", *CELLS], cwd=SERVICE)
    rows = []
    for cell in CELLS:
        venv = SERVICE / ".noxgrid" / "venvs" / cell
        samples = []
        for _ in range(args.rounds):
            done = run([py, "-c", ONE_AUDIT, str(venv)])
            samples.append(json.loads(done.stdout.strip().splitlines()[-1]))
        times = [sample["seconds"] for sample in samples]
        rows.append(
            (
                cell,
                samples[0]["files"],
                samples[0]["missing"],
                statistics.median(times),
                max(times),
            )
        )
    report = json.loads((SERVICE / ".noxgrid" / "reports" / "3.11-cpu-full.json").read_text())
    stage = {s["name"]: s for s in report["stages"]}["doctor"]
    image_line = ""
    if args.image:
        run([py, "-m", "noxgrid", "image", "-q", "3.11-cpu-full"], cwd=SERVICE)
        lock = SERVICE / "requirements" / "locks" / "pylock.py311-cpu-full.toml"
        sys.path.insert(0, str(REPO / "src"))
        from noxgrid.model.doctor import direct_dependencies
        from noxgrid.model.lockfile import parse_lock

        names = direct_dependencies(parse_lock(lock.read_text()))
        samples = []
        for _ in range(max(1, args.rounds // 2)):
            done = run([py, "-c", ONE_IMAGE, "noxgrid/refservice:3.11-cpu-full", *names])
            samples.append(json.loads(done.stdout.strip().splitlines()[-1]))
        audit = statistics.median(sample["audit"] for sample in samples)
        imports = statistics.median(sample["imports"] for sample in samples)
        image_line = (
            f"| image noxgrid/refservice:3.11-cpu-full | {samples[0]['files']} | "
            f"{samples[0]['missing']} | {audit:.2f} s (export + read) | import smoke "
            f"{imports:.2f} s, {samples[0]['failures']} failed |\n"
        )
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    lines = [
        "## The doctor on the reference service's full cpu cells",
        "",
        f"Measured {when} on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; {args.rounds} rounds, each in a fresh process "
        "(page cache warm). Target: the audit of a full cpu venv under 5 s.",
        "",
        "| venv | ELF files | missing | audit, median | audit, slowest |",
        "|---|---|---|---|---|",
    ]
    for cell, files, missing, median, slowest in rows:
        lines.append(f"| {cell} | {files} | {missing} | {median:.2f} s | {slowest:.2f} s |")
    lines.append("")
    lines.append(
        f"The whole doctor stage of 3.11-cpu-full (audit + import smoke of "
        f"{stage['detail'].rsplit('imported ', 1)[-1]}): {stage['duration']:.2f} s."
    )
    if image_line:
        lines += [
            "",
            "| image | ELF files | missing | audit | imports |",
            "|---|---|---|---|---|",
            image_line.rstrip(),
        ]
    lines += [
        "",
        "Command: `python benchmarks/bench_doctor.py --rounds "
        f"{args.rounds}{' --image' if args.image else ''}`",
    ]
    section = "\n".join(lines)
    publish(section, args.write, MARK)


if __name__ == "__main__":
    main()
