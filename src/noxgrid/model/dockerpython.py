"""The Python a Dockerfile builds, read stage by stage. Pure: text in, versions out.

* ``FROM python:3.11-slim`` (or a tag naming ``python3.11``) and ``ARG PYTHON_VERSION=3.11``
  state it;
* a stage on an OS base (CUDA, Ubuntu, Debian, Jetson) gets it from what it installs:
  ``apt-get install python3.10`` (deadsnakes' too), conda's ``python=3.10``, ``uv python
  install 3.12``; the distribution's own ``python3`` is read from the base's release
  (``nvidia/cuda:12.1.0-runtime-ubuntu22.04`` ships Ubuntu 22.04's 3.10);
* a stage that runs Python but says none of this is named as unreadable, never guessed
  (the CUDA version in a tag is not a Python version).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_VERSION = r"3\.\d{1,2}"
_PYTHON_IMAGE = re.compile(rf"(?:^|/)python:({_VERSION})\b|:python({_VERSION})\b")
_ARG_PYTHON = re.compile(rf"^ARG\s+PY(?:THON)?(?:_VERSION)?=[\"']?({_VERSION})\b", re.IGNORECASE)
_ARG = re.compile(r"^ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=[\"']?([^\"'\s]*))?", re.IGNORECASE)
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_INSTALLER = re.compile(r"\b(?:apt-get|apt|yum|dnf|microdnf|apk)\b.*\b(?:install|add)\b")
_PACKAGE = re.compile(rf"^python({_VERSION})(?:-(?:dev|venv|distutils|full|minimal))?$")
_DISTRO_PACKAGE = re.compile(r"^python3(?:-(?:pip|dev|venv|full|minimal|distutils))?$")
_CONDA = re.compile(rf"\b(?:conda|mamba|micromamba)\b.*\bpython=?=({_VERSION})\b")
_UV_PYTHON = re.compile(rf"\buv\s+(?:python\s+install|venv\b.*--python)\s+({_VERSION})\b")
_RUNS_PYTHON = re.compile(r"\b(?:python3?(?:\.\d+)?|pip3?)\b")

# The python3 of a distribution release (what `apt-get install python3` gives).
_UBUNTU = {"18.04": "3.6", "20.04": "3.8", "22.04": "3.10", "24.04": "3.12"}
_UBUNTU_NAMES = {"bionic": "18.04", "focal": "20.04", "jammy": "22.04", "noble": "24.04"}
_DEBIAN = {"buster": "3.7", "bullseye": "3.9", "bookworm": "3.11", "trixie": "3.13"}
_DEBIAN_NUMBERS = {"10": "buster", "11": "bullseye", "12": "bookworm", "13": "trixie"}


@dataclass(kw_only=True)
class DockerPython:
    """What a Dockerfile says of its Python: (line, version) statements, and the
    (line, base image) of each stage whose Python could not be read."""

    statements: list[tuple[int, str]] = field(default_factory=list)
    unreadable: list[tuple[int, str]] = field(default_factory=list)


def instructions(text: str) -> list[tuple[int, str]]:
    """(first line, instruction) with continuation lines joined and comments left out."""
    found: list[tuple[int, str]] = []
    parts: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not parts and (not line or line.startswith("#")):
            continue
        if parts and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if not parts:
            start = number
        parts.append(line.removesuffix("\\").strip())
        if not line.endswith("\\"):
            found.append((start, " ".join(parts)))
            parts = []
    if parts:
        found.append((start, " ".join(parts)))
    return found


def substitute(text: str, values: Mapping[str, str]) -> str:
    """``text`` with ``$X``, ``${X}`` and ``${X:-default}`` replaced where known."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        if values.get(name):
            return values[name]
        return match.group(2) if match.group(2) is not None else match.group(0)

    return _VARIABLE.sub(one, text)


def distro_python(image: str) -> str | None:
    """The python3 of the distribution an image is built on, where its tag says which."""
    lower = image.lower()
    ubuntu = re.search(r"ubuntu[:\-]?(\d\d\.\d\d)\b", lower)
    if ubuntu:
        return _UBUNTU.get(ubuntu.group(1))
    for name, release in _UBUNTU_NAMES.items():
        if re.search(rf"ubuntu:{name}\b", lower):
            return _UBUNTU[release]
    debian = re.search(r"debian:(\d+)\b", lower)
    if debian and debian.group(1) in _DEBIAN_NUMBERS:
        return _DEBIAN[_DEBIAN_NUMBERS[debian.group(1)]]
    for name, version in _DEBIAN.items():
        if re.search(rf"[:\-]{name}\b", lower) or lower.startswith(f"debian:{name}"):
            return version
    return None


