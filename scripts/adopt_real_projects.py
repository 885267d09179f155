"""Adopt real projects as a new user would: their PyPI sdist, `noxgrid init`, then
`nox -s ci-lean -j 3 -- --no-docker`, with no hand edit; a Markdown table of what happened.

    python scripts/adopt_real_projects.py [--out docs/adoption.md] [NAME==VERSION ...]

Each project is unpacked into a temporary folder (nothing here is changed but --out).
A ``NAME==VERSION@UV_EXCLUDE_NEWER=DATE`` entry runs that project with uv's own
``exclude-newer`` setting in the environment (noxgrid honours uv's settings): the
resolution a project's CI had at that date.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

PROJECTS = [
    "requests==2.32.3",
    "python-dateutil==2.9.0",
    "python-dateutil==2.9.0@UV_EXCLUDE_NEWER=2024-03-01T00:00:00Z",
    "itsdangerous==2.2.0",
    "attrs==24.3.0",
    "attrs==24.3.0@UV_EXCLUDE_NEWER=2024-12-17T00:00:00Z",
    "tqdm==4.67.1",
]


def sh(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, float]:
    start = time.perf_counter()
    done = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=3600, check=False
    )
    return done.returncode, done.stdout + done.stderr, time.perf_counter() - start


def fetch(pin: str, folder: Path) -> Path:
    code, output, _ = sh(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--no-binary",
            ":all:",
            pin,
            "-d",
            str(folder),
        ],
        folder,
        dict(os.environ),
    )
    if code:
        raise SystemExit(f"pip download {pin} failed:\n{output}")
    (archive,) = folder.glob("*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    (root,) = [p for p in folder.iterdir() if p.is_dir()]
    return root


def cells(root: Path) -> list[str]:
    rows = []

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in path.stem.split("-")[0].split("."))

    for path in sorted((root / ".noxgrid" / "reports").glob("*-lean.json"), key=version):
        data = json.loads(path.read_text())
        stages = {s["name"]: s for s in data["stages"]}
        suite = stages.get("suite", {})
        detail = (suite.get("detail") or "").splitlines()[0] if suite else ""
        if data["status"] != "passed":
            failed = next((s for s in data["stages"] if s["status"] == "failed"), None)
            if failed:
                detail = f"{failed['name']}: {(failed['detail'] or '').splitlines()[0][:120]}"
        rows.append(f"{path.stem} {data['status']} ({detail})")
    return rows


def adopt(entry: str) -> dict[str, object]:
    pin, _, setting = entry.partition("@")
    env = {**os.environ, "NOXGRID_NO_DOCKER": "1", "NOXGRID_GPU": "0", "PYTHONUNBUFFERED": "1"}
    if setting:
        key, _, value = setting.partition("=")
        env[key] = value
    with tempfile.TemporaryDirectory(prefix="noxgrid-adopt-") as temporary:
        root = fetch(pin, Path(temporary))
        code, init_output, init_seconds = sh([sys.executable, "-m", "noxgrid", "init"], root, env)
        guessed = [line for line in init_output.splitlines() if line.startswith("init:")]
        row: dict[str, object] = {
            "project": pin + (f" ({setting})" if setting else ""),
            "init": f"exit {code}, {init_seconds:.1f} s",
            "guessed": guessed,
        }
        if code:
            row["nox"] = "not run"
            row["cells"] = [init_output.strip().splitlines()[-1]]
            return row
        argv = [sys.executable, "-m", "nox", "-s", "ci-lean", "-j", "3", "--", "--no-docker"]
        code, _, seconds = sh(argv, root, env)
        row["nox"] = f"exit {code}, {seconds:.1f} s"
        row["cells"] = cells(root)
        return row


def render(rows: list[dict[str, object]]) -> str:
    lines = [
        "# Adopting real projects",
        "",
        "Each project's PyPI sdist, unpacked as it is; `noxgrid init` (which locks every",
        "cell), then `nox -s ci-lean -j 3 -- --no-docker`. No file was edited by hand.",
        "",
        f"Command: `python scripts/adopt_real_projects.py` ({time.strftime('%Y-%m-%d')}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}).",
        "",
        "| project | init | nox -s ci-lean | cells |",
        "| --- | --- | --- | --- |",
    ]
    for row in rows:
        cells_text = "<br>".join(str(c) for c in row["cells"])  # type: ignore[attr-defined]
        lines.append(f"| {row['project']} | {row['init']} | {row['nox']} | {cells_text} |")
    lines += ["", "What `init` said it guessed, per project:", ""]
    for row in rows:
        lines.append(f"- **{row['project']}**")
        lines += [f"  - {line.removeprefix('init: ')}" for line in row["guessed"]]  # type: ignore[attr-defined]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("projects", nargs="*", default=PROJECTS)
    parser.add_argument("--out", type=Path, default=None, help="write the table here too")
    args = parser.parse_args()
    rows = []
    for entry in args.projects:
        print(f"== {entry}", flush=True)
        row = adopt(entry)
        print(f"   init {row['init']}; nox {row['nox']}", flush=True)
        for line in row["cells"]:  # type: ignore[attr-defined]
            print(f"   {line}", flush=True)
        rows.append(row)
    text = render(rows)
    if args.out:
        temporary = args.out.with_name(f".{args.out.name}.tmp")
        temporary.write_text(text)
        temporary.replace(args.out)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
