"""Adopt real libraries as a new user would: their PyPI sdist, `noxgrid init`, the hand
edits a user still makes (EDITS, each with why noxgrid could not know it), then
`nox -s ci-lean -j 3 -- --no-docker`; a Markdown section of what happened.

    python scripts/adopt_real_projects.py [--out docs/adoption.md] [--no-edits] [NAME==VERSION ...]

It runs this checkout's noxgrid (its ``src`` first on PYTHONPATH, for init and for the
noxfile nox imports), not an installed one. Each project is unpacked into a temporary
folder (nothing here is changed but --out). --out rewrites only the part of the file
between the adoption-libraries markers (appended when the file has none), atomically:
other sections of the file stay. A ``NAME==VERSION@UV_EXCLUDE_NEWER=DATE`` entry runs
that project with uv's own ``exclude-newer`` setting in the environment (noxgrid
honours uv's settings): the resolution its CI had at that date.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
START = "<!-- adoption-libraries:start -->"
END = "<!-- adoption-libraries:end -->"

PROJECTS = [
    "requests==2.32.3",
    "python-dateutil==2.9.0",
    "itsdangerous==2.2.0",
    "attrs==24.3.0",
    "tqdm==4.67.1",
]


@dataclass(frozen=True)
class Edit:
    """A hand edit after init: append ``text`` to ``path``, replace ``old`` by ``text``
    in it, or run ``argv`` in the project; ``why`` noxgrid could not know it."""

    what: str
    why: str
    path: str = ""
    text: str = ""
    old: str = ""
    argv: tuple[str, ...] = ()


_TARPIT = (
    "requests' TestTimeout tests connect to TARPIT = http://10.255.255.1 and expect the "
    "connection to hang until the timeout; this machine's network answers every TCP connect "
    "at once, so no ConnectTimeout comes. What the network of the runner does to an "
    "unroutable address is not in the repository."
)
_DESELECT_TIMEOUTS = [
    "tests/test_requests.py::TestTimeout::test_connect_timeout",
    "tests/test_requests.py::TestTimeout::test_total_timeout_connect",
]
_ATTRS_PIPE = "tests/test_converters.py::TestPipe::test_wrapped_annotation"

EDITS: dict[str, list[Edit]] = {
    "requests": [
        Edit(
            "deselect "
            + " and ".join(f"`{t}` (both timeouts)" for t in _DESELECT_TIMEOUTS)
            + " in `[tool.noxgrid.suite] command`",
            _TARPIT,
            path="pyproject.toml",
            old='command = ["pytest"]',
            text='command = ["pytest", '
            + ", ".join(f'"--deselect", "{t}"' for t in _DESELECT_TIMEOUTS)
            + "]",
        ),
        Edit(
            "re-issue the mTLS client certificate from the CA the tests ship: "
            "`rm tests/certs/mtls/client/client.pem; make -C tests/certs/mtls/client client.pem`",
            "tests/certs/mtls/client/client.pem expired on 2026-03-13 (openssl x509 -enddate), so "
            "TestPreparingURLs::test_different_connection_pool_for_mtls_settings fails with "
            "SSLV3_ALERT_CERTIFICATE_EXPIRED; the sdist's own Makefile re-issues it. A "
            "certificate's date is a fact of the calendar, not of what the project declares.",
            argv=(
                "sh",
                "-c",
                "rm tests/certs/mtls/client/client.pem && "
                "make -s -C tests/certs/mtls/client client.pem",
            ),
        ),
    ],
    "python-dateutil": [
        Edit(
            "pin `pytest<9.1` in requirements-dev.txt (then `noxgrid lock`)",
            "setup.cfg turns every warning into an error (filterwarnings = error) and "
            "requirements-dev.txt asks only pytest >= 3.0; pytest 9.1.0 (2026-06-13) deprecates "
            "a generator passed to parametrize (PytestRemovedIn10Warning), which "
            "tests/test_isoparser.py does, so collection fails wherever pytest >= 9.1 resolves "
            "(3.10+; pytest 9 needs Python >= 3.10). The upper bound the project never wrote "
            "is the release its tests predate.",
            path="requirements-dev.txt",
            text="pytest<9.1\n",
        ),
    ],
    "attrs": [
        Edit(
            'pin `mypy<1.14; python_version >= "3.10"` in requirements/lean.in '
            "(then `noxgrid lock`)",
            "tests/test_mypy.yml compares mypy's messages verbatim; pyproject.toml asks "
            "mypy>=1.11.1 and says in a comment that the pin is raised as the messages change. "
            "A fresh lock's newest mypy (2.4.1 on 2026-12-05) words them differently (33 "
            "cases fail on 3.12 without this pin); mypy 1.13.0, the "
            "newest on attrs 24.3.0's release day (2024-12-16), passes them. Which mypy a "
            "message table was written against is not declared anywhere.",
            path="requirements/lean.in",
            text='mypy<1.14; python_version >= "3.10"\n',
        ),
        Edit(
            f"deselect `{_ATTRS_PIPE}` in `[tool.noxgrid.suite] command` (every cell: the "
            "command is the matrix's, so 3.10 and 3.13 lose it too)",
            "attrs' pipe() reads the return annotation of a Converter instance with "
            "inspect.signature on Python >= 3.11 (PY_3_11_PLUS in _make.py); CPython gained "
            "that for a __call__ held in a slot only with gh-101293 (backported in March 2024, "
            "3.11.9 and 3.12.3). This machine's interpreters are 3.11.7 and 3.12.1, where "
            "inspect.signature raises and the annotation is lost; 3.10 takes the other branch "
            "and 3.13.0 has the fix. The interpreter's patch release is the machine's, not the "
            "project's (the real fix: a newer 3.11/3.12 here).",
            path="pyproject.toml",
            old='command = ["pytest"]',
            text=f'command = ["pytest", "--deselect", "{_ATTRS_PIPE}"]',
        ),
    ],
}


def environment() -> dict[str, str]:
    """This checkout's noxgrid first; no engine, no GPU."""
    path = os.environ.get("PYTHONPATH", "")
    return {
        **os.environ,
        "PYTHONPATH": str(SRC) + (os.pathsep + path if path else ""),
        "NOXGRID_NO_DOCKER": "1",
        "NOXGRID_GPU": "0",
        "PYTHONUNBUFFERED": "1",
    }


