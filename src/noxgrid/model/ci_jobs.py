"""What a repository's hand-written GitHub workflows say about their jobs. Pure.

Read line by line (no YAML parser at run time, and each value keeps its
file:line): for every job, the Python versions it sets up (``python-version``
as a scalar, an inline list or a block list, in ``with:`` or in the matrix),
the requirement files it installs (``pip install -r FILE``, ``uv pip install
-r FILE``, ``--requirement=FILE``) and the folders it works in
(``working-directory:``, ``cd DIR``). Expressions (``${{ ... }}``) are not
values. Workflows noxgrid generated are left out: they are not the project's
own statements.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from noxgrid.model.drift import is_generated

_VERSION = re.compile(r"\b(3\.\d{1,2})\b")
_KEY = re.compile(r"^(\s*)(?:-\s+)?([\w.-]+)\s*:\s*(.*?)\s*$")
_PYTHON_KEYS = {"python-version", "python-versions", "python", "python_version"}
_INSTALL = re.compile(r"\b(?:pip|pip3)\s+install\b|\buv\s+pip\s+(?:install|sync)\b")
_CD = re.compile(r"(?:^|[;&|]|run:)\s*cd\s+([^\s;&|]+)")


@dataclass(frozen=True)
class Stated:
    """A value written in a workflow, and where."""

    value: str
    path: Path
    line: int

    def where(self, root: Path) -> str:
        """``file:line`` relative to ``root``."""
        try:
            name = self.path.relative_to(root).as_posix()
        except ValueError:
            name = str(self.path)
        return f"{name}:{self.line}"


@dataclass
class Job:
    """One job of a workflow: what it sets up, installs and where it works."""

    name: str
    path: Path
    line: int
    pythons: list[Stated] = field(default_factory=list)
    requirements: list[Stated] = field(default_factory=list)
    folders: list[Stated] = field(default_factory=list)
    text: str = ""

    def mentions(self, folder: str) -> bool:
        """True when the job names ``folder`` (a working directory, a ``cd``, a path in it)."""
        folder = folder.strip("/")
        if any(f.value.strip("./") == folder for f in self.folders):
            return True
        return re.search(rf"(?<![\w.-]){re.escape(folder)}/", self.text) is not None


def workflow_files(repo_root: Path) -> list[Path]:
    """The hand-written workflows of a repository (noxgrid's own left out)."""
    folder = repo_root / ".github" / "workflows"
    found = sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")])
    return [path for path in found if not is_generated(path)]


def read_jobs(repo_root: Path) -> list[Job]:
    """Every job of every hand-written workflow of the repository."""
    jobs: list[Job] = []
    for path in workflow_files(repo_root):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        jobs += parse_jobs(text, path)
    return jobs


def parse_jobs(text: str, path: Path) -> list[Job]:
    """The jobs of one workflow's text."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if re.match(r"^jobs\s*:", line)), None)
    if start is None:
        return []
    jobs: list[Job] = []
    indent: int | None = None
    stop = len(lines)
    for index in range(start + 1, len(lines)):
        line = lines[index]
        if line.strip() == "" or line.lstrip().startswith("#"):
            continue
        if not line.startswith((" ", "\t")):
            stop = index  # the next top-level key: the jobs are over
            break
        match = _KEY.match(line)
        width = len(line) - len(line.lstrip())
        if indent is None:
            indent = width
        if match and width == indent:
            jobs.append(Job(name=match.group(2), path=path, line=index + 1))
        elif jobs:
            _read_line(jobs[-1], lines, index)
    for job in jobs:
        end = next((j.line - 1 for j in jobs if j.line > job.line), stop)
        job.text = "\n".join(lines[job.line : end])
    return jobs


def _read_line(job: Job, lines: list[str], index: int) -> None:
    line = lines[index]
    match = _KEY.match(line)
    number = index + 1
    if match and match.group(2) in _PYTHON_KEYS:
        value = match.group(3)
        if value:
            job.pythons += _versions(value, job.path, number)
        else:  # a block list follows, more indented
            for following, text in _block(lines, index + 1):
                job.pythons += _versions(text, job.path, following)
    if match and match.group(2) == "working-directory" and "${{" not in match.group(3):
        job.folders.append(Stated(match.group(3).strip("'\""), job.path, number))
    for folder in _CD.findall(line):
        if "$" not in folder:
            job.folders.append(Stated(folder.strip("'\""), job.path, number))
    if _INSTALL.search(line):
        job.requirements += [Stated(name, job.path, number) for name in requirement_arguments(line)]


def _block(lines: list[str], start: int) -> Iterable[tuple[int, str]]:
    for index in range(start, len(lines)):
        text = lines[index]
        if not text.strip():
            continue
        if not text.lstrip().startswith("-"):
            return  # the list is over
        yield index + 1, text.lstrip()[1:]


def _versions(value: str, path: Path, line: int) -> list[Stated]:
    if "${{" in value:
        return []
    return [Stated(version, path, line) for version in _VERSION.findall(value)]


def requirement_arguments(line: str) -> list[str]:
    """The files an install command line names with ``-r``/``--requirement``/``-c``-less."""
    try:
        words = shlex.split(line.strip().removeprefix("run:").strip(), comments=True)
    except ValueError:
        words = line.split()
    found = []
    for index, word in enumerate(words):
        if word in ("-r", "--requirement") and index + 1 < len(words):
            found.append(words[index + 1])
        elif word.startswith("--requirement="):
            found.append(word.split("=", 1)[1])
        elif word.startswith("-r") and len(word) > 2 and not word.startswith("-r="):
            found.append(word[2:])
    return [name for name in found if "$" not in name]


def foreign_lines(text: str, path: Path, directory: str) -> set[int]:
    """The lines of a workflow's jobs that belong to another project of the repository
    than the one at ``directory``: jobs that work in, or install from, other folders and
    never name this one. A job that names no folder belongs to every project."""
    if directory in (".", ""):
        return set()
    lines: set[int] = set()
    jobs = parse_jobs(text, path)
    for job in jobs:
        named = [f.value for f in job.folders] + [
            Path(r.value).parent.as_posix() for r in job.requirements
        ]
        if job.mentions(directory) or not [n for n in named if n not in (".", "")]:
            continue
        end = job.line + len(job.text.splitlines())
        lines.update(range(job.line, end + 1))
    return lines
