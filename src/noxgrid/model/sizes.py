"""How big a lock is before anything is downloaded.

For each pinned package: the file uv would take for the cell's python and
platform (among those whose hash the lock lists), its download size from the
index's JSON simple API, and its installed size from the wheel's own zip
directory, read with an HTTP range request (a few kB, not the wheel). Both
answers are cached on disk: a release's files and a wheel's contents do not
change. The pure part (which file, what estimate) is separate from the
``PackageIndex`` that talks to the index.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    parse_wheel_filename,
)

from noxgrid.errors import IndexUnavailable
from noxgrid.model.results import format_size

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


_PLATFORM = re.compile(r"^(x86_64|aarch64)-manylinux_(\d+)_(\d+)$")

# .pyc files are compiled at install. Bytes of .pyc per byte of .py, measured
# in the reference service's venvs (docs/benchmarks.md, size section): 0.77 on
# 3.9 and 3.10; 1.13 (lean) and 1.24 (full) on 3.11, whose bytecode is larger.
PYC_PER_PY_BYTE = {(3, 9): 0.77, (3, 10): 0.77, (3, 11): 1.18}


def pyc_factor(python: str) -> float:
    """Bytes of compiled bytecode per byte of source for ``python``."""
    version = tuple(int(part) for part in python.split(".")[:2])
    if version in PYC_PER_PY_BYTE:
        return PYC_PER_PY_BYTE[version]
    return PYC_PER_PY_BYTE[(3, 9)] if version < (3, 9) else PYC_PER_PY_BYTE[(3, 11)]


# A uv venv before any package: the interpreter link, activate scripts, pyvenv.cfg.
VENV_BASE_BYTES = 40_000

# Installed bytes per downloaded byte, for an sdist or a wheel whose directory
# could not be read.
FALLBACK_EXPANSION = 2.5


def platform_tags(python: str, platform: str) -> list[Tag]:
    """Wheel tags a CPython ``python`` on ``platform`` accepts, most specific first."""
    match = _PLATFORM.match(platform)
    if not match:
        raise IndexUnavailable(
            f"cannot size wheels for platform {platform!r}",
            fix='use a platform of the form "x86_64-manylinux_2_28" in [tool.noxgrid] platform',
        )
    arch, major, minor = match.group(1), int(match.group(2)), int(match.group(3))
    platforms = [f"manylinux_{major}_{m}_{arch}" for m in range(minor, 4, -1)]
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    for glibc, name in legacy.items():
        if major == 2 and minor >= glibc:
            platforms.insert(platforms.index(f"manylinux_2_{glibc}_{arch}") + 1, f"{name}_{arch}")
    version = tuple(int(part) for part in python.split("."))
    interpreter = f"cp{version[0]}{version[1]}"
    return [
        *cpython_tags(version, abis=[interpreter], platforms=platforms),
        *compatible_tags(version, interpreter, platforms),
    ]


def is_pure_wheel(filename: str) -> bool:
    """True for a wheel of pure Python (every tag ``*-none-any``): no compiled library."""
    try:
        tags = parse_wheel_filename(filename)[3]
    except InvalidWheelFilename:
        return False
    return bool(tags) and all(t.abi == "none" and t.platform == "any" for t in tags)


@dataclass(frozen=True, kw_only=True)
class DistFile:
    """One file of a release on the index."""

    filename: str
    url: str
    size: int
    sha256: str


def select_file(
    files: Sequence[DistFile], tags: Sequence[Tag], hashes: Iterable[str] = ()
) -> DistFile | None:
    """The wheel uv would install (best tag), else the sdist; limited to the lock's hashes."""
    allowed = {h.removeprefix("sha256:") for h in hashes}
    candidates = [f for f in files if not allowed or f.sha256 in allowed]
    rank = {tag: index for index, tag in enumerate(tags)}
    best: tuple[int, DistFile] | None = None
    for file in candidates:
        if not file.filename.endswith(".whl"):
            continue
        try:
            _, _, _, file_tags = parse_wheel_filename(file.filename)
        except InvalidWheelFilename:
            continue
        score = min((rank[t] for t in file_tags if t in rank), default=None)
        if score is not None and (best is None or score < best[0]):
            best = (score, file)
    if best is not None:
        return best[1]
    sdists = [f for f in candidates if f.filename.endswith((".tar.gz", ".zip"))]
    return sdists[0] if sdists else None


@dataclass(frozen=True, kw_only=True)
class PackageSize:
    """Download and installed size of one locked package."""

    name: str
    version: str
    filename: str | None
    download: int
    installed: int
    exact: bool
    url: str = ""
    sha256: str = ""

    def file(self) -> DistFile:
        """The file this size is of."""
        return DistFile(
            filename=self.filename or "", url=self.url, size=self.download, sha256=self.sha256
        )


