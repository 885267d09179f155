"""The test job of a hand-written workflow: what ``init`` carries into a service's cells.

Pure: reads workflow text (``model.yamllite``, each value with its line). The test job
of a service is the job whose steps run pytest for the service's folder (it works
there, or names it). Read from it:

- its Python versions: the matrix (``python-version``, ``python``, ``include:``) and
  ``setup-python``'s ``with: python-version`` (expressions are not values);
- its install lines (``pip install``, ``python -m pip install``, ``uv pip install``):
  requirement files (``-r FILE``), packages named bare (``pytest httpx``), folders
  below the service installed as packages (``--no-deps ./pkg``, its local packages),
  and installs of the tree itself (``-e .[test]``), which a service does not make;
- its pytest command's paths and options, as seen from the service's folder (the
  step's working directory, the job's ``defaults``, ``cd DIR &&`` followed), with the
  workflow's ``env:`` variables expanded.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from noxgrid.model.ci_jobs import Stated, workflow_files
from noxgrid.model.testoptions import _DROP_WITH_VALUE, _KEEP_WITH_VALUE, carried, pytest_argv
from noxgrid.model.workflow_env import environment, expand
from noxgrid.model.yamllite import Node, parse

_PYTHON_KEYS = ("python-version", "python-versions", "python", "python_version")
_VERSION = re.compile(r"^3\.\d{1,2}$")
_SEPARATORS = re.compile(r"&&|\|\||;|\|")
# Installers' own tools, not what the tests need.
_TOOLING = {"pip", "setuptools", "wheel", "uv", "pip-tools"}
# pip install options followed by a value that is not a package.
_INSTALL_VALUE = {
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--python",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--platform",
    "--only-binary",
    "--no-binary",
    "--upgrade-strategy",
    "--cache-dir",
    "--python-version",
    "--trusted-host",
    "-c",
    "--constraint",
}
_PATH_OPTIONS = ("--ignore", "--ignore-glob", "--deselect")


@dataclass(frozen=True)
class Command:
    """One command of a ``run:`` step: its words, the folder it runs in (relative to
    the repository's root, POSIX), and where it is written."""

    words: tuple[str, ...]
    cwd: str
    path: Path
    line: int


@dataclass
class SuiteJob:
    """A job whose steps run pytest."""

    name: str
    path: Path
    line: int
    pythons: list[Stated] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    text: str = ""

    def mentions(self, folder: str) -> bool:
        """True when the job works in ``folder`` or names a path below it."""
        folder = folder.strip("/")
        if any(_inside(c.cwd, folder) for c in self.commands):
            return True
        return re.search(rf"(?<![\w.-]){re.escape(folder)}/", self.text) is not None

    def pytest_commands(self) -> list[Command]:
        """The commands that run pytest."""
        return [c for c in self.commands if pytest_argv(c.words) is not None]


@dataclass
class Installs:
    """What a test job installs, as the service at its folder sees it."""

    files: list[Stated] = field(default_factory=list)  # relative to the service
    packages: list[Stated] = field(default_factory=list)  # requirement strings
    left_out: list[Stated] = field(default_factory=list)  # the tree, files elsewhere
    # Folders below the service installed as packages (``--no-deps ./pkg``, ``-e ./lib``),
    # relative to the service; ``value`` the folder, the line where it is installed.
    local: list[Stated] = field(default_factory=list)


@dataclass(frozen=True)
class SuiteArgs:
    """The pytest paths and options of a test job, from the service's folder."""

    paths: tuple[str, ...]
    options: tuple[str, ...]
    dropped: tuple[str, ...]
    where: str

    @property
    def args(self) -> tuple[str, ...]:
        """What follows ``pytest`` in the suite command."""
        return (*self.paths, *self.options)


def _inside(path: str, folder: str) -> bool:
    path = posixpath.normpath(path)
    return folder in (".", "") or path == folder or path.startswith(folder + "/")


def _pythons(job: Node, path: Path) -> list[Stated]:
    found: list[Stated] = []
    matrix = job.get("strategy", "matrix")
    nodes: list[Node] = []
    for key in _PYTHON_KEYS:
        nodes += (matrix.get(key) or Node([], 0)).items() if matrix else []
        for item in (matrix.get("include") or Node([], 0)).items() if matrix else []:
            nodes += (item.get(key) or Node([], 0)).items()
    for step in (job.get("steps") or Node([], 0)).items():
        nodes += (step.get("with", "python-version") or Node([], 0)).items()
    for node in nodes:
        text = (node.text or "").strip()
        if _VERSION.match(text):
            found.append(Stated(text, path, node.line))
    return found


def _working_directory(*nodes: Node | None) -> str:
    for node in nodes:
        text = node.text if node is not None else None
        if text and "${{" not in text:
            return posixpath.normpath(text.strip())
    return "."


def _commands(job: Node, top: Node, path: Path, lines: Sequence[str]) -> list[Command]:
    """Every command of the job's ``run:`` steps, with its folder and ``$VARIABLES``."""
    found: list[Command] = []
    default = _working_directory(
        job.get("defaults", "run", "working-directory"),
        top.get("defaults", "run", "working-directory"),
    )
    for step in (job.get("steps") or Node([], 0)).items():
        run = step.get("run")
        if run is None or run.text is None:
            continue
        own = step.get("working-directory")
        stated = own is not None and own.text and "${{" not in own.text
        cwd = _working_directory(own) if stated else default
        for number, text in run.text_lines():
            settings = environment(lines, number - 1)
            expanded, _ = expand(text, {k: s.value for k, s in settings.items()})
            for part in _SEPARATORS.split(expanded):
                try:
                    words = shlex.split(part, comments=True)
                except ValueError:
                    continue
                if words[:1] == ["cd"] and len(words) == 2 and "$" not in words[1]:
                    cwd = posixpath.normpath(posixpath.join(cwd, words[1]))
                elif words:
                    found.append(Command(tuple(words), cwd, path, number))
    return found


def parse_suite_jobs(text: str, path: Path) -> list[SuiteJob]:
    """The jobs of one workflow's text that run pytest."""
    top = parse(text)
    lines = text.splitlines()
    jobs = (top.get("jobs") or Node({}, 0)).mapping()
    entries = sorted(jobs.items(), key=lambda item: item[1].line)
    found: list[SuiteJob] = []
    for index, (name, node) in enumerate(entries):
        end = entries[index + 1][1].line - 1 if index + 1 < len(entries) else len(lines)
        job = SuiteJob(name, path, node.line, text="\n".join(lines[node.line : end]))
        job.pythons = _pythons(node, path)
        job.commands = _commands(node, top, path, lines)
        if job.pytest_commands():
            found.append(job)
    return found


def read_suite_jobs(repo_root: Path) -> list[SuiteJob]:
    """The test jobs of every hand-written workflow of the repository."""
    found: list[SuiteJob] = []
    for path in workflow_files(repo_root):
        try:
            found += parse_suite_jobs(path.read_text(encoding="utf-8"), path)
        except (OSError, UnicodeDecodeError):
            continue
    return found


def suite_job_for(
    jobs: Sequence[SuiteJob], directory: str, others: Sequence[str]
) -> SuiteJob | None:
    """The test job of the service at ``directory``: the first that works in or names its
    folder; for the root service (or none names it), the first that names no other."""
    others = [o for o in others if o not in (directory, ".")]
    if directory != ".":
        named = [job for job in jobs if job.mentions(directory)]
        if named:
            return named[0]
    free = [job for job in jobs if not any(job.mentions(o) for o in others)]
    return free[0] if free and (directory == "." or len(others) == 0) else None


def _service_path(cwd: str, value: str, directory: str) -> str | None:
    """``value`` (relative to ``cwd``) relative to the service's folder, None outside it."""
    joined = posixpath.normpath(posixpath.join(cwd, value))
    if directory in (".", ""):
        return None if joined.startswith("..") else joined
    if joined == directory:
        return "."
    if joined.startswith(directory + "/"):
        return joined[len(directory) + 1 :]
    return None


def _install_words(words: Sequence[str]) -> list[str] | None:
    """The words after ``install`` of a pip command, or None for another command."""
    for index, word in enumerate(words[:-1]):
        name = word.rsplit("/", 1)[-1]
        if (
            word == "install"
            and index
            and words[index - 1].rsplit("/", 1)[-1]
            in (
                "pip",
                "pip3",
            )
        ):
            return list(words[index + 1 :])
        if name == "uv" and words[index + 1 : index + 3] == ["pip", "install"]:
            return list(words[index + 3 :])
    return None


def _install_items(words: Sequence[str]) -> Iterator[tuple[str, str]]:
    """(kind, value) of an install's arguments: file, editable or package."""
    index = 0
    while index < len(words):
        word = words[index]
        following = words[index + 1] if index + 1 < len(words) else ""
        if word in ("-r", "--requirement", "-e", "--editable") and following:
            yield ("file" if word in ("-r", "--requirement") else "tree"), following
            index += 1
        elif word.startswith("--requirement="):
            yield "file", word.split("=", 1)[1]
        elif word.startswith("-r") and not word.startswith("-r="):
            yield "file", word[2:]
        elif word in _INSTALL_VALUE:
            index += 1
        elif not word.startswith("-") and "$" not in word:
            tree = word.startswith((".", "/")) or "/" in word.split("[", 1)[0]
            yield ("tree" if tree else "package"), word
        index += 1


def installs(job: SuiteJob, directory: str) -> Installs:
    """The requirement files, bare packages and tree installs of the job's install lines."""
    found = Installs()
    for command in job.commands:
        words = _install_words(command.words)
        for kind, value in _install_items(words or []):
            stated = Stated(value, command.path, command.line)
            if kind == "tree":
                folder = _service_path(command.cwd, value.split("[", 1)[0], directory)
                if folder not in (None, ".") and not value.startswith("/") and "://" not in value:
                    found.local.append(Stated(str(folder), command.path, command.line))
                else:
                    found.left_out.append(stated)
            elif kind == "file":
                relative = _service_path(command.cwd, value, directory)
                target = found.files if relative else found.left_out
                target.append(Stated(relative, command.path, command.line) if relative else stated)
            else:
                try:
                    name = canonicalize_name(Requirement(value).name)
                except InvalidRequirement:
                    continue
                if name not in _TOOLING:
                    found.packages.append(stated)
    return found


def suite_args(job: SuiteJob, directory: str, repo_root: Path) -> SuiteArgs | None:
    """The paths and options of the job's first pytest command, from the service."""
    commands = job.pytest_commands()
    if not commands:
        return None
    command = commands[0]
    argv = pytest_argv(command.words) or []
    paths: list[str] = []
    options: list[str] = []
    dropped: list[str] = []
    index = 0
    while index < len(argv):
        word = argv[index]
        flag = word.split("=", 1)[0]
        takes = "=" not in word and index + 1 < len(argv)
        if flag in _PATH_OPTIONS:
            value = word.split("=", 1)[1] if "=" in word else (argv[index + 1] if takes else "")
            index += 0 if "=" in word else 1
            relative = _service_path(command.cwd, value.split("::")[0], directory)
            if relative is not None:
                options.append(f"{flag}={relative}{value[len(value.split('::')[0]) :]}")
            else:
                dropped.append(word if "=" in word else f"{word} {value}")
        elif word.startswith("-"):
            options.append(word)
            if takes and flag in (_KEEP_WITH_VALUE | _DROP_WITH_VALUE):
                index += 1
                options.append(argv[index])
        else:
            relative = _service_path(command.cwd, word.split("::")[0], directory)
            if relative is not None and relative != ".":
                paths.append(relative + word[len(word.split("::")[0]) :])
            else:
                dropped.append(word)
        index += 1
    kept = carried(options) or ([], [])
    where = Stated(shlex.join(command.words), command.path, command.line).where(repo_root)
    return SuiteArgs(tuple(paths), tuple(kept[0]), (*kept[1], *dropped), where)
