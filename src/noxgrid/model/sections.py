"""The tables of ``[tool.noxgrid]`` below the axes: profiles, accelerators, policy, suite,
docker, workflow. Each reader takes its defaults from the dataclass it fills, so a
default is written once, in ``model.config``.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from noxgrid.model.config import (
    _NAME,
    CPU_FORBID_DEFAULT,
    DEFAULT_ACCELERATORS,
    DEFAULT_EXCLUSIVE,
    GPU_RUN_ARGS,
    Accelerator,
    CheckConfig,
    DockerConfig,
    Health,
    Policy,
    Profile,
    Suite,
    default,
    parse_duration,
    parse_size,
)
from noxgrid.model.localpkg import project_problem
from noxgrid.model.table import Table, type_name


def resolve_path(root: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else root / path


def is_inside(path: Path, root: Path) -> bool:
    """True when ``path``, symlinks followed, is ``root`` or below it."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        return False


def read_accelerators(reader: Table) -> dict[str, Accelerator]:
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
            base_image=table.string("base-image", default(Accelerator, "base_image")),
            torch_backend=table.optional_string(
                "torch-backend", default(Accelerator, "torch_backend")
            ),
            forbid=table.str_list("forbid", CPU_FORBID_DEFAULT if name == "cpu" else ()),
            replace=tuple(sorted(table.str_map("replace").items())),
            runs_on=table.str_or_list("runs-on", default(Accelerator, "runs_on")),
            run_args=table.str_list(
                "run-args", GPU_RUN_ARGS if is_gpu else default(Accelerator, "run_args")
            ),
            index_url=table.optional_string("index-url", default(Accelerator, "index_url")),
            extra_index_urls=table.str_list(
                "extra-index-urls", default(Accelerator, "extra_index_urls")
            ),
        )
        table.done()
    tables.done()
    return result


def read_profiles(reader: Table, root: Path) -> dict[str, Profile]:
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
        files = table.str_list("requirements", ())
        extras = table.str_list("extras", default(Profile, "extras"))
        groups = table.str_list("groups", default(Profile, "groups"))
        if not files and not extras and not groups:
            table.fail(
                "requirements",
                f"profile '{name}' asks for nothing: no requirement files, extras or groups",
                f'add requirements = ["requirements/{name}.in"] (and create that file), or '
                'extras = ["test"], or groups = ["test"] ([dependency-groups], PEP 735)',
            )
        paths = []
        for index, entry in enumerate(files):
            path = resolve_path(root, entry)
            if not is_inside(path, root):
                table.fail(
                    f"requirements[{index}]",
                    f"'{entry}' is outside the project folder {root} (resolved, symlinks "
                    f"followed: {path.resolve()})",
                    "keep requirement files inside the project and name them relative to it, "
                    f'for example "requirements/{name}.in"',
                )
                continue
            if not path.is_file():
                table.fail(
                    f"requirements[{index}]",
                    f"requirement file '{entry}' does not exist (looked at {path})",
                    f"create {path}, or correct the path (relative to {root})",
                )
                continue
            paths.append(path)
        result[name] = Profile(
            name=name,
            requirements=tuple(paths),
            extras=extras,
            groups=groups,
            apt=table.str_list("apt", default(Profile, "apt")),
            size_budget=_size_budget(table),
            install_project=table.boolean("install-project", default(Profile, "install_project")),
            source_builds=_source_builds(table),
            local_packages=_local_packages(table, root),
        )
        table.done()
    tables.done()
    return result


def _size_budget(table: Table) -> int | None:
    text = table.optional_string("size-budget", None)
    if text is None:
        return None
    try:
        return parse_size(text)
    except ValueError:
        table.fail(
            "size-budget",
            f"'{text}' is not a size",
            'write a number and a unit, for example "600MB" or "3GiB"',
        )
        return None


def _source_builds(table: Table) -> tuple[str, ...]:
    value = table.raw("source-builds", [])
    if isinstance(value, bool):
        return ("*",) if value else ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        table.fail(
            "source-builds",
            f"expected true, false or a list of package names, got {type_name(value)}",
            'write source-builds = ["gmpy"] (the packages that may build from an sdist)',
        )
        return ()
    return tuple(value)


def _local_packages(table: Table, root: Path) -> tuple[Path, ...]:
    """``local-packages``: folders of Python projects inside the project, installed
    ``--no-deps`` after the lock."""
    paths = []
    for index, entry in enumerate(table.str_list("local-packages", ())):
        path = resolve_path(root, entry)
        problem = project_problem(path, root)
        if problem:
            table.fail(
                f"local-packages[{index}]",
                f"'{entry}' cannot be installed as a local package: {problem}",
                "name a folder inside the project that holds a pyproject.toml or setup.py, "
                f'relative to {root} (for example "./sub_package")',
            )
            continue
        if path.resolve() in paths:
            table.fail(f"local-packages[{index}]", f"'{entry}' is listed twice", "list it once")
            continue
        paths.append(path.resolve())
    return tuple(paths)


def read_policy(reader: Table) -> Policy:
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
        forbid_gui_opencv=table.boolean("forbid-gui-opencv", default(Policy, "forbid_gui_opencv")),
    )
    table.done()
    return policy


