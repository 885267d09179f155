"""Three-interpreter lean run of a real project (itsdangerous's own suite), warm caches.

Compares, in one run and interleaved round by round:

* floor      - the three bare pytest runs side by side (venvs made beforehand)
* noxgrid    - ``noxgrid run -j 3``: finds interpreters, checks each lock is
               fresh and passes policy, verifies each venv against its lock
               (uv --exact), runs the suite; and the
               same cells as nox sessions, ``nox -s ci-lean -j 3``
* tox-uv     - tox 4 + tox-uv, ``tox p`` on the project's own tox.ini
* nox+pip    - plain nox with its default virtualenv + pip, ``-j 3``
* nox+uv -R  - nox with the uv backend, ``-j 3 -R`` (reuses venvs and skips
               installs without checking them)

Prints the medians and their ratio to the floor; with --write, also into
docs/benchmarks.md (benchmarks/bench_warm.py adds CPU time and process counts for
the noxgrid runs).

    pip install -e . tox tox-uv
    python benchmarks/bench_itsdangerous.py --rounds 5 --write

nox's groups run their cells in one process (``nox -j N`` of them at a time);
nox itself adds its parent process and the one child it runs the group in.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from benchtools import ratio_rows, suite_env, write_option
from benchtools import timed as sh
from markdown_section import write_section

from noxgrid.tools.interpreters import find_interpreter
from noxgrid.tools.uv import find_uv

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work"
VERSION = "2.2.0"
PYTHONS = ("3.9", "3.10", "3.11")
MARK = "bench:itsdangerous"

NOXGRID_TABLE = """
[tool.noxgrid]
python = ["3.9", "3.10", "3.11"]
accelerators = ["cpu"]
profiles = ["lean"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/tests.txt"]
"""

NOXFILE = """
import nox

@nox.session(python=["3.9", "3.10", "3.11"], venv_backend={backend!r})
def tests(session):
    session.install("-r", "requirements/tests.txt")
    session.install(".")
    session.run("pytest", "-q")
"""


def floor(project: Path, env: dict[str, str]) -> float:
    """The three suites side by side, nothing else (reading the bytecode noxgrid's runs
    wrote into each venv, as the cell's suite does)."""
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [
                str(project / ".noxgrid" / "venvs" / f"{v}-cpu-lean" / "bin" / "pytest"),
                "-q",
            ],
            cwd=project,
            env=suite_env(project / ".noxgrid" / "venvs" / f"{v}-cpu-lean", env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        for v in PYTHONS
    ]
    codes = [proc.wait() for proc in procs]
    if any(codes):
        sys.exit(f"bare pytest failed: {codes}")
    return time.perf_counter() - start


def prepare(env: dict[str, str]) -> Path:
    """Fetch the sdist once, unpack it fresh, add noxgrid's table and two noxfiles."""
    WORK.mkdir(exist_ok=True)
    sdist = WORK / f"itsdangerous-{VERSION}.tar.gz"
    if not sdist.exists():
        sh(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"itsdangerous=={VERSION}",
                "-d",
                str(WORK),
            ],
            WORK,
            env,
        )
    project = WORK / f"itsdangerous-{VERSION}"
    if not project.exists():
        with tarfile.open(sdist) as archive:
            archive.extractall(WORK, filter="data")
        with (project / "pyproject.toml").open("a") as stream:
            stream.write(NOXGRID_TABLE)
        (project / "noxfile_pip.py").write_text(NOXFILE.format(backend="virtualenv"))
        (project / "noxfile_uv.py").write_text(NOXFILE.format(backend="uv"))
        (project / "noxfile_noxgrid.py").write_text("import noxgrid\n\nnoxgrid.sessions()\n")
    return project


def version_of(argv: list[str], cwd: Path | None = None) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=cwd)
    return (done.stdout or done.stderr).strip().splitlines()[0]


