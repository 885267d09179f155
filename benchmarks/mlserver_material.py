"""SeldonIO/MLServer as adopted in docs/adoption.md, built from the public repository.

Shared by benchmarks/bench_lock_cold.py and benchmarks/bench_cold_projects.py: MLServer's
commit a325e52 exported from a git repository (a clone of
https://github.com/SeldonIO/MLServer, or the mirror below), ``noxgrid init --no-lock``,
then the declaration and ``full.in`` of benchmarks/material/mlserver in place of init's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MATERIAL = HERE / "material" / "mlserver"
MLSERVER_GIT = Path("/work/.mirror/SeldonIO+MLServer/repo")
MLSERVER_COMMIT = "a325e523b5a580d49aeb06e19e73e4a90176b63b"
# Two copies of one git-LFS TensorFlow weight, absent from mirrors (docs/adoption.md)
LFS_ABSENT = tuple(
    f":(exclude){docs}/examples/cassava/model/variables/variables.data-00000-of-00001"
    for docs in ("docs", "docs-gb")
)
INIT_MARK = "# " + "-" * 64 + " noxgrid"


def git_dir(given: Path) -> Path:
    """The git directory of ``given`` (a bare repository or a clone's work tree), checked
    to hold MLServer's commit; the fix where it does not."""
    folder = given / ".git" if (given / ".git").is_dir() else given
    found = subprocess.run(
        [
            "git",
            f"--git-dir={folder}",
            "rev-parse",
            "--verify",
            "-q",
            f"{MLSERVER_COMMIT}^{{commit}}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        sys.exit(
            f"{given}: no git repository holding SeldonIO/MLServer's commit {MLSERVER_COMMIT[:7]} "
            "(--mlserver-git); fix: git clone https://github.com/SeldonIO/MLServer and pass "
            "--mlserver-git MLServer (or --project DIR, an adopted copy)"
        )
    return folder


def export_commit(folder: Path, target: Path) -> None:
    """``git archive <commit> | tar -x`` into ``target`` (emptied first)."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    argv = ["git", f"--git-dir={folder}", "archive", MLSERVER_COMMIT, "--", ".", *LFS_ABSENT]
    archive = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert archive.stdout is not None and archive.stderr is not None
    untar = subprocess.run(
        ["tar", "-x", "-C", str(target)], stdin=archive.stdout, capture_output=True, check=False
    )
    archive.stdout.close()
    errors = archive.stderr.read().decode(errors="replace")
    if archive.wait() != 0 or untar.returncode != 0:
        sys.exit(f"{' '.join(argv)} | tar -x -C {target} failed:\n{errors}{untar.stderr.decode()}")


def apply_declaration(project: Path) -> None:
    """Init's ``[tool.noxgrid]`` tables (appended at the end of pyproject.toml) replaced by
    the adoption's, its ``full.in`` added; init's other requirement files the declaration
    does not name are removed, so the folder holds what the adoption held."""
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    start = text.find(INIT_MARK)
    if start < 0 or "[tool.noxgrid" in text[:start]:
        sys.exit(f"{pyproject}: no [tool.noxgrid] tables at the end, after {INIT_MARK!r}")
    declaration = (MATERIAL / "noxgrid.toml").read_text()
    pyproject.write_text(text[:start] + declaration)
    requirements = project / "requirements"
    shutil.copyfile(MATERIAL / "full.in", requirements / "full.in")
    for path in requirements.glob("*.in"):
        if f"requirements/{path.name}" not in declaration:
            path.unlink()


def build_material(given: Path, target: Path) -> Path:
    """MLServer at a325e52 as adopted (docs/adoption.md), in ``target`` (emptied first),
    exported from ``given`` (a clone or a bare mirror)."""
    export_commit(git_dir(given), target)
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), UV_PYTHON_DOWNLOADS="never")
    argv = [sys.executable, "-m", "noxgrid", "init", "--no-lock", "-C", str(target)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    apply_declaration(target)
    return target
