"""The options a project's own CI passes to pytest, to carry into noxgrid's suite command.

Pure: reads the project's files, starts nothing. Looked for, in this order, in
tox's configuration (``tox.ini``, ``setup.cfg``'s ``[tox:tox]``, ``pyproject.toml``'s
``legacy_tox_ini``), the noxfile (``session.run("pytest", ...)``) and the GitHub
workflows (``run:`` lines). What selects or skips tests (``-m``, ``-k``, ``-p no:x``,
``--ignore``, a plugin's ``--benchmark-skip``) is carried; what noxgrid sets itself
or what only changes the output (coverage, xdist, verbosity, JUnit, paths, tox's
substitutions) is not.
"""

from __future__ import annotations

import ast
import configparser
import re
import shlex
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from noxgrid.model.pylock import toml_value

# Options dropped with the value that follows them (when not written as --opt=value).
_DROP_WITH_VALUE = {
    "-n",
    "--numprocesses",
    "--dist",
    "--maxprocesses",
    "--cov",
    "--cov-report",
    "--cov-config",
    "--cov-fail-under",
    "--junitxml",
    "--junit-xml",
    "--junit-prefix",
    "--basetemp",
    "--tb",
    "--color",
    "--durations",
    "--durations-min",
    "--log-file",
    "--html",
    "--timeout",
    "-c",
    "--rootdir",
    "--confcutdir",
}
_DROP = {
    "-v",
    "-vv",
    "-vvv",
    "-q",
    "-qq",
    "-s",
    "-x",
    "--exitfirst",
    "--verbose",
    "--quiet",
    "--cov-append",
    "--no-cov",
    "--no-cov-on-fail",
    "--showlocals",
    "-l",
    "--lf",
    "--ff",
    "--sw",
    "--stepwise",
    "--capture=no",
    "--pdb",
    "--looponfail",
    "-f",
}
# Options that take a value, kept with it.
_KEEP_WITH_VALUE = {
    "-m",
    "-k",
    "-p",
    "-W",
    "-o",
    "--override-ini",
    "--ignore",
    "--ignore-glob",
    "--deselect",
    "--import-mode",
    "--pythonwarnings",
    "--doctest-glob",
}
_PYTEST = re.compile(r"^(?:py\.test|pytest)(?:-3)?$")


@dataclass(frozen=True)
class TestOptions:
    """The options carried, the file and line they come from, and what was left out."""

    args: tuple[str, ...]
    where: str
    dropped: tuple[str, ...] = ()


def pytest_argv(tokens: Sequence[str]) -> list[str] | None:
    """The arguments after pytest in a command (``pytest``, ``python -m pytest``,
    ``coverage run -m pytest``), or None when the command does not run pytest."""
    for index, token in enumerate(tokens):
        name = token.rsplit("/", 1)[-1]
        if _PYTEST.match(name):
            return list(tokens[index + 1 :])
        if token == "-m" and index + 1 < len(tokens) and _PYTEST.match(tokens[index + 1]):
            return list(tokens[index + 2 :])
        if index > 3:
            return None
    return None


def carried(args: Sequence[str]) -> tuple[list[str], list[str]] | None:
    """(kept, dropped) of pytest arguments; None when a positional argument names a file
    (that command runs something else than the test suite: a notebook, a benchmark)."""
    kept: list[str] = []
    dropped: list[str] = []
    items = list(args)
    index = 0
    while index < len(items):
        arg = items[index]
        flag = arg.split("=", 1)[0]
        takes_next = "=" not in arg and index + 1 < len(items)
        if "{" in arg:  # tox's substitutions ({posargs}, {envtmpdir}): the run's own
            dropped.append(arg)
        elif flag in _DROP_WITH_VALUE or flag.startswith("--cov"):
            dropped.append(arg)
            if takes_next and flag in _DROP_WITH_VALUE and not items[index + 1].startswith("-"):
                index += 1
                dropped.append(items[index])
        elif flag in _DROP or re.fullmatch(r"-r[a-zA-Z]*", arg):
            dropped.append(arg)
        elif flag in _KEEP_WITH_VALUE or re.fullmatch(r"-[mkpWo]\S+", arg):
            kept.append(arg)
            if takes_next and flag in _KEEP_WITH_VALUE:
                index += 1
                kept.append(items[index])
        elif arg.startswith("-"):
            kept.append(arg)  # a plugin's own switch (--benchmark-skip, --run-slow)
        elif "." in arg.rsplit("/", 1)[-1] and not arg.endswith(".py"):
            return None  # a notebook, a text file: not the suite
        elif arg.endswith(".py") or "::" in arg:
            return None  # one test file: a special run
        else:
            dropped.append(arg)  # a folder: the project's pytest configuration decides
        index += 1
    return kept, dropped


