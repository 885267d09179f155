"""A suite command run through a shell (``sh -c "cp .env.example .env && pytest"``):
what noxgrid loses with it (JUnit, GPU deselection, the failure text) and the
declaration that keeps it: the commands before pytest as ``setup`` steps. Pure."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

from noxgrid.model.pylock import toml_value
from noxgrid.model.testoptions import pytest_argv

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
