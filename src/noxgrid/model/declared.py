"""What a project's own metadata files declare about Python, against the matrix: the
``requires-python`` of pyproject.toml, setup.cfg's ``python_requires``, and the version
classifiers of pyproject.toml, setup.cfg and setup.py (each file on its own: a 3.7
classifier is named wherever it is written). Pure: reads files.

Each finding is (file:line, message, fix); ``model.drift`` makes them drifts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from noxgrid.model.config import Config, relative_path
from noxgrid.model.matrix import version_key

Found = tuple[str, str, str]

_CLASSIFIER = re.compile(r"Programming Language :: Python :: (3\.\d{1,2})(?=[\"'\s,\]]|$)")
_PYTHON_REQUIRES = re.compile(r"^\s*python_requires\s*=\s*(.+?)\s*$")


def _lines(path: Path) -> list[tuple[int, str]]:
    try:
        return list(enumerate(path.read_text(encoding="utf-8").splitlines(), start=1))
    except (OSError, UnicodeDecodeError):
        return []


def excluded_by(
    spec_text: str, axis: Iterable[str], where: str, what: str, fix: str
) -> list[Found]:
    """A finding for each axis version the specifier ``spec_text`` excludes."""
    try:
        spec = SpecifierSet(spec_text)
    except InvalidSpecifier:
        return []
    return [
        (
            where,
            f"{what} {spec_text!r} excludes Python {version}, which is on the matrix",
            fix.format(version=version),
        )
        for version in sorted(axis, key=version_key)
        if not spec.contains(f"{version}.0", prereleases=True)
    ]


def setup_cfg_requires(config: Config, path: Path, axis: set[str]) -> list[Found]:
    """setup.cfg's ``python_requires`` against the axis."""
    for number, line in _lines(path):
        match = _PYTHON_REQUIRES.match(line)
        if match:
            return excluded_by(
                match.group(1),
                axis,
                f"{relative_path(path, config.root)}:{number}",
                "setup.cfg's python_requires",
                "widen python_requires, or drop {version} from python in [tool.noxgrid]",
            )
    return []


def requires_python(config: Config, axis: set[str]) -> list[Found]:
    """pyproject.toml's ``requires-python`` against the axis."""
    if not config.requires_python:
        return []
    lines = _lines(config.pyproject)
    number = next((n for n, text in lines if text.strip().startswith("requires-python")), 1)
    return excluded_by(
        config.requires_python,
        axis,
        f"{config.pyproject.name}:{number}",
        "requires-python",
        "widen requires-python, or drop {version} from python in [tool.noxgrid]",
    )


def classifier_drift(config: Config, path: Path, axis: set[str]) -> list[Found]:
    """The version classifiers of one file against the axis: each version the matrix does
    not test, and each version it tests that no classifier states."""
    classified: dict[str, int] = {}
    for number, text in _lines(path):
        if text.lstrip().startswith("#"):
            continue
        for version in _CLASSIFIER.findall(text):
            classified.setdefault(version, number)
    if not classified:
        return []
    name = relative_path(path, config.root)
    found: list[Found] = [
        (
            f"{name}:{number}",
            f"the classifier says Python {version}, which the matrix does not test",
            f'remove that classifier, or add "{version}" to python in [tool.noxgrid]',
        )
        for version, number in classified.items()
        if version not in axis
    ]
    found += [
        (
            f"{name}:{min(classified.values())}",
            f"the matrix tests Python {version}, but no classifier says so",
            f'add "Programming Language :: Python :: {version}" to classifiers',
        )
        for version in sorted(axis - set(classified), key=version_key)
    ]
    return found


def declared_drift(config: Config, own: Iterable[Path], axis: set[str]) -> list[Found]:
    """Every disagreement of the project's metadata files with the axis: pyproject.toml's,
    and those of its setup.cfg and setup.py among ``own`` (the project's files, ignored
    ones left out)."""
    found = requires_python(config, axis) + classifier_drift(config, config.pyproject, axis)
    root = config.root.resolve()
    for path in sorted(own):
        if path.name not in ("setup.cfg", "setup.py") or path.parent.resolve() != root:
            continue
        if path.name == "setup.cfg":
            found += setup_cfg_requires(config, path, axis)
        found += classifier_drift(config, path, axis)
    return found
