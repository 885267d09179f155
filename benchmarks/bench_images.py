"""Images of the reference service: sizes, cold builds, and rebuilds after a source change.

For each cell: empty BuildKit's cache (its layers and cache mounts; the base
images stay), build, check and smoke-test the image (`noxgrid image CELL`),
then change one source file and build again: only the application layers
should be rebuilt. Also: what each image adds to its base, and whether a
cpu image carries any CUDA library. Needs an engine and the local base
images (.ci/run makes both):

    python scripts/base_images.py
    export NOXGRID_BASE_IMAGE_MAP=\\
        "python:{python}-slim-bookworm=noxgrid-local/python:{python}-slim-bookworm"
    python benchmarks/bench_images.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from markdown_section import write_section

from noxgrid.model.declaration import load_config
from noxgrid.model.image import base_image
from noxgrid.model.matrix import expand

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SERVICE = REPO / "examples" / "service"
CELLS = ("3.9-cpu-lean", "3.10-cpu-lean", "3.11-cpu-lean", "3.11-cpu-full", "3.11-gpu-full")
TOUCHED = SERVICE / "src" / "refservice" / "pagemeta.py"


def docker(*args: str) -> str:
    client = os.environ.get("NOXGRID_DOCKER", "docker")
    done = subprocess.run([client, *args], capture_output=True, text=True, check=True)
    return done.stdout


def build(cell: str) -> dict:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "noxgrid", "image", "-q", cell],
        cwd=SERVICE,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"noxgrid image {cell} failed:\n{done.stdout[-3000:]}\n{done.stderr}")
    data = json.loads((SERVICE / ".noxgrid" / "reports" / f"{cell}.json").read_text())
    stages = {s["name"]: s for s in data["stages"]}
    return {
        "wall": wall,
        "image": stages["image"]["duration"],
        "smoke": stages["smoke"]["duration"],
        "size": data["image_size"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--write", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("cells", nargs="*", default=list(CELLS))
    args = parser.parse_args()
    config = load_config(SERVICE)
    cells = {cell.id: cell for cell in expand(config)}
    rows = []
    original = TOUCHED.read_text()
    for name in args.cells:
        docker("builder", "prune", "-af")
        docker("image", "rm", "-f", f"{config.docker.image}:{name}")
        cold = build(name)
        try:
            TOUCHED.write_text(original + f"\n# benchmark edit {time.time()}\n")
            warm = build(name)
        finally:
            TOUCHED.write_text(original)
        base = base_image(config, cells[name], os.environ)
        base_size = int(docker("image", "inspect", "--format", "{{.Size}}", base).strip())
        cuda = docker(
            "run",
            "--rm",
            "--entrypoint",
            "sh",
            f"{config.docker.image}:{name}",
            "-c",
            "find / -xdev \\( -name 'libcudart*' -o -name 'libcublas*' -o -name "
            "'libcudnn*' -o -name 'libonnxruntime_providers_cuda*' \\) | wc -l",
        )
        rows.append(
            f"| {name} | {cold['size'] / 1e6:.0f} MB | {(cold['size'] - base_size) / 1e6:.0f} MB "
            f"| {cold['image']:.1f} s | {warm['image']:.1f} s "
            f"| {warm['image'] / cold['image'] * 100:.0f} % | {cold['smoke']:.1f} s "
            f"| {cuda.strip()} |"
        )
        print(rows[-1], flush=True)
    section = "\n".join(
        [
            "## Images of the reference service",
            "",
            f"Measured {dt.date.today().isoformat()} on {os.cpu_count()} cores "
            f"({platform.machine()}), Docker Engine 20.10 (Debian's docker.io, built-in "
            "BuildKit), bases from `scripts/base_images.py` (debootstrap bookworm + this machine's "
            "CPython: 138 MB for 3.9, 140 MB for 3.10, 212 MB for 3.11). Command:",
            "",
            "```",
            "python benchmarks/bench_images.py " + " ".join(args.cells),
            "```",
            "",
            "Cold: BuildKit's cache emptied (`docker builder prune -af`), so the lock's wheels are "
            "downloaded again. Rebuild: one source file changed; the dependency layer is reused. "
            "Build times are the image stage (build, checks, and the doctor: the exported file "
            "system audited, the import smoke run in a container); smoke is start to a 200 from "
            "`/ready`. CUDA files: `libcudart*`, `libcublas*`, `libcudnn*` and ONNX Runtime's CUDA "
            "provider found in the image.",
            "",
            "| cell | image | added to base | cold build | rebuild after a source change "
            "| rebuild / cold | smoke | CUDA files |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    print(section)
    write_section(args.write, "bench:images", section)


if __name__ == "__main__":
    main()
