"""What an image carries that it should not: caches, wheels, build tools, apt lists, tests.

Pure: ``WASTE_SCRIPT`` runs in the image (as root, with the image's python, in the
same container as the /app listing, whose ``AppTree.parse`` collects its lines) and
prints one JSON object per finding; ``waste_findings`` turns them into lines with the
size and the fix, and ``waste_problem`` fails the image over the project's limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from noxgrid.model.results import format_size

WASTE_SCRIPT = r"""
import glob, json, os, sys

def size(path):
    if os.path.islink(path):
        return 0
    if os.path.isfile(path):
        return os.path.getsize(path)
    total = 0
    for folder, dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(folder, name)
            if not os.path.islink(full):
                try:
                    total += os.path.getsize(full)
                except OSError:
                    pass
    return total

def report(kind, path):
    found = size(path)
    if found:
        print(json.dumps({"kind": kind, "path": path, "size": found}))

homes = ["/root"] + sorted(glob.glob("/home/*"))
for home in homes:
    report("pip-cache", os.path.join(home, ".cache", "pip"))
    report("uv-cache", os.path.join(home, ".cache", "uv"))
for name in sorted(glob.glob("/var/lib/apt/lists/*")):
    if not name.endswith(("/lock", "/partial", "/auxfiles")):
        report("apt-lists", name)
for name in sorted(glob.glob("/var/cache/apt/archives/*.deb")):
    report("apt-archives", name)
for tool in ("/usr/lib/gcc", "/usr/libexec/gcc"):
    if glob.glob(tool + "/*/*/cc1") or glob.glob(tool + "/*/*/cc1plus"):
        report("toolchain", tool)
system = {"/proc", "/sys", "/dev", "/run", "/lib", "/lib64", "/lib32", "/bin",
          "/sbin", "/etc", "/boot", "/var/lib", "/var/log", "/srv/www"}
for folder, dirs, files in os.walk("/"):
    # Of /usr only what a Dockerfile copies into: local/ and src/ (the OS owns the rest).
    dirs[:] = [d for d in dirs if os.path.join(folder, d) not in system
               and not (folder == "/usr" and d not in ("local", "src"))
               and d not in ("site-packages", "dist-packages", "__pycache__")]
    if "/ensurepip/" in folder + "/":
        continue  # CPython's own bundled pip: part of the interpreter
    for name in files:
        if name.endswith(".whl"):
            report("wheel", os.path.join(folder, name))
app = "/app"
for folder, dirs, files in os.walk(app):
    for name in list(dirs):
        full = os.path.join(folder, name)
        if name in ("tests", "test") and folder == app:
            report("app-tests", full)
            dirs.remove(name)
        elif name == "__pycache__" and "/tests" in full[len(app):]:
            report("test-pycache", full)
"""

_WHAT = {
    "pip-cache": (
        "pip's download cache",
        "pip install --no-cache-dir, or RUN --mount=type=cache,target=/root/.cache/pip",
    ),
    "uv-cache": (
        "uv's cache",
        "RUN --mount=type=cache,target=/root/.cache/uv (the template's), or UV_NO_CACHE=1",
    ),
    "apt-lists": (
        "apt's package lists",
        "end the apt-get RUN with `&& rm -rf /var/lib/apt/lists/*`, or a cache mount on "
        "/var/lib/apt",
    ),
    "apt-archives": (
        "downloaded .deb files",
        "apt-get clean in the same RUN, or RUN --mount=type=cache,target=/var/cache/apt",
    ),
    "toolchain": (
        "a C/C++ compiler",
        "build in a builder stage and COPY --from it only the venv (multi-stage); the "
        "runtime stage needs no build-essential",
    ),
    "wheel": (
        "wheel files",
        "install them and delete them in the same RUN, or bind-mount them "
        "(RUN --mount=type=bind,...) instead of COPY",
    ),
    "test-pycache": ("bytecode of tests", "add `**/__pycache__` to .dockerignore"),
}


@dataclass(frozen=True)
class Waste:
    """One kind of waste: what it is, the bytes, where, and the fix."""

    kind: str
    what: str
    size: int
    paths: tuple[str, ...]
    fix: str

    def render(self) -> str:
        """``what (size): paths; fix: ...``."""
        shown = ", ".join(self.paths[:3]) + (
            f" and {len(self.paths) - 3} more" if len(self.paths) > 3 else ""
        )
        return f"{self.what} ({format_size(self.size)}): {shown}; fix: {self.fix}"


# What the scan finds that is intended content, not waste: the project's tests in /app
# are what `--in-image` runs (the suite runs from /app in the image), so an image carries
# them on purpose; they are shown on the stage's line, never counted against the limit.
INTENDED = {"app-tests": "its tests for --in-image"}


def intended(entries: Iterable[Mapping[str, object]]) -> list[tuple[str, int]]:
    """(what, bytes) for each kind of intended content found (see INTENDED)."""
    sizes: dict[str, int] = {}
    for entry in entries:
        kind, size = str(entry.get("kind", "")), entry.get("size", 0)
        if kind in INTENDED and isinstance(size, int):
            sizes[kind] = sizes.get(kind, 0) + size
    return [(INTENDED[kind], size) for kind, size in sorted(sizes.items())]


def waste_problem(found: Sequence[Waste], limit: int | None) -> str | None:
    """The image check's failure when the waste is over ``limit`` bytes (None: never):
    its size, each kind with its paths and fix, and how to change the limit."""
    total = sum(waste.size for waste in found)
    if limit is None or total <= limit:
        return None
    return (
        f"the image carries {format_size(total)} of waste, over the {format_size(limit)} "
        "that [tool.noxgrid.docker] waste allows (waste filled the disks of CI runners):\n    "
        + "\n    ".join(waste.render() for waste in found)
        + '\n  fix: the fixes above; or raise the limit (waste = "50MB"), or list waste '
        'without failing (waste = "note")'
    )


def waste_findings(entries: Iterable[Mapping[str, object]], minimum: int = 1) -> list[Waste]:
    """One finding per kind of waste of at least ``minimum`` bytes, largest first."""
    by_kind: dict[str, list[tuple[str, int]]] = {}
    for entry in entries:
        kind = str(entry.get("kind", ""))
        if kind in _WHAT:
            size = entry.get("size", 0)
            by_kind.setdefault(kind, []).append(
                (str(entry.get("path", "")), int(size) if isinstance(size, int) else 0)
            )
    found = []
    for kind, items in by_kind.items():
        total = sum(size for _, size in items)
        if total < minimum:
            continue
        what, fix = _WHAT[kind]
        paths = tuple(path for path, _ in sorted(items, key=lambda item: -item[1]))
        found.append(Waste(kind=kind, what=what, size=total, paths=paths, fix=fix))
    return sorted(found, key=lambda waste: -waste.size)
