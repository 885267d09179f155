"""Read and validate ``[tool.noxgrid]`` from a project's ``pyproject.toml``.

The result is a frozen :class:`Config`. Every problem of a file is found in
one reading and reported at once, as one :class:`ConfigError` that names the
file and, for each problem, the key path and the fix. Pure: reads files,
starts no process.
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from noxgrid._version import __version__
from noxgrid.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

T = TypeVar("T")

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
    apt: tuple[str, ...] = ()
    size_budget: int | None = None
    install_project: bool = True
    # Packages allowed to be built from source (no wheel for the cell); "*" for any.
    source_builds: tuple[str, ...] = ()

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
class Docker:
    """The one Dockerfile and the image name its cell targets are tagged with."""

    dockerfile: str = "docker/Dockerfile"
    image: str | None = None
    health: Health = field(default_factory=Health)
    env: tuple[tuple[str, str], ...] = ()
    command: str | None = None
    base_image_map: tuple[tuple[str, str], ...] = ()
    source: str | None = None


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
    timeout_minutes: int = 60
    self_hosted_fork_prs: bool = False


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
    index_url: str = "https://pypi.org/simple"
    policy: Policy = field(default_factory=Policy)
    workflow: Workflow = field(default_factory=Workflow)
    suite: Suite = field(default_factory=Suite)
    docker: Docker = field(default_factory=Docker)

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


def find_pyproject(start: Path) -> Path:
    """The nearest ``pyproject.toml`` at or above ``start``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no pyproject.toml found in {start} or any folder above it",
        fix="run noxgrid inside the project (or pass --project DIR), "
        "or create pyproject.toml with a [tool.noxgrid] table",
    )


def load_config(path: Path | str | None = None) -> Config:
    """Load ``[tool.noxgrid]`` from ``path`` (a pyproject.toml or its folder)."""
    target = Path(path) if path is not None else Path.cwd()
    pyproject = find_pyproject(target) if target.is_dir() else target
    if not pyproject.is_file():
        raise ConfigError(
            f"{pyproject}: file not found",
            fix="pass the path of the project's pyproject.toml or of its folder",
        )
    try:
        with pyproject.open("rb") as stream:
            document = tomllib.load(stream)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{pyproject}: not valid TOML: {exc}",
            fix="correct the syntax at the line named above",
        ) from exc
    return parse_config(document, pyproject)


def parse_config(document: Mapping[str, Any], pyproject: Path) -> Config:
    """Validate a parsed pyproject document into a :class:`Config`."""
    tool = document.get("tool", {})
    if not isinstance(tool, Mapping) or "noxgrid" not in tool:
        raise ConfigError(
            f"{pyproject}: no [tool.noxgrid] table",
            fix="add a [tool.noxgrid] table with at least one "
            "[tool.noxgrid.profile.<name>] that lists requirement files "
            "(see the configuration reference in noxgrid's README)",
        )
    problems: list[tuple[str, str, str]] = []
    reader = _Table(tool["noxgrid"], "tool.noxgrid", pyproject, problems)
    root = pyproject.parent.resolve()
    project = document.get("project", {})
    project = project if isinstance(project, Mapping) else {}

    pythons = reader.versions("python", DEFAULT_PYTHONS)
    accelerators = _accelerators(reader)
    profiles = _profiles(reader, root)
    # The axes' order and subset: every declared table, unless the axis names fewer.
    order = reader.str_list("profiles", tuple(profiles))
    _check_axis_values(reader, "profiles", order, tuple(profiles))
    profiles = {name: profiles[name] for name in order if name in profiles}
    order = reader.str_list("accelerators", tuple(accelerators))
    _check_axis_values(reader, "accelerators", order, tuple(accelerators))
    accelerators = {name: accelerators[name] for name in order if name in accelerators}
    names = {"python": pythons, "accelerator": tuple(accelerators), "profile": tuple(profiles)}
    exclude = _cell_filters(reader, "exclude", names, require_known=True)
    include = _cell_filters(reader, "include", names, require_known=False)

    interpreters_table = reader.table("interpreters")
    interpreters = {}
    for version in interpreters_table.names():
        if not _VERSION.match(version):
            interpreters_table.fail(
                version,
                f"'{version}' is not a Python version",
                'use the version as key: "3.10" = "/path/to/python3.10"',
            )
            continue
        location = interpreters_table.string(version, "")
        if not location:
            interpreters_table.fail(
                version, "no path given", f'write "{version}" = "/path/to/python{version}"'
            )
            continue
        interpreters[version] = _resolve(root, location)
    interpreters_table.done()

    config = Config(
        root=root,
        pyproject=pyproject,
        project_name=project.get("name") if isinstance(project.get("name"), str) else None,
        requires_python=project.get("requires-python")
        if isinstance(project.get("requires-python"), str)
        else None,
        pythons=pythons,
        accelerators=accelerators,
        profiles=profiles,
        exclude=exclude,
        include=include,
        interpreters=interpreters,
        reports_dir=_resolve(root, reader.string("reports", ".noxgrid/reports")),
        venvs_dir=_resolve(root, reader.string("venvs", ".noxgrid/venvs")),
        locks_dir=_resolve(root, reader.string("locks", "requirements/locks")),
        platform=reader.string("platform", "x86_64-manylinux_2_28"),
        index_url=reader.string("index-url", "https://pypi.org/simple").rstrip("/"),
        policy=_policy(reader),
        workflow=_workflow(reader),
        suite=_suite(reader),
        docker=_docker(reader),
    )
    reader.done()
    if problems:
        raise config_problems(pyproject, problems)
    return config