def warm_project() -> tuple[dict[str, str], Path]:
    """The environment every contender runs in, and the prepared project (venvs made).

    tox and nox find interpreters on PATH; noxgrid finds them itself (pyenv, uv), so the
    others get the same interpreters put on PATH for them. PYTHONDONTWRITEBYTECODE keeps the
    project's folder clean; noxgrid's own modules get their bytecode once, as an installed
    noxgrid has it from its wheel (an editable checkout would otherwise compile every module
    in every process)."""
    folders = [str(find_interpreter(v).path.parent) for v in PYTHONS]
    env = {
        **os.environ,
        "PATH": os.pathsep.join([*folders, os.environ["PATH"]]),
        "UV_PYTHON_DOWNLOADS": "never",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("VIRTUAL_ENV", None)
    import noxgrid

    sh([sys.executable, "-m", "compileall", "-q", str(Path(noxgrid.__file__).parent)], REPO, env)
    return env, prepare(env)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default 5)")
    write_option(parser)
    args = parser.parse_args()

    env, project = warm_project()
    py = sys.executable
    tools = {
        "noxgrid run -j 3": [py, "-m", "noxgrid", "run", "-q", "-j", "3"],
        "nox -s ci-lean -j 3 (noxgrid sessions)": [
            py,
            "-m",
            "nox",
            "-f",
            "noxfile_noxgrid.py",
            "-s",
            "ci-lean",
            "-j",
            "3",
        ],
        "tox 4 + tox-uv, tox p": [py, "-m", "tox", "p", "-p", "3", "-e", "py39,py310,py311"],
        "nox + pip, -j 3": [py, "-m", "nox", "-f", "noxfile_pip.py", "-j", "3"],
        "nox + uv, -j 3 -R": [py, "-m", "nox", "-f", "noxfile_uv.py", "-j", "3", "-R"],
    }
    # noxgrid cells install from their lock: write the three locks once.
    sh([py, "-m", "noxgrid", "lock"], project, env)
    print("warming up (first runs fill the caches and make the venvs)...", flush=True)
    for argv in tools.values():
        sh(argv, project, env)
    times: dict[str, list[float]] = {"floor (3 bare pytest runs)": []}
    times.update({name: [] for name in tools})
    names = list(tools)
    for round_ in range(args.rounds):
        times["floor (3 bare pytest runs)"].append(floor(project, env))
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            times[name].append(sh(tools[name], project, env))
        print(
            f"round {round_ + 1}/{args.rounds}: "
            + ", ".join(f"{n.split(',')[0]} {t[-1]:.2f}s" for n, t in times.items()),
            flush=True,
        )

    rows = ratio_rows(times, "floor (3 bare pytest runs)")
    versions = ", ".join(
        [
            version_of([py, "-m", "noxgrid", "--version"]),
            version_of([find_uv(), "--version"]),
            "nox " + version_of([py, "-m", "nox", "--version"]),
            "tox " + version_of([py, "-m", "tox", "--version"], project).split(" from ")[0],
        ]
    )
    section = "\n".join(
        [
            f"## Three-interpreter lean run: itsdangerous {VERSION}, warm caches",
            "",
            f"Measured {dt.date.today().isoformat()} on {os.cpu_count()} cores "
            f"({platform.machine()}, Python {platform.python_version()}); {args.rounds} rounds, "
            "tools interleaved, median wall time. Command:",
            "",
            "```",
            "pip install -e . tox tox-uv",
            f"python benchmarks/bench_itsdangerous.py --rounds {args.rounds} --write",
            "```",
            "",
            "| run | median | range | median / floor's median | median of per-round ratios |",
            "|---|---|---|---|---|",
            *rows,
            "",
            f"Versions: {versions}. noxgrid checks each cell's lock (fresh, policy, budget) "
            "and proves every venv equal to it on each run, without starting uv: each "
            "distribution's name and version, the hashes it was installed from, its RECORD "
            "unchanged, every file the RECORD lists present at its size, and nothing else "
            "installed; then where the project imports from. `nox -R` skips installs "
            "without checking them; tox reuses an env whose declared deps did not change. "
            "noxgrid's modules have their bytecode (compiled once, as from a wheel); the "
            "projects' runs write none (PYTHONDONTWRITEBYTECODE=1).",
            "",
            "Target (issue 17): a warm re-run of the three lean cells at most 1.2 x the floor "
            "on `nox -s ci-lean -j 3`, each venv still proved equal to its lock.",
        ]
    )
    print("\n" + section)
    if args.write:
        write_section(args.write, MARK, section)
        print(f"\nwrote {args.write}")


if __name__ == "__main__":
    main()