@dataclass(frozen=True, kw_only=True)
class SizeEstimate:
    """A lock's sizes and the packages that could not be sized.

    Unknown stays unknown: with any package unsized, ``download`` and
    ``installed`` are None, never the sum of the others. ``errors`` says why
    the index did not answer (then ``unreachable`` is True).
    """

    packages: tuple[PackageSize, ...]
    unknown: tuple[str, ...]
    errors: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """True when every package was sized."""
        return not self.unknown

    @property
    def unreachable(self) -> bool:
        """True when some package is unsized because the index did not answer."""
        return bool(self.errors)

    @property
    def download(self) -> int | None:
        """Bytes uv would download with an empty cache (None when not every package is sized)."""
        return sum(p.download for p in self.packages) if self.complete else None

    @property
    def installed(self) -> int | None:
        """Estimated bytes of the venv once installed, bytecode included (None if unknown)."""
        if not self.complete:
            return None
        return VENV_BASE_BYTES + sum(p.installed for p in self.packages)

    def source_only(self) -> list[PackageSize]:
        """Packages that have no wheel for the cell: uv would build them from source."""
        return [p for p in self.packages if p.filename and not p.filename.endswith(".whl")]

    def pure_python(self) -> set[str]:
        """The packages whose chosen file is a pure-Python wheel (their names as given)."""
        return {p.name for p in self.packages if p.filename and is_pure_wheel(p.filename)}

    def largest(self, count: int = 10) -> list[tuple[str, int]]:
        """(name==version, installed bytes), largest first."""
        ordered = sorted(self.packages, key=lambda p: p.installed, reverse=True)
        return [(f"{p.name}=={p.version}", p.installed) for p in ordered[:count]]


def installed_bytes(total: int, py: int, python: str) -> int:
    """Installed size of a wheel: its members (``total``), plus bytecode for ``py`` bytes."""
    return total + int(py * pyc_factor(python))


# What an sdist's files say it needs to build, beyond its build backend.
_NATIVE = (
    ((".c", ".h"), "a C compiler (build-essential) and the Python headers"),
    ((".cpp", ".cc", ".cxx", ".hpp"), "a C++ compiler (g++) and the Python headers"),
    ((".pyx", ".pxd"), "Cython and a C compiler"),
    ((".f", ".f90", ".f95"), "a Fortran compiler (gfortran)"),
    (("Cargo.toml",), "a Rust toolchain (cargo)"),
    (("CMakeLists.txt",), "CMake"),
)

SDIST_LIMIT = 50 * 2**20


def build_needs(members: Sequence[str], pyproject: str | None) -> str:
    """What building an sdist needs, from its file names and its pyproject.toml. Pure."""
    needs = []
    for suffixes, what in _NATIVE:
        if any(member.endswith(suffixes) for member in members):
            needs.append(what)
    backend = "setuptools (setup.py)"
    if pyproject:
        try:
            requires = tomllib.loads(pyproject).get("build-system", {}).get("requires", [])
            if requires:
                backend = ", ".join(str(r) for r in requires)
        except tomllib.TOMLDecodeError:
            pass
    return (
        "; ".join([f"build requirements: {backend}", *needs])
        if needs
        else (f"build requirements: {backend} (pure Python)")
    )


def grown(
    largest: Sequence[tuple[str, int]], previous: Sequence[tuple[str, int]]
) -> dict[str, str]:
    """For each of ``largest`` (``name==version``, bytes) that is new or bigger than in
    ``previous``: ``was 400.0 MB (torch==2.4.0)`` or ``new``."""
    before = {canonicalize_name(pin.split("==")[0]): (pin, size) for pin, size in previous}
    found = {}
    for pin, size in largest:
        old = before.get(canonicalize_name(pin.split("==")[0]))
        if old is None:
            found[pin] = "new since the committed lock"
        elif size > old[1] * 1.05:
            found[pin] = f"was {format_size(old[1])} ({old[0]})"
    return found


def largest_lines(
    largest: Sequence[tuple[str, int]], previous: Sequence[tuple[str, int]] | None
) -> list[str]:
    """``    1.2 GB  torch==2.5.1  <- grew: was 400.0 MB (torch==2.4.0)``, one per package;
    the growth is marked only where there is a ``previous`` lock to compare with."""
    growth = grown(largest, previous) if previous is not None else {}
    return [
        f"{format_size(size):>9}  {name}" + (f"  <- grew: {growth[name]}" if name in growth else "")
        for name, size in largest
    ]