def config_problems(pyproject: Path, problems: list[tuple[str, str, str]]) -> ConfigError:
    """One error for every problem found in ``pyproject``: (key path, problem, fix) each."""
    if len(problems) == 1:
        key, problem, fix = problems[0]
        return ConfigError(f"{pyproject}: {key}: {problem}", fix=fix)
    lines = [f"{pyproject}: {len(problems)} problems in the configuration:"]
    for key, problem, fix in problems:
        lines.append(f"- {key}: {problem}\n  fix: {_indent_fix(fix)}")
    return ConfigError("\n".join(lines))


def _indent_fix(fix: str) -> str:
    return fix.replace("\n", "\n  ")


def _resolve(root: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else root / path


def _check_axis_values(
    reader: _Table, key: str, order: tuple[str, ...], declared: tuple[str, ...]
) -> None:
    if not order:
        reader.fail(key, "the axis is empty", f"list at least one of: {', '.join(declared)}")
    for value in order:
        if value not in declared:
            table = "profile" if key == "profiles" else "accelerator"
            reader.fail(
                key,
                f"'{value}' has no [tool.noxgrid.{table}.{value}] table",
                f"add that table, or use one of: {', '.join(declared) or '(none declared)'}",
            )


def _accelerators(reader: _Table) -> dict[str, Accelerator]:
    tables = reader.table("accelerator")
    # cpu and gpu always exist (tables only adjust them); other names are added.
    names = [*DEFAULT_ACCELERATORS, *(n for n in tables.names() if n not in DEFAULT_ACCELERATORS)]
    result = {}
    for name in names:
        if not _NAME.match(name):
            tables.fail(name, f"'{name}' is not a valid accelerator name", "use [a-z][a-z0-9_]*")
            continue
        table = tables.table(name)
        is_gpu = name != "cpu"
        result[name] = Accelerator(
            name=name,
            needs_gpu=table.boolean("needs-gpu", is_gpu),
            base_image=table.string("base-image", "python:{python}-slim-bookworm"),
            torch_backend=table.optional_string("torch-backend", None),
            forbid=table.str_list("forbid", CPU_FORBID_DEFAULT if name == "cpu" else ()),
            replace=tuple(sorted(table.str_map("replace").items())),
            runs_on=table.str_or_list("runs-on", ("ubuntu-latest",)),
            run_args=table.str_list("run-args", ("--gpus", "all") if is_gpu else ()),
            index_url=table.optional_string("index-url", None),
            extra_index_urls=table.str_list("extra-index-urls", ()),
        )
        table.done()
    tables.done()
    return result


def _profiles(reader: _Table, root: Path) -> dict[str, Profile]:
    tables = reader.table("profile")
    if not tables.names():
        reader.fail(
            "profile",
            "no profile is declared",
            "add a table such as\n"
            "    [tool.noxgrid.profile.lean]\n"
            '    requirements = ["requirements/lean.in"]',
        )
    result = {}
    for name in tables.names():
        if not _NAME.match(name):
            tables.fail(name, f"'{name}' is not a valid profile name", "use [a-z][a-z0-9_]*")
            continue
        table = tables.table(name)
        files = table.str_list("requirements", None)
        if not files:
            table.fail(
                "requirements",
                f"profile '{name}' lists no requirement files",
                f'add requirements = ["requirements/{name}.in"] and create that file '
                "(one requirement per line, as pip reads it)",
            )
        paths = []
        for index, entry in enumerate(files):
            path = _resolve(root, entry)
            if not path.is_file():
                table.fail(
                    f"requirements[{index}]",
                    f"requirement file '{entry}' does not exist (looked at {path})",
                    f"create {path}, or correct the path (relative to {root})",
                )
                continue
            paths.append(path)
        budget_text = table.optional_string("size-budget", None)
        budget = None
        if budget_text is not None:
            try:
                budget = parse_size(budget_text)
            except ValueError:
                table.fail(
                    "size-budget",
                    f"'{budget_text}' is not a size",
                    'write a number and a unit, for example "600MB" or "3GiB"',
                )
        result[name] = Profile(
            name=name,
            requirements=tuple(paths),
            extras=table.str_list("extras", ()),
            apt=table.str_list("apt", ()),
            size_budget=budget,
            install_project=table.boolean("install-project", True),
            source_builds=_source_builds(table),
        )
        table.done()
    tables.done()
    return result


def _source_builds(table: _Table) -> tuple[str, ...]:
    value = table.raw("source-builds", [])
    if isinstance(value, bool):
        return ("*",) if value else ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        table.fail(
            "source-builds",
            f"expected true, false or a list of package names, got {_type_name(value)}",
            'write source-builds = ["gmpy"] (the packages that may build from an sdist)',
        )
        return ()
    return tuple(value)


def _cell_filters(
    reader: _Table, key: str, names: Mapping[str, tuple[str, ...]], *, require_known: bool
) -> tuple[Mapping[str, str], ...]:
    raw = reader.raw(key, [])
    if not isinstance(raw, list):
        reader.fail(
            key,
            f"expected a list of tables, got {_type_name(raw)}",
            f'write {key} = [{{ python = "3.9", accelerator = "gpu" }}]',
        )
        return ()
    result = []
    for index, entry in enumerate(raw):
        where = f"{key}[{index}]"
        if not isinstance(entry, Mapping) or not entry:
            reader.fail(
                where,
                f"expected a table of axis values, got {_type_name(entry)}",
                f'write {{ python = "3.9", accelerator = "gpu" }} (axes: {", ".join(AXES)})',
            )
            continue
        item = {}
        valid = True
        for axis, value in entry.items():
            if axis not in AXES:
                reader.fail(
                    f"{where}.{axis}",
                    f"'{axis}' is not an axis",
                    f"use one of: {', '.join(AXES)}",
                )
                valid = False
                continue
            if axis == "python" and isinstance(value, float):
                reader.fail(
                    f"{where}.python",
                    f"the version is the number {value}",
                    f'quote it: python = "{value}" (TOML reads 3.10 as the number 3.1)',
                )
                valid = False
                continue
            known = names[axis]
            if not isinstance(value, str):
                reader.fail(
                    f"{where}.{axis}",
                    f"expected a string, got {_type_name(value)}",
                    f'write {axis} = "{known[0] if known else "..."}"',
                )
                valid = False
                continue
            if value not in known and (require_known or axis != "python"):
                reader.fail(
                    f"{where}.{axis}",
                    f"'{value}' is not a value of the {axis} axis, so this {key} "
                    + ("can never match a cell" if require_known else "names nothing declared"),
                    f"use one of: {', '.join(known)}",
                )
                valid = False
                continue
            item[axis] = value
        if not valid:
            continue
        if not require_known and set(item) != set(AXES):
            missing = ", ".join(axis for axis in AXES if axis not in item)
            reader.fail(
                where,
                f"an included cell needs every axis; missing: {missing}",
                'write { python = "3.12", accelerator = "cpu", profile = "lean" }',
            )
            continue
        result.append(item)
    return tuple(result)


def _workflow(reader: _Table) -> Workflow:
    table = reader.table("workflow")
    install = table.string("install", f"noxgrid=={__version__}")
    if _unpinned_noxgrid(install):
        table.fail(
            "install",
            f"'{install}' installs whatever noxgrid release is newest when CI runs",
            f'pin it: install = "noxgrid=={__version__}" (or a local path such as "-e .")',
        )
    minutes = table.integer("timeout-minutes", 60)
    if not 0 < minutes <= 4320:
        table.fail("timeout-minutes", f"{minutes} is not a job timeout", "use 1 to 4320 minutes")
        minutes = 60
    requirements = table.optional_string("install-requirements", None)
    if requirements is not None:
        problem = _hash_pinned_problem(reader.file.parent / requirements)
        if problem:
            table.fail(
                "install-requirements",
                f"{requirements}: {problem}",
                "make it with uv pip compile --generate-hashes --python-version 3.11 "
                "--python-platform x86_64-manylinux_2_28 (noxgrid==X.Y.Z as its input)",
            )
    workflow = Workflow(
        path=table.string("path", ".github/workflows/ci.yml"),
        directory=table.string("directory", "."),
        install=install,
        install_requirements=requirements,
        timeout_minutes=minutes,
        self_hosted_fork_prs=table.boolean("self-hosted-fork-prs", False),
    )
    table.done()
    return workflow


def _hash_pinned_problem(path: Path) -> str | None:
    """Why ``path`` is not a hash-pinned requirements file holding noxgrid (None: it is)."""
    if not path.is_file():
        return f"no such file (looked at {path})"
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    names = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        head = line.split()[0]
        if "==" not in head or "--hash=" not in line:
            return f"`{head}` is not pinned with == and --hash"
        names.append(head.split("==")[0].split("[")[0].lower())
    if "noxgrid" not in names:
        return "it does not hold noxgrid"
    return None


def _unpinned_noxgrid(install: str) -> bool:
    """True when the install line asks for noxgrid from an index without ``==`` a version."""
    for word in install.split():
        name = re.split(r"[\[<>=!~; ]", word, maxsplit=1)[0]
        if name.lower() == "noxgrid" and "==" not in word:
            return True
    return False


def _policy(reader: _Table) -> Policy:
    table = reader.table("policy")
    extra = table.raw("exclusive", [])
    if not isinstance(extra, list) or not all(
        isinstance(group, list) and len(group) >= 2 and all(isinstance(n, str) for n in group)
        for group in extra
    ):
        table.fail(
            "exclusive",
            "expected a list of groups, each a list of two or more package names",
            'write exclusive = [["pillow", "pillow-simd"]]',
        )
        extra = []
    policy = Policy(
        exclusive=DEFAULT_EXCLUSIVE + tuple(tuple(group) for group in extra),
        forbid_gui_opencv=table.boolean("forbid-gui-opencv", True),
    )
    table.done()
    return policy


def _suite(reader: _Table) -> Suite:
    table = reader.table("suite")
    command = table.str_list("command", ("pytest",))
    if not command:
        table.fail("command", "the suite command is empty", 'write command = ["pytest"]')
        command = ("pytest",)
    timeout_text = table.string("timeout", "60m")
    suite = Suite(
        command=command,
        gpu_marker=table.string("gpu-marker", "gpu"),
        env=tuple(sorted(table.str_map("env").items())),
        timeout=_duration(table, "timeout", timeout_text, 3600.0),
    )
    table.done()
    return suite


def _docker(reader: _Table) -> Docker:
    table = reader.table("docker")
    health_table = table.table("health")
    port = health_table.integer("port", 8000)
    if not 0 < port < 65536:
        health_table.fail("port", f"{port} is not a TCP port", "use a number from 1 to 65535")
        port = 8000
    health = Health(
        path=health_table.string("path", "/ready"),
        port=port,
        timeout=_duration(health_table, "timeout", health_table.string("timeout", "60s")),
    )
    health_table.done()
    docker = Docker(
        dockerfile=table.string("dockerfile", "docker/Dockerfile"),
        image=table.optional_string("image", None),
        health=health,
        env=tuple(sorted(table.str_map("env").items())),
        command=table.optional_string("command", None),
        base_image_map=tuple(table.str_map("base-image-map").items()),
        source=table.optional_string("source", None),
    )
    table.done()
    return docker


def _duration(table: _Table, key: str, text: str, default: float = 60.0) -> float:
    try:
        return parse_duration(text)
    except ValueError:
        table.fail(key, f"'{text}' is not a duration", 'write a number and a unit: "90s", "5m"')
        return default


def _type_name(value: object) -> str:
    return {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "a boolean",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


class _Table:
    """One TOML table being read: typed getters, key paths and unknown-key checks.

    A problem is recorded (key path, problem, fix) in the list every table of
    one file shares, and the getter answers its default, so that reading goes
    on and the file's every problem is reported at once.
    """

    def __init__(
        self, data: object, path: str, file: Path, problems: list[tuple[str, str, str]]
    ) -> None:
        self.problems = problems
        self.path = path
        self.file = file
        self.seen: set[str] = set()
        if not isinstance(data, Mapping):
            problems.append(
                (
                    path,
                    f"must be a table, got {_type_name(data)}",
                    f"write it as a [{path}] section",
                )
            )
            data = {}
        self.data: Mapping[str, Any] = data

    def fail(self, key: str, problem: str, fix: str) -> None:
        """Record a problem with ``key`` of this table."""
        self.problems.append((f"{self.path}.{key}", problem, fix))

    def names(self) -> list[str]:
        self.seen.update(self.data)
        return list(self.data)

    def raw(self, key: str, default: object) -> Any:
        self.seen.add(key)
        return self.data.get(key, default)

    def _typed(
        self, key: str, default: T, check: Callable[[object], bool], expected: str, example: str
    ) -> T:
        value = self.raw(key, default)
        if value is not default and not check(value):
            self.fail(
                key, f"expected {expected}, got {_type_name(value)}", f"write {key} = {example}"
            )
            return default
        return value  # type: ignore[no-any-return]

    def string(self, key: str, default: str) -> str:
        return self._typed(key, default, lambda v: isinstance(v, str), "a string", '"..."')

    def optional_string(self, key: str, default: str | None) -> str | None:
        return self._typed(key, default, lambda v: isinstance(v, str), "a string", '"..."')

    def boolean(self, key: str, default: bool) -> bool:
        return self._typed(key, default, lambda v: isinstance(v, bool), "a boolean", "true")

    def integer(self, key: str, default: int) -> int:
        return self._typed(
            key,
            default,
            lambda v: isinstance(v, int) and not isinstance(v, bool),
            "an integer",
            "8000",
        )

    def str_list(self, key: str, default: tuple[str, ...] | None) -> tuple[str, ...]:
        value = self._typed(
            key,
            default,
            lambda v: isinstance(v, list) and all(isinstance(item, str) for item in v),
            "a list of strings",
            '["..."]',
        )
        return tuple(value or ())

    def str_or_list(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.raw(key, default)
        if isinstance(value, str):
            return (value,)
        return self.str_list(key, default)

    def str_map(self, key: str) -> dict[str, str]:
        value: Mapping[str, str] = self._typed(
            key,
            {},
            lambda v: isinstance(v, Mapping) and all(isinstance(x, str) for x in v.values()),
            "a table of strings",
            '{ NAME = "value" }',
        )
        return dict(value)

    def versions(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.raw(key, list(default))
        if not isinstance(value, list):
            self.fail(
                key,
                f"expected a list of versions, got {_type_name(value)}",
                f'write {key} = ["3.10", "3.11"]',
            )
            return default
        if not value:
            self.fail(key, "the axis is empty", f'list at least one version: {key} = ["3.11"]')
            return default
        good = []
        for item in value:
            if isinstance(item, float):
                self.fail(
                    key,
                    f"the version {item} is a number",
                    f'quote every version: {key} = ["3.9", "3.10", "3.11"] '
                    "(TOML reads 3.10 as the number 3.1)",
                )
            elif not isinstance(item, str) or not _VERSION.match(item):
                self.fail(
                    key,
                    f"{item!r} is not a Python version",
                    f'use "3.X" strings: {key} = ["3.10", "3.11"]',
                )
            elif item in good:
                self.fail(key, f"the version {item} is listed twice", "list each version once")
            else:
                good.append(item)
        return tuple(good)

    def table(self, key: str) -> _Table:
        value = self.raw(key, {})
        if not isinstance(value, Mapping):
            self.fail(
                key,
                f"expected a table, got {_type_name(value)}",
                f"write it as a [{self.path}.{key}] section",
            )
            value = {}
        return _Table(value, f"{self.path}.{key}", self.file, self.problems)

    def done(self) -> None:
        """Record every key that no getter asked for (a typo, most often)."""
        for key in self.data:
            if key not in self.seen:
                known = sorted(self.seen)
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                self.fail(
                    key, "unknown key", f"{hint}known keys here: {', '.join(known) or '(none)'}"
                )