def sh(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, float]:
    start = time.perf_counter()
    done = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=3600, check=False
    )
    return done.returncode, done.stdout + done.stderr, time.perf_counter() - start


def fetch(pin: str, folder: Path) -> Path:
    argv = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:"]
    code, output, _ = sh([*argv, pin, "-d", str(folder)], folder, dict(os.environ))
    if code:
        raise SystemExit(f"pip download {pin} failed:\n{output}")
    (archive,) = folder.glob("*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    (root,) = [p for p in folder.iterdir() if p.is_dir()]
    return root


def apply(edit: Edit, root: Path, env: dict[str, str]) -> str:
    """Make the edit; what went wrong, or ''."""
    if edit.argv:
        code, output, _ = sh(list(edit.argv), root, env)
        return f"exit {code}: {output.strip()[-300:]}" if code else ""
    path = root / edit.path
    text = path.read_text() if path.exists() else ""
    if edit.old:
        if edit.old not in text:
            return f"{edit.path}: {edit.old!r} not found"
        path.write_text(text.replace(edit.old, edit.text, 1))
    else:
        path.write_text(text + ("" if not text or text.endswith("\n") else "\n") + edit.text)
    return ""


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def cells(root: Path) -> list[str]:
    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in path.stem.split("-")[0].split("."))

    rows = []
    for path in sorted((root / ".noxgrid" / "reports").glob("*-lean.json"), key=version):
        data = json.loads(path.read_text())
        suite = next((s for s in data["stages"] if s["name"] == "suite"), {})
        detail = (suite.get("detail") or "").splitlines()[0] if suite else ""
        if data["status"] != "passed":
            failed = next((s for s in data["stages"] if s["status"] == "failed"), None)
            if failed:
                detail = f"{failed['name']}: {(failed['detail'] or '').splitlines()[0][:160]}"
        rows.append(f"{path.stem} {data['status']} ({detail})")
    return rows


