"""The options a project's own CI passes to pytest, to carry into noxgrid's suite command.

Pure: reads the project's files, starts nothing. Looked for, in this order, in
tox's configuration (``tox.ini``, ``setup.cfg``'s ``[tox:tox]``, ``pyproject.toml``'s
``legacy_tox_ini``), the noxfile (``session.run("pytest", ...)``) and the GitHub
workflows (``run:`` lines). What selects or skips tests (``-m``, ``-k``, ``-p no:x``,
``--ignore``, a plugin's ``--benchmark-skip``) is carried; what noxgrid sets itself
or what only changes the output (coverage, xdist, verbosity, JUnit, paths, tox's
substitutions) is not. The forms CI files use are followed: a wrapper (``coverage run
--source=x -m pytest``, ``poetry run pytest``), a variable (``pytest $TEST_OPTS`` with
``TEST_OPTS`` in the workflow's, job's or step's ``env:``; ``PYTEST_ADDOPTS``), tox's
``{env:X}`` and ``setenv``, and the posargs a workflow passes to tox or nox after ``--``.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from noxgrid.model.toxconfig import tox_commands, tox_tokens
from noxgrid.model.workflow_env import environment, expand

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
# Where a command's variables and posargs came from ("TEST_OPTS from ci.yml:8").
Sources = list[str]
_PYTEST = re.compile(r"^(?:py\.test|pytest)(?:-3)?$")


@dataclass(frozen=True)
class TestOptions:
    """The options carried, the file and line they come from, and what was left out."""

    args: tuple[str, ...]
    where: str
    dropped: tuple[str, ...] = ()


# What may stand before pytest in a command that runs it: interpreters, coverage, the
# project managers' ``run``, and wrappers that only set up the process.
_WRAPPERS = {
    "coverage",
    "run",
    "uv",
    "poetry",
    "pdm",
    "hatch",
    "pipenv",
    "rye",
    "xvfb-run",
    "timeout",
    "env",
    "time",
    "exec",
    "nice",
}
_PYTHON = re.compile(r"^python(?:\d(?:\.\d+)?)?$")


def _wrapper(token: str) -> bool:
    name = token.rsplit("/", 1)[-1]
    return bool(
        _PYTHON.match(name)
        or name in _WRAPPERS
        or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=\S*", token)  # VAR=value
        or re.fullmatch(r"\d+[smh]?", token)  # timeout's duration
    )


def pytest_argv(tokens: Sequence[str]) -> list[str] | None:
    """The arguments after pytest in a command (``pytest``, ``python -m pytest``,
    ``coverage run --source=x -m pytest``, ``poetry run pytest``), or None when the
    command does not run pytest (``pip install pytest``, ``make test``)."""
    after_option = False
    for index, token in enumerate(tokens):
        if _PYTEST.match(token.rsplit("/", 1)[-1]):
            return list(tokens[index + 1 :])
        if token == "-m" and index + 1 < len(tokens):
            if _PYTEST.match(tokens[index + 1]):
                return list(tokens[index + 2 :])
            if tokens[index + 1] != "coverage":  # python -m coverage run -m pytest
                return None
            continue
        if token.startswith("-"):
            after_option = token.startswith("--") and "=" not in token
            continue
        if _wrapper(token) or after_option:  # an option's value: --source src
            after_option = False
            continue
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


def _nox_commands(root: Path) -> Iterator[tuple[str, int, list[str], bool]]:
    """(file, line, words, passes posargs) of each ``session.run("pytest", ...)`` with
    literal words."""
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
        posargs = any(
            isinstance(a, ast.Starred) and "posargs" in ast.unparse(a.value) for a in node.args
        )
        yield "noxfile.py", node.lineno, words, posargs


def _run_lines(root: Path) -> Iterator[tuple[str, list[str], int, str]]:
    """(file, its lines, line index, the command part of a ``run:`` line) of each workflow
    line that runs something."""
    folder = root / ".github" / "workflows"
    if not folder.is_dir():
        return
    for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        for index, line in enumerate(lines):
            stripped = re.sub(r"^\s*(?:-\s*)?(?:run:\s*[|>]?-?\s*)?", "", line)
            if "${{" not in stripped:
                yield f".github/workflows/{path.name}", lines, index, stripped


def _commands(text: str) -> Iterator[list[str]]:
    for part in re.split(r"&&|\|\||;|\|", text):
        try:
            yield shlex.split(part)
        except ValueError:
            continue


def _workflow_commands(root: Path) -> Iterator[tuple[str, list[str], Sources]]:
    """(file:line, words, where the variables came from) of each pytest command on a
    workflow's ``run:`` lines, its ``$VARIABLES`` and ``PYTEST_ADDOPTS`` taken from the
    workflow's, job's or step's ``env:``."""
    for name, lines, index, text in _run_lines(root):
        if "pytest" not in text:
            continue
        settings = environment(lines, index)
        expanded, used = expand(text, {key: s.value for key, s in settings.items()})
        addopts = settings.get("PYTEST_ADDOPTS")
        if addopts is not None:
            used.append("PYTEST_ADDOPTS")
        sources = [f"{key} from {name}:{settings[key].line}" for key in dict.fromkeys(used)]
        for words in _commands(expanded):
            if addopts is not None and pytest_argv(words) is not None:
                words = [*words, *shlex.split(addopts.value)]
            yield f"{name}:{index + 1}", words, sources


def _workflow_posargs(root: Path, tool: str) -> tuple[list[str], str] | None:
    """What a workflow passes after ``--`` to ``tox`` or ``nox`` (their posargs), and where."""
    for name, _lines, index, text in _run_lines(root):
        for words in _commands(text):
            names = [word.rsplit("/", 1)[-1] for word in words[:3]]
            if tool in names and "--" in words:
                return words[words.index("--") + 1 :], f"{name}:{index + 1}"
    return None


def project_test_options(root: Path) -> TestOptions | None:
    """The pytest options the project's own CI runs its suite with, where it states any."""
    candidates: list[tuple[str, list[str], Sources]] = []
    tox = _workflow_posargs(root, "tox")
    for name, number, command, variables in tox_commands(root):
        sources = [f"posargs from {tox[1]}"] if tox and "{posargs" in command else []
        words = tox_tokens(command, variables, tox[0] if tox else None)
        if "PYTEST_ADDOPTS" in variables and pytest_argv(words) is not None:
            words += shlex.split(variables["PYTEST_ADDOPTS"])
            sources.append(f"PYTEST_ADDOPTS from {name}'s setenv")
        candidates.append((f"{name}:{number}", words, sources))
    nox = _workflow_posargs(root, "nox")
    for name, number, words, posargs in _nox_commands(root):
        given = nox[0] if nox and posargs else []
        sources = [f"posargs from {nox[1]}"] if given and nox else []
        candidates.append((f"{name}:{number}", [*words, *given], sources))
    candidates += list(_workflow_commands(root))
    for where, words, sources in candidates:
        args = pytest_argv(words)
        if args is None:
            continue
        result = carried(args)
        if result is None:
            continue
        kept, dropped = result
        if sources:
            where += f", with {', '.join(sources)}"
        return TestOptions(args=tuple(kept), where=where, dropped=tuple(dropped))
    return None