def _installed(command: str, base: str) -> list[str]:
    """The Python versions one RUN instruction installs (empty: none, or unreadable)."""
    found = [m.group(1) for m in _CONDA.finditer(command)]
    found += [m.group(1) for m in _UV_PYTHON.finditer(command)]
    distro = []
    for segment in re.split(r"&&|\|\||;|\|", command):
        if not _INSTALLER.search(segment):
            continue
        for token in segment.split():
            package = _PACKAGE.match(token)
            if package:
                found.append(package.group(1))
            elif _DISTRO_PACKAGE.match(token):
                distro.append(distro_python(base))
    # python3-pip beside python3.11 (deadsnakes) brings the distribution's python3 too,
    # but the version named is the one the image is for.
    if not found:
        found = [version for version in distro if version]
    return list(dict.fromkeys(found))


@dataclass(kw_only=True)
class _Stage:
    line: int
    image: str
    inherits: bool  # a python image, or an earlier stage: its Python is stated elsewhere
    alias: str = ""
    versions: set[str] = field(default_factory=set)
    runs_python: bool = False


def read_dockerfile(text: str) -> DockerPython:
    """Every Python version a Dockerfile states or installs, and the stages whose Python
    comes from their base and could not be read."""
    result = DockerPython()
    values: dict[str, str] = {}
    names: set[str] = set()
    stages: list[_Stage] = []
    for number, line in instructions(text):
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG":
            _read_arg(line, number, values, stages, result)
        elif keyword == "FROM":
            stages.append(_from(rest, number, values, names, result))
        elif stages and keyword == "RUN":
            stage = stages[-1]
            stage.runs_python = stage.runs_python or bool(_RUNS_PYTHON.search(rest))
            for version in _installed(substitute(rest, values), stage.image):
                stage.versions.add(version)
                if version in _installed(rest, stage.image):  # written out, not an ARG's
                    result.statements.append((number, version))
        elif stages and keyword == "COPY":
            source = re.search(r"--from=(\S+)", rest)
            if source and _python_stage(source.group(1), stages):
                stages[-1].inherits = True  # the interpreter copied from a Python stage
        elif stages and keyword in ("CMD", "ENTRYPOINT"):
            stages[-1].runs_python = stages[-1].runs_python or bool(_RUNS_PYTHON.search(rest))
    for stage in stages:
        if stage.runs_python and not stage.inherits and not stage.versions:
            result.unreadable.append((stage.line, stage.image))
    return result


def _python_stage(name: str, stages: list[_Stage]) -> bool:
    """True when ``name`` (an alias or an index) is an earlier stage with a known Python."""
    earlier = stages[:-1]
    if name.isdigit():
        found = earlier[int(name)] if int(name) < len(earlier) else None
    else:
        found = next((s for s in earlier if s.alias == name.lower()), None)
    return found is not None and (found.inherits or bool(found.versions))


def _read_arg(
    line: str, number: int, values: dict[str, str], stages: list[_Stage], result: DockerPython
) -> None:
    stated = _ARG_PYTHON.match(line)
    if stated:
        result.statements.append((number, stated.group(1)))
        if stages:
            stages[-1].versions.add(stated.group(1))
    arg = _ARG.match(line)
    if arg and arg.group(2):
        values[arg.group(1)] = arg.group(2)


def _from(
    rest: str, number: int, values: Mapping[str, str], names: set[str], result: DockerPython
) -> _Stage:
    words = [w for w in rest.split() if not w.startswith("--")]
    image = substitute(words[0], values) if words else ""
    alias = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else ""
    python = _PYTHON_IMAGE.search(image)
    written = _PYTHON_IMAGE.search(words[0]) if words else None
    if written:  # written out, not an ARG's (the ARG line is the statement then)
        result.statements.append((number, written.group(1) or written.group(2)))
    inherits = python is not None or image.lower() in names or image.lower() == "scratch"
    if alias:
        names.add(alias)
    return _Stage(line=number, image=image, inherits=inherits, alias=alias)