def adopt(entry: str, edits: bool) -> dict[str, object]:
    pin, _, setting = entry.partition("@")
    env = environment()
    if setting:
        key, _, value = setting.partition("=")
        env[key] = value
    name = re.split(r"[=<>!~]", pin)[0]
    chosen = EDITS.get(name, []) if edits else []
    row: dict[str, object] = {"project": pin + (f" ({setting})" if setting else "")}
    with tempfile.TemporaryDirectory(prefix="noxgrid-adopt-") as temporary:
        root = fetch(pin, Path(temporary))
        code, output, seconds = sh([sys.executable, "-m", "noxgrid", "init"], root, env)
        row["init"] = f"exit {code}, {seconds:.1f} s"
        row["said"] = [line for line in output.splitlines() if line.strip()]
        row["edits"] = [(edit, apply(edit, root, env)) for edit in chosen]
        if code == 0 and chosen:
            code, output, seconds = sh([sys.executable, "-m", "noxgrid", "lock"], root, env)
            row["lock"] = f"exit {code}, {seconds:.1f} s: " + output.strip().splitlines()[-1]
        if code:
            row["nox"], row["cells"] = "not run", [output.strip().splitlines()[-1]]
            return row
        argv = [sys.executable, "-m", "nox", "-s", "ci-lean", "-j", "3", "--", "--no-docker"]
        code, _, seconds = sh(argv, root, env)
        row["nox"] = f"exit {code}, {seconds:.1f} s (load average after: {load()})"
        row["cells"] = cells(root)
        return row


def render(rows: list[dict[str, object]], started: str, ended: str, edits: bool) -> str:
    lines = [
        START,
        "## Libraries (PyPI sdists)",
        "",
        "Each project's PyPI sdist, unpacked as it is; `noxgrid init` (which locks every cell),",
        "then the hand edits listed under the project with why noxgrid could not know them "
        "(followed by `noxgrid lock`),",
        "then `nox -s ci-lean -j 3 -- --no-docker`."
        + ("" if edits else " This run made no edit (--no-edits)."),
        "",
        f"Command: `python scripts/adopt_real_projects.py --out docs/adoption.md` "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, noxgrid from this checkout's "
        f"`src`, Python {platform.python_version()}, {os.cpu_count()} CPUs shared with other "
        f"work, {platform.machine()}; load average 1/5/15 min at the start {started}, at the "
        f"end {ended}: timings are of a loaded machine).",
        "",
        "| project | init | hand edits | nox -s ci-lean | cells |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        cells_text = "<br>".join(str(c).replace("|", "\\|") for c in row["cells"])  # type: ignore[attr-defined]
        count = len(row.get("edits", []))  # type: ignore[arg-type]
        lines.append(
            f"| {row['project']} | {row['init']} | {count} | {row['nox']} | {cells_text} |"
        )
    for row in rows:
        lines += ["", f"### {row['project']}", "", "What `init` said:", "", "```"]
        lines += [str(line) for line in row["said"]]  # type: ignore[attr-defined]
        lines += ["```", ""]
        edits_done = row.get("edits") or []
        if not edits_done:
            lines.append("Hand edits: none.")
        else:
            lines.append("Hand edits, and why noxgrid could not know them:")
            lines.append("")
            for edit, problem in edits_done:  # type: ignore[attr-defined]
                lines.append(f"- {edit.what}. Why: {edit.why}")
                if problem:
                    lines.append(f"  - the edit FAILED: {problem}")
            lines += ["", f"`noxgrid lock` after the edits: {row.get('lock', 'not run')}"]
        lines += ["", f"Cells (`nox -s ci-lean`: {row['nox']}):", ""]
        lines += [f"- {cell}" for cell in row["cells"]]  # type: ignore[attr-defined]
    return "\n".join(lines) + "\n" + END + "\n"


def write_section(out: Path, section: str) -> None:
    """Replace the marked section of ``out`` (append it where there is none), atomically."""
    text = out.read_text() if out.exists() else "# Adopting real projects\n\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        tail = rest.split(END, 1)[1].removeprefix("\n")
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section
    temporary = out.with_name(f".{out.name}.tmp")
    temporary.write_text(text)
    temporary.replace(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("projects", nargs="*", default=PROJECTS)
    parser.add_argument("--out", type=Path, default=None, help="rewrite its marked section")
    parser.add_argument("--no-edits", action="store_true", help="adopt with no hand edit")
    args = parser.parse_args()
    started, rows = load(), []
    for entry in args.projects:
        print(f"== {entry} (load average {load()})", flush=True)
        row = adopt(entry, not args.no_edits)
        print(f"   init {row['init']}; nox {row['nox']}", flush=True)
        for line in row["cells"]:  # type: ignore[attr-defined]
            print(f"   {line}", flush=True)
        rows.append(row)
    section = render(rows, started, load(), not args.no_edits)
    if args.out:
        write_section(args.out, section)
    print(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
