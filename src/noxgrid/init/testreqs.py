"""The lean profile's test requirements: the ones the project itself tests with.

In this order: its own test requirement file (the pip-compiled ``.txt`` over its
``.in`` where both exist: the pins are what its CI installs); what tox's test
environment installs, where that holds the test runner; the extra or development
group that holds the test runner (a ``tests`` extra without pytest loses to a
``dev`` one with it), whichever tool declares the group; tox's environment without
a runner (its runner may come from a section noxgrid does not expand, e.g.
``{[core]deps}``); a test extra or group without one, and pytest; else pytest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from noxgrid.model.devgroups import DevGroup
from noxgrid.model.devtools import runs_tests, tools_only
from noxgrid.model.inputs import expand_self
from noxgrid.model.toxenv import ToxEnv, tox_env

TEST_NAMES = ("test", "tests", "testing")
# Checked in this order; a .in file gives way to its compiled .txt beside it.
TEST_FILES = (
    "requirements/tests.in",
    "requirements/test.in",
    "requirements/testing.in",
    "requirements-tests.in",
    "requirements-test.in",
    "test-requirements.in",
    "requirements/tests.txt",
    "requirements/test.txt",
    "requirements/testing.txt",
    "requirements-tests.txt",
    "requirements-test.txt",
    "requirements-testing.txt",
    "test-requirements.txt",
    "tests-requirements.txt",
    "requirements-dev.txt",
    "dev-requirements.txt",
    "requirements/dev.txt",
    "requirements/dev.in",
)
# requirements_test.txt, requirements/unit-tests.txt: a test requirement file by its name.
_TEST_NAME = re.compile(r"(?:^|[-_.])(?:tests?|testing|unit-?tests?)(?:[-_.]|$)")
LEAN = "requirements/lean.in"


@dataclass
class Lean:
    """The lean profile: its requirement file (and the text to write, or None when it
    is the project's own), the project's extras and PEP 735 groups it adds."""

    requirements: str
    text: str | None
    extras: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    note: str = ""
    # Where it came from: "file", "extra" (a test extra), "group", "fallback" (pytest).
    kind: str = "file"
    # Requirement files the profile takes besides ``requirements`` (the CI job's).
    more: list[str] = field(default_factory=list)


def _compiled(root: Path, relative: str) -> str:
    """The compiled ``.txt`` beside a ``.in`` file where there is one, else the file."""
    if relative.endswith(".in") and (root / relative).with_suffix(".txt").is_file():
        return relative[: -len(".in")] + ".txt"
    return relative


def own_test_file(root: Path) -> str | None:
    """The project's own test requirement file, relative to ``root``, or None."""
    named = next((path for path in TEST_FILES if (root / path).is_file()), None)
    if named is not None:
        return _compiled(root, named)
    for folder in (root, root / "requirements"):
        found = sorted(
            path
            for path in [*folder.glob("*.txt"), *folder.glob("*.in")]
            if _TEST_NAME.search(path.stem) and (folder != root or "requirements" in path.name)
        )
        if found:
            return _compiled(root, found[0].relative_to(root).as_posix())
    return None


def _file_lines(path: Path) -> list[str]:
    """A requirement file's requirement lines (no options, no comments)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    lines = (line.split(" #", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith(("#", "-"))]


def _tox_runs_tests(root: Path, env: ToxEnv, extras: Mapping[str, list[str]], own: str) -> bool:
    """True when what tox's test environment installs brings a test runner: its deps,
    the files it reads with ``-r`` or the project's extras it names."""
    items = list(env.requirements)
    items += [line for f in env.files for line in _file_lines(root / f)]
    items += [item for e in env.extras for item in extras.get(e, [])]
    return runs_tests(items, own)


def _from_tox(root: Path, extras: Mapping[str, Any], env: ToxEnv | None) -> Lean | None:
    if env is None:
        return None
    files = [f for f in env.files if (root / f).is_file()]
    wanted = [e for e in env.extras if e in extras]
    if not files and not env.requirements:
        if not wanted:
            return None  # tox installs nothing this project declares
        lean = _extra_lean(wanted[0], True)
        names = ", ".join(f"'{e}'" for e in wanted)
        lean.extras, lean.note = wanted, f"lean profile: the project with its {names} extra"
        lean.note += f"{'s' if len(wanted) > 1 else ''}, as {env.where} installs"
        return lean
    if len(files) == 1 and not env.requirements:
        return Lean(
            files[0], None, wanted, note=f"lean profile: {files[0]}, as {env.where} installs"
        )
    lines = [f"-r ../{f}" for f in files] + list(env.requirements)
    text = f"# What {env.where} installs (noxgrid init).\n" + "".join(f"{x}\n" for x in lines)
    return Lean(LEAN, text, wanted, note=f"lean profile: what {env.where} installs")


def _rank(name: str) -> int:
    return 0 if name in TEST_NAMES else 1 if name == "dev" else 2


def _group_lean(group: DevGroup, runner: bool) -> Lean:
    where = f"{group.table}" + (
        "" if group.table.startswith("[tool.poetry.group.") else f" {group.name}"
    )
    if group.pep735:
        text = (
            f"# The tests' tools come with the dependency group '{group.name}' (profile groups).\n"
        )
        return Lean(LEAN, text, groups=[group.name], note=f"lean profile: {where}", kind="group")
    lines = list(group.requirements) + ([] if runner else ["pytest"])
    text = (
        f"# From {where} (noxgrid init): not a PEP 735 group, so its requirements are\n"
        "# copied here (poetry's constraints in PEP 508); keep the two in step.\n"
        + "".join(f"{line}\n" for line in lines)
        + "".join(f"# not translated: {item}\n" for item in group.untranslated)
    )
    note = f"lean profile: {where}, copied to {LEAN}"
    if group.untranslated:
        note += f" ({len(group.untranslated)} entry(ies) with no PEP 508 form left as comments)"
    return Lean(LEAN, text, note=note, kind="group")


def _extra_lean(extra: str, runner: bool) -> Lean:
    text = (
        f"# The tests' tools come with the project's '{extra}' extra (profile extras);\n"
        "# add here what else the lean cells need.\n" + ("" if runner else "pytest\n")
    )
    return Lean(
        LEAN,
        text,
        [extra],
        note=f"lean profile: the project with its '{extra}' extra",
        kind="extra",
    )


def choose_lean(
    root: Path,
    extras: Mapping[str, Any],
    groups: Sequence[DevGroup],
    own: str,
    not_runtime: set[str],
) -> Lean:
    """The lean profile from what the project declares (see the module's docstring)."""
    existing = own_test_file(root)
    if existing:
        return Lean(existing, None, note=f"lean profile: the project's own {existing}")
    optional = {name: list(items or []) for name, items in extras.items()}
    expanded = {name: expand_self(items, own, optional) for name, items in optional.items()}
    env = tox_env(root)
    from_tox = _from_tox(root, extras, env)
    if from_tox is not None and env is not None and _tox_runs_tests(root, env, expanded, own):
        return from_tox
    dev_extras = [
        name
        for name, items in optional.items()
        if name in TEST_NAMES or name in not_runtime or tools_only(items, own)
    ]
    candidates: list[tuple[int, int, str, DevGroup | None]] = [
        (_rank(name), 0, name, None) for name in dev_extras
    ] + [(_rank(group.name), 1, group.name, group) for group in groups]
    candidates.sort(key=lambda c: (c[0], c[1]))
    for _, _kind, name, group in candidates:
        items = list(group.requirements) if group else expanded[name]
        if runs_tests(items, own):
            return _group_lean(group, True) if group else _extra_lean(name, True)
    if from_tox is not None:  # tox names no runner, and nothing else declared holds one
        return from_tox
    for rank, _kind, name, group in candidates:
        if rank == 0:  # a test extra or group without a runner: it, and pytest
            return _group_lean(group, False) if group else _extra_lean(name, False)
    return Lean(
        LEAN,
        "# What the test suite needs (noxgrid init found nothing declared).\npytest\n",
        note="lean profile: pytest (no test requirements declared)",
        kind="fallback",
    )


def with_ci(
    lean: Lean, files: Sequence[str], extras: Sequence[str], runner: bool, note: str
) -> Lean:
    """``lean`` with what the CI test job installs: its requirement files ``files``
    besides the profile's own, and its install of the project with ``extras`` as the
    test extras (instead of a test extra init chose itself). ``runner``: those extras
    bring the test runner. ``note``: what the CI job gave, said with where."""
    if extras and lean.kind in ("extra", "fallback"):
        text = (
            "# The tests' tools come with the project's extras that the CI test job installs\n"
            "# (profile extras); add here what else the lean cells need.\n"
            + ("" if runner else "pytest\n")
        )
        lean = Lean(LEAN, text, list(extras), kind="extra")
    elif extras:
        lean.extras = list(dict.fromkeys([*lean.extras, *extras]))
        note += f" (with {lean.note.removeprefix('lean profile: ')})"
    else:
        note += f" (with {lean.note.removeprefix('lean profile: ')})"
    lean.more = [f for f in dict.fromkeys(files) if f != lean.requirements]
    lean.note = note
    return lean
