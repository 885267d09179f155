"""Whether a repository ships a GPU build: GPU requirement files, GPU Dockerfiles, a
CUDA base image, GPU-only pins.

Pure: reads files, starts no process. ``noxgrid init`` proposes a gpu accelerator
only where this finds something, and says what it found (file and line).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

# Folders that hold no file of the project's own build.
SKIP = {
    ".git",
    ".noxgrid",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    "env",
    "node_modules",
    "__pycache__",
    "site-packages",
    "build",
    "dist",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
}
DEPTH = 4
_GPU_NAME = re.compile(r"(?:^|[-_.])(?:gpu|cuda\d*|cu1\d{1,2})(?:[-_.]|$)", re.IGNORECASE)
_CUDA_BASE = re.compile(
    r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S*(?:nvidia/cuda|nvcr\.io/nvidia/|cuda\d|-cuda|cudnn)\S*)",
    re.IGNORECASE,
)
# Pins that only a GPU build asks for.
_GPU_PIN = re.compile(
    r"^\s*(onnxruntime-gpu|cupy(?:-cuda\w*)?|faiss-gpu\S*|tensorflow\[and-cuda\]|"
    r"nvidia-[\w-]*cu1\d\w*|[\w.-]+==[\w.]+\+cu1\d+)\b|"
    r"download\.pytorch\.org/whl/(cu1\d+)",
    re.IGNORECASE,
)
_METADATA = ("pyproject.toml", "setup.cfg", "setup.py")


@dataclass(frozen=True)
class GpuEvidence:
    """One sign of a GPU build: where, and what."""

    where: str
    what: str

    def render(self) -> str:
        """``where (what)``."""
        return f"{self.where} ({self.what})"


def _files(root: Path) -> Iterator[Path]:
    """The files under ``root`` (``DEPTH`` folders down), skipping tools' and venvs' folders."""
    stack = [(root, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir() and not entry.is_symlink():
                if entry.name not in SKIP and depth < DEPTH:
                    stack.append((entry, depth + 1))
            elif entry.is_file():
                yield entry


def is_dockerfile(path: Path) -> bool:
    """``Dockerfile``, ``Dockerfile.gpu``, ``gpu.Dockerfile``."""
    name = path.name.lower()
    return name.startswith("dockerfile") or name.endswith(".dockerfile")


def is_requirement_file(path: Path) -> bool:
    """A pip requirement file: ``requirements*.txt``, ``*.in``, or any .txt under a
    ``requirements`` folder."""
    name = path.name.lower()
    if path.suffix not in (".txt", ".in"):
        return False
    return "requirements" in name or path.parent.name.lower().startswith("requirements")


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[:200_000].splitlines()
    except OSError:
        return []


def _read(path: Path, where: str, dockerfile: bool) -> Iterator[GpuEvidence]:
    for number, line in enumerate(_lines(path), start=1):
        if dockerfile:
            base = _CUDA_BASE.match(line)
            if base:
                yield GpuEvidence(f"{where}:{number}", f"FROM {base.group(1)}")
            continue
        pin = _GPU_PIN.search(line.split("#", 1)[0].strip().strip("\"',"))
        if pin:
            yield GpuEvidence(f"{where}:{number}", line.strip().strip("\"',")[:80])


def gpu_evidence(root: Path) -> list[GpuEvidence]:
    """Every sign that the repository builds for GPUs, in file order."""
    found: list[GpuEvidence] = []
    for path in sorted(_files(root)):
        where = path.relative_to(root).as_posix()
        dockerfile = is_dockerfile(path)
        requirements = is_requirement_file(path)
        if not (dockerfile or requirements or path.name in _METADATA):
            continue
        if (dockerfile or requirements) and _GPU_NAME.search(path.name):
            found.append(GpuEvidence(where, "a GPU build's file"))
        found += _read(path, where, dockerfile)
    # One entry per file and reason is enough to show.
    unique: dict[tuple[str, str], GpuEvidence] = {}
    for item in found:
        unique.setdefault((item.where, item.what), item)
    return list(unique.values())


def torch_backend_needed(names: set[str]) -> bool:
    """True when the project asks for torch by name (its PyPI build is the CUDA one)."""
    return bool(names & {"torch", "torchvision", "torchaudio"})


_GPU_SUFFIX = re.compile(r"-gpu(?:-cu\d+)?$")


@dataclass(frozen=True)
class GpuSwaps:
    """How a GPU requirement file differs from the CPU one, by name: the swaps an
    accelerator's ``replace`` can make (cpu name -> gpu name), and the GPU file's
    names that have no CPU counterpart (with their lines)."""

    replace: dict[str, str]
    unmatched: list[tuple[str, int]]


def gpu_swaps(cpu: Collection[str], gpu: Mapping[str, int]) -> GpuSwaps:
    """``gpu`` (canonical name -> line) against ``cpu`` (canonical names): a GPU name
    takes the place of its CPU build's (``onnxruntime-gpu`` of ``onnxruntime``,
    ``faiss-gpu-cu12`` of ``faiss-cpu``, ``tensorflow`` of ``tensorflow-cpu``)."""
    replace: dict[str, str] = {}
    unmatched: list[tuple[str, int]] = []
    for name, line in gpu.items():
        if name in cpu:
            continue
        suffix = _GPU_SUFFIX.search(name)
        base = name[: suffix.start()] if suffix else None
        candidates = [base, f"{base}-cpu"] if base else [f"{name}-cpu"]
        found = next((c for c in candidates if c in cpu and c not in gpu), None)
        if found is None or found in replace:
            unmatched.append((name, line))
        else:
            replace[found] = name
    return GpuSwaps(replace, unmatched)