def _tox_commands(root: Path) -> Iterator[tuple[str, int, str]]:
    """(file, line, command) of each command of tox's test environments."""
    sources: list[tuple[str, str, str]] = []
    for name, section in (("tox.ini", "testenv"), ("setup.cfg", "testenv")):
        path = root / name
        if path.is_file():
            sources.append((name, path.read_text(encoding="utf-8", errors="replace"), section))
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        text = pyproject.read_text(encoding="utf-8", errors="replace")
        match = re.search(r"legacy_tox_ini\s*=\s*(?:\"\"\"|''')(.*?)(?:\"\"\"|''')", text, re.S)
        if match:
            sources.append(("pyproject.toml", match.group(1), "testenv"))
    for name, text, section in sources:
        parser = configparser.RawConfigParser(strict=False)
        try:
            parser.read_string(text)
        except configparser.Error:
            continue
        if section not in parser or "commands" not in parser[section]:
            continue
        lines = text.splitlines()
        for command in _joined(parser[section]["commands"].splitlines()):
            number = next((i + 1 for i, line in enumerate(lines) if command[:40] in line), 0)
            yield name, number, command


def _joined(lines: Sequence[str]) -> Iterator[str]:
    """tox's command lines: continuations joined, factor prefixes (``py311: ``) removed."""
    current = ""
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        current = f"{current} {line[:-1]}" if line.endswith("\\") else f"{current} {line}"
        if not line.endswith("\\"):
            yield re.sub(r"^[\w.,!-]+:\s+", "", current.strip())
            current = ""


def _tox_tokens(command: str) -> list[str]:
    """A tox command's words, with ``{posargs:default}`` replaced by its default."""
    command = re.sub(r"\{posargs:((?:[^{}]|\{[^{}]*\})*)\}", r"\1", command)
    command = command.replace("{toxinidir}/", "").replace("{toxinidir}", ".")
    try:
        return shlex.split(command)
    except ValueError:
        return []


def _nox_commands(root: Path) -> Iterator[tuple[str, int, list[str]]]:
    """(file, line, words) of each ``session.run("pytest", ...)`` with literal words."""
    path = root / "noxfile.py"
    if not path.is_file():
        return
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except SyntaxError:
        return
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr != "run":
            continue
        words = [
            a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
        ]
        yield "noxfile.py", node.lineno, words


def _workflow_commands(root: Path) -> Iterator[tuple[str, int, list[str]]]:
    """(file, line, words) of each pytest command on a workflow's ``run:`` lines."""
    folder = root / ".github" / "workflows"
    if not folder.is_dir():
        return
    for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = re.sub(r"^\s*(?:-\s*)?(?:run:\s*[|>]?-?\s*)?", "", line)
            if "pytest" not in stripped or "${{" in stripped:
                continue
            for part in re.split(r"&&|\|\||;|\|", stripped):
                try:
                    words = shlex.split(part)
                except ValueError:
                    continue
                yield f".github/workflows/{path.name}", number, words


def project_test_options(root: Path) -> TestOptions | None:
    """The pytest options the project's own CI runs its suite with, where it states any."""
    candidates: list[tuple[str, int, list[str]]] = [
        (name, number, _tox_tokens(command)) for name, number, command in _tox_commands(root)
    ]
    candidates += list(_nox_commands(root))
    candidates += list(_workflow_commands(root))
    for name, number, words in candidates:
        args = pytest_argv(words)
        if args is None:
            continue
        result = carried(args)
        if result is None:
            continue
        kept, dropped = result
        return TestOptions(args=tuple(kept), where=f"{name}:{number}", dropped=tuple(dropped))
    return None


_SHELL = re.compile(r"^(?:ba|da|z|k)?sh$")


def shell_script(argv: Sequence[str]) -> str | None:
    """The script of a command that runs a shell (``sh -c "cp a b && pytest"``), else None."""
    if not argv or not _SHELL.match(argv[0].rsplit("/", 1)[-1]):
        return None
    for index, word in enumerate(argv[1:], start=1):
        if word == "-c" or re.fullmatch(r"-[a-z]*c[a-z]*", word):
            return argv[index + 1] if index + 1 < len(argv) else ""
    return None


def shell_suite_note(argv: Sequence[str]) -> str | None:
    """What a suite command run through a shell loses, and the declaration that keeps it:
    the script's commands before pytest as ``setup`` steps, pytest as the command. None
    when ``argv`` runs no shell."""
    script = shell_script(argv)
    if script is None:
        return None
    setup: list[list[str]] = []
    command: list[str] | None = None
    for part in re.split(r"&&|;|\n", script):
        try:
            words = shlex.split(part)
        except ValueError:
            words = []
        if not words:
            continue
        if command is None and pytest_argv(words) is not None:
            command = words
        elif command is None:
            setup.append(words)
    lost = (
        f"the suite command runs a shell ({' '.join(argv[:2])} ...), so noxgrid does not see "
        "pytest in it: no JUnit report, no deselection of GPU tests, no failure diagnosis"
    )
    if command is None:
        return f"{lost}; fix: run the tests as the command and what comes before as setup"
    fix = f"command = {toml_value(command)}"
    if setup:
        fix = f"setup = {toml_value(setup)} and {fix}"
    return f"{lost}; fix: write {fix} in [tool.noxgrid.suite] (setup steps run without a shell)"
