"""Read and validate ``[tool.noxgrid]`` from a project's ``pyproject.toml``.

The result is a frozen :class:`Config`. Every problem of a file is found in
one reading and reported at once, as one :class:`ConfigError` that names the
file and, for each problem, the key path and the fix. Pure: reads files,
starts no process.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noxgrid._version import __version__

if TYPE_CHECKING:
    from noxgrid.model.allowances import Allowance


DEFAULT_PYTHONS = ("3.9", "3.10", "3.11")

DEFAULT_ACCELERATORS = ("cpu", "gpu")

AXES = ("python", "accelerator", "profile")

_VERSION = re.compile(r"^3\.\d{1,2}$")

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?i?B)\s*$", re.IGNORECASE)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$")

_SIZE_UNITS = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}

_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}

CPU_FORBID_DEFAULT = (
    "nvidia-*",
    "cuda-*",
    "triton",
    "onnxruntime-gpu",
    "cupy-cuda*",
    "faiss-gpu*",
    "*-cu11",
    "*-cu12",
    "*-cu13",
)


@dataclass(frozen=True, kw_only=True)
class Profile:
    """What one profile installs: requirement files, project extras, system packages."""

    name: str
    requirements: tuple[Path, ...]
    extras: tuple[str, ...] = ()
    # PEP 735 dependency groups of pyproject.toml (include-group followed).
    groups: tuple[str, ...] = ()
    apt: tuple[str, ...] = ()
    size_budget: int | None = None
    install_project: bool = True
    # Packages allowed to be built from source (no wheel for the cell); "*" for any.
    source_builds: tuple[str, ...] = ()
    # Python projects inside the repository installed --no-deps after the lock (not
    # from an index): resolved folders, each inside the project root.
    local_packages: tuple[Path, ...] = ()

    def allows_source_build(self, name: str) -> bool:
        """True when the profile lets ``name`` be built from an sdist."""
        from packaging.utils import canonicalize_name

        wanted = {canonicalize_name(n) if n != "*" else "*" for n in self.source_builds}
        return "*" in wanted or canonicalize_name(name) in wanted


@dataclass(frozen=True, kw_only=True)
class Accelerator:
    """How cells of one accelerator resolve, build and run."""

    name: str
    needs_gpu: bool
    base_image: str = "python:{python}-slim-bookworm"
    torch_backend: str | None = None
    forbid: tuple[str, ...] = ()
    replace: tuple[tuple[str, str], ...] = ()
    runs_on: tuple[str, ...] = ("ubuntu-latest",)
    run_args: tuple[str, ...] = ()
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Suite:
    """The test command run in every cell, and how GPU tests are recognised."""

    command: tuple[str, ...] = ("pytest",)
    # argv lists run in order before the command (in the project folder, the venv's bin
    # first on PATH, the suite's env): a failing one fails the suite stage.
    setup: tuple[tuple[str, ...], ...] = ()
    gpu_marker: str = "gpu"
    env: tuple[tuple[str, str], ...] = ()
    timeout: float = 3600.0


@dataclass(frozen=True, kw_only=True)
class Health:
    """Where a started container answers when it is ready."""

    path: str = "/ready"
    port: int = 8000
    timeout: float = 60.0


@dataclass(frozen=True, kw_only=True)
class DockerConfig:
    """The one Dockerfile and the image name its cell targets are tagged with."""

    dockerfile: str = "docker/Dockerfile"
    image: str | None = None
    health: Health = field(default_factory=Health)
    env: tuple[tuple[str, str], ...] = ()
    command: str | None = None
    base_image_map: tuple[tuple[str, str], ...] = ()
    source: str | None = None
    # The most waste (caches, wheels, build tools, apt lists) an image may carry before
    # the image check fails, in bytes; None: waste is only noted (`waste = "note"`).
    waste: int | None = 10_000_000


# Packages of which at most one may be installed: each pair clobbers the
# other's files (cv2, onnxruntime) or pulls a second copy of the same library.
DEFAULT_EXCLUSIVE = (
    (
        "opencv-python",
        "opencv-python-headless",
        "opencv-contrib-python",
        "opencv-contrib-python-headless",
    ),
    ("onnxruntime", "onnxruntime-gpu"),
    ("faiss-cpu", "faiss-gpu", "faiss-gpu-cu11", "faiss-gpu-cu12"),
    ("tensorflow", "tensorflow-cpu"),
)


@dataclass(frozen=True, kw_only=True)
class Policy:
    """Rules every lock is checked against before anything is installed."""

    exclusive: tuple[tuple[str, ...], ...] = DEFAULT_EXCLUSIVE
    forbid_gui_opencv: bool = True


@dataclass(frozen=True, kw_only=True)
class Workflow:
    """How the generated GitHub workflow installs noxgrid and where the project is."""

    path: str = ".github/workflows/ci.yml"
    directory: str = "."
    install: str = f"noxgrid=={__version__}"
    # A hash-pinned requirements file holding noxgrid (pip install --require-hashes -r).
    install_requirements: str | None = None
    # The uv noxgrid runs in CI: the requirements file's pin, else the uv installed with
    # the noxgrid that generates the workflow (setup-uv and the pip line pin it).
    uv: str = ""
    timeout_minutes: int = 60
    self_hosted_fork_prs: bool = False


@dataclass(frozen=True, kw_only=True)
class CheckConfig:
    """What ``noxgrid check`` leaves out: files that are not CI (publish workflows,
    installers), as globs relative to the project (or the repository, for workflows)."""

    ignore: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Config:
    """The validated declaration of one project."""

    root: Path
    pyproject: Path
    project_name: str | None
    requires_python: str | None
    pythons: tuple[str, ...]
    accelerators: Mapping[str, Accelerator]
    profiles: Mapping[str, Profile]
    exclude: tuple[Mapping[str, str], ...] = ()
    include: tuple[Mapping[str, str], ...] = ()
    interpreters: Mapping[str, Path] = field(default_factory=dict)
    reports_dir: Path = Path(".noxgrid/reports")
    venvs_dir: Path = Path(".noxgrid/venvs")
    locks_dir: Path = Path("requirements/locks")
    platform: str = "x86_64-manylinux_2_28"
    # None: the index uv's own settings name (a mirror in UV_DEFAULT_INDEX, uv.toml), else PyPI.
    index_url: str | None = None
    policy: Policy = field(default_factory=Policy)
    workflow: Workflow = field(default_factory=Workflow)
    suite: Suite = field(default_factory=Suite)
    docker: DockerConfig = field(default_factory=DockerConfig)
    # [[tool.noxgrid.allow]]: rules relaxed on purpose (model.allowances).
    allowances: tuple[Allowance, ...] = ()
    check: CheckConfig = field(default_factory=CheckConfig)

    @property
    def cache_dir(self) -> Path:
        """What noxgrid keeps between runs to skip work (layer scans, smoke records)."""
        return self.root / ".noxgrid" / "cache"

    @property
    def repo_root(self) -> Path:
        """The repository's root: the project folder less [tool.noxgrid.workflow] directory."""
        parts = [part for part in Path(self.workflow.directory).parts if part != "."]
        return self.root.parents[len(parts) - 1] if parts else self.root

    @property
    def workflow_file(self) -> Path:
        """Where the generated workflow lives."""
        return self.repo_root / self.workflow.path

    @property
    def release_workflow_file(self) -> Path:
        """Where the generated tag workflow lives: beside the CI one, ``<name>-release.yml``."""
        path = self.workflow_file
        return path.with_name(f"{path.stem}-release{path.suffix}")

    @property
    def accelerator_names(self) -> tuple[str, ...]:
        """Accelerator axis values, in declaration order."""
        return tuple(self.accelerators)

    @property
    def profile_names(self) -> tuple[str, ...]:
        """Profile axis values, in declaration order."""
        return tuple(self.profiles)


def relative_path(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` (POSIX separators), or the whole path when outside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def parse_size(text: str) -> int:
    """``"600MB"`` -> 600_000_000; ``"3GiB"`` -> 3 * 2**30. Raises ValueError."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(text)
    number, unit = match.groups()
    return int(float(number) * _SIZE_UNITS[unit.lower()])


def parse_duration(text: str) -> float:
    """``"60s"`` -> 60.0, ``"2m"`` -> 120.0, ``"500ms"`` -> 0.5. Raises ValueError."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(text)
    number, unit = match.groups()
    return float(number) * _DURATION_UNITS[unit]


# Arguments a GPU accelerator's containers get by default (docker run).
GPU_RUN_ARGS = ("--gpus", "all")


def default(cls: type, name: str) -> Any:
    """The default of dataclass ``cls``'s field ``name``: the one place a default is written."""
    spec = cls.__dataclass_fields__[name]  # type: ignore[attr-defined]
    if spec.default is not MISSING:
        return spec.default
    if spec.default_factory is not MISSING:
        return spec.default_factory()
    raise KeyError(f"{cls.__name__}.{name} has no default")