def read_suite(reader: Table) -> Suite:
    table = reader.table("suite")
    command = table.str_list("command", default(Suite, "command"))
    if not command:
        table.fail("command", "the suite command is empty", 'write command = ["pytest"]')
        command = default(Suite, "command")
    suite = Suite(
        command=command,
        setup=_setup_steps(table),
        gpu_marker=table.string("gpu-marker", default(Suite, "gpu_marker")),
        env=tuple(sorted(table.str_map("env").items())),
        timeout=_duration(table, "timeout", default(Suite, "timeout")),
    )
    table.done()
    return suite


# Shell syntax in a setup step written as a string: noxgrid runs no shell, so these
# would reach the program as plain arguments.
_SHELL_WORDS = ("&&", "||", ";", "|", ">", ">>", "<", "2>&1", "&")


def _setup_steps(table: Table) -> tuple[tuple[str, ...], ...]:
    """``setup``: argv lists (or strings split as a shell would, but run without one)."""
    value = table.raw("setup", [])
    example = 'setup = [["cp", ".env.example", ".env"], "python scripts/gen.py"]'
    if not isinstance(value, list):
        table.fail("setup", f"expected a list of commands, got {type_name(value)}", example)
        return ()
    steps = []
    for index, step in enumerate(value):
        key = f"setup[{index}]"
        if isinstance(step, str):
            try:
                argv = tuple(shlex.split(step))
            except ValueError as error:
                table.fail(key, f"cannot split {step!r} into words: {error}", example)
                continue
            shell = [word for word in argv if word in _SHELL_WORDS or word.startswith(("$(", "`"))]
            if shell:
                table.fail(
                    key,
                    f"{step!r} uses shell syntax ({shell[0]}), but setup steps run without a shell",
                    "write one step per command, as argv lists: "
                    'setup = [["cp", ".env.example", ".env"], ["python", "gen.py"]]',
                )
                continue
        elif isinstance(step, list) and all(isinstance(word, str) for word in step):
            argv = tuple(step)
        else:
            table.fail(key, f"expected an argv list or a string, got {type_name(step)}", example)
            continue
        if not argv or not argv[0]:
            table.fail(key, "the step is empty", example)
            continue
        steps.append(argv)
    return tuple(steps)


def read_docker(reader: Table) -> DockerConfig:
    table = reader.table("docker")
    health_table = table.table("health")
    port = health_table.integer("port", default(Health, "port"))
    if not 0 < port < 65536:
        health_table.fail("port", f"{port} is not a TCP port", "use a number from 1 to 65535")
        port = default(Health, "port")
    health = Health(
        path=health_table.string("path", default(Health, "path")),
        port=port,
        timeout=_duration(health_table, "timeout", default(Health, "timeout")),
    )
    health_table.done()
    docker = DockerConfig(
        dockerfile=table.string("dockerfile", default(DockerConfig, "dockerfile")),
        image=table.optional_string("image", default(DockerConfig, "image")),
        health=health,
        env=tuple(sorted(table.str_map("env").items())),
        command=table.optional_string("command", default(DockerConfig, "command")),
        base_image_map=tuple(table.str_map("base-image-map").items()),
        source=table.optional_string("source", default(DockerConfig, "source")),
        waste=_waste_limit(table),
    )
    table.done()
    return docker


def _waste_limit(table: Table) -> int | None:
    """``waste = "10MB"``: over it, waste fails the image; ``waste = "note"``: only noted."""
    text = table.optional_string("waste", None)
    fallback: int | None = default(DockerConfig, "waste")
    if text is None:
        return fallback
    if text.strip().lower() == "note":
        return None
    try:
        return parse_size(text)
    except ValueError:
        table.fail(
            "waste",
            f"'{text}' is neither a size nor \"note\"",
            'write the most waste an image may carry, for example "10MB" (more fails the '
            'image check), or "note" to list waste without failing',
        )
        return fallback


# What a timeout may be: a second at least, and no longer than the longest CI job (72h).
MIN_DURATION, MAX_DURATION = 1.0, 72 * 3600.0


def _duration(table: Table, key: str, seconds: float) -> float:
    """A duration key ("90s", "5m"), or ``seconds`` where it is not set."""
    text = table.string(key, "")
    if not text:
        return seconds
    try:
        value = parse_duration(text)
    except ValueError:
        table.fail(key, f"'{text}' is not a duration", 'write a number and a unit: "90s", "5m"')
        return seconds
    if not MIN_DURATION <= value <= MAX_DURATION:
        table.fail(
            key,
            f"'{text}' is {'too short' if value < MIN_DURATION else 'too long'} to be a timeout",
            'use 1s to 72h (the longest a CI job may run), for example "90s", "30m"',
        )
        return seconds
    return value


def read_check(reader: Table) -> CheckConfig:
    """``[tool.noxgrid.check]``: ``ignore``, globs of files that are not CI."""
    table = reader.table("check")
    patterns = []
    for index, pattern in enumerate(table.str_list("ignore", default(CheckConfig, "ignore"))):
        if not pattern.strip() or pattern.startswith("/") or ".." in Path(pattern).parts:
            table.fail(
                f"ignore[{index}]",
                f"{pattern!r} is not a glob inside the project",
                'write a path or glob relative to the project, such as ".github/workflows/'
                'publish.yml" or "scripts/*"',
            )
            continue
        patterns.append(pattern)
    table.done()
    return CheckConfig(ignore=tuple(patterns))
