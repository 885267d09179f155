"""A thin object over the docker client, and the pure rules for a cell's image.

Pure: base-image mapping, build arguments, image checks. Edge: ``Docker``,
which runs the client through the runner (argv only). noxgrid uses a client
that can do BuildKit builds: ``docker buildx`` where present, else a client
whose built-in BuildKit answers to ``DOCKER_BUILDKIT=1`` (Engine 20.10-22).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from noxgrid.config import Config
from noxgrid.errors import NoxgridError
from noxgrid.matrix import Cell
from noxgrid.runner import Command, LineSink, Outcome, Runner

# What never belongs in an image's build context (written to .dockerignore
# when a project has none, and checked in the built image).
DOCKERIGNORE = (
    ".git",
    ".env",
    ".env.*",
    ".noxgrid",
    ".nox",
    ".venv",
    "**/__pycache__",
    "**/*.pyc",
    "*.egg-info",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "*.sqlite3",
    "reports",
)
TEMPLATE = Path(__file__).resolve().parent / "templates" / "Dockerfile"


def default_dockerignore() -> str:
    """The .dockerignore noxgrid writes where a project has none."""
    return "\n".join(DOCKERIGNORE) + "\n"


class EngineUnavailable(NoxgridError):
    """No Docker engine answers, or no client can do BuildKit builds."""

    exit_code = 6


def parse_image_map(text: str) -> list[tuple[str, str]]:
    """``"a=b;c=d"`` (NOXGRID_BASE_IMAGE_MAP) -> [("a", "b"), ("c", "d")]."""
    pairs = []
    for item in text.split(";"):
        if item.strip():
            source, _, target = item.partition("=")
            pairs.append((source.strip(), target.strip()))
    return pairs


def base_image(config: Config, cell: Cell, env: Mapping[str, str]) -> str:
    """The accelerator's base image for the cell's python, mapped for local registries.

    A map entry matches the template (``python:{python}-slim-bookworm``) or the
    formatted name; the environment's NOXGRID_BASE_IMAGE_MAP wins over the config.
    """
    template = config.accelerators[cell.accelerator].base_image
    name = template.format(python=cell.python)
    mapping = parse_image_map(env.get("NOXGRID_BASE_IMAGE_MAP", "")) + list(
        config.docker.base_image_map
    )
    for source, target in mapping:
        if source in (template, name):
            return target.format(python=cell.python)
    return name


def image_tag(config: Config, cell: Cell) -> str:
    """``<image>:<cell id>``."""
    assert config.docker.image is not None
    return f"{config.docker.image}:{cell.id}"


def git_revision(root: Path) -> str:
    """The checked-out commit, read from .git without running git ("" when unknown)."""
    for folder in (root, *root.parents):
        git = folder / ".git"
        if git.is_file():  # a worktree: "gitdir: <path>"
            git = Path(git.read_text().split(":", 1)[1].strip())
        if not git.is_dir():
            continue
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        if (git / ref).is_file():
            return (git / ref).read_text().strip()
        packed = git / "packed-refs"
        if packed.is_file():
            for line in packed.read_text().splitlines():
                if line.endswith(" " + ref):
                    return line.split()[0]
        return ""
    return ""


def build_args(
    config: Config, cell: Cell, *, base: str, lock_sha256: str, revision: str
) -> dict[str, str]:
    """The build arguments of one cell's image."""
    profile = config.profiles[cell.profile]
    args = {
        "BASE_IMAGE": base,
        "LOCK": f"{config.locks_dir.relative_to(config.root).as_posix()}/{cell.id}.txt",
        "APT_PACKAGES": " ".join(profile.apt),
        "CELL": cell.id,
        "LOCK_SHA256": lock_sha256,
        "SOURCE": config.docker.source or "",
        "REVISION": revision,
        "PORT": str(config.docker.health.port),
        "HEALTH_PATH": config.docker.health.path,
    }
    if config.docker.command:
        args["APP_COMMAND"] = config.docker.command
    return args


def image_problems(
    inspect: Mapping[str, Any],
    *,
    cell: Cell,
    budget: int | None,
    app_entries: Sequence[str],
    revision: str = "",
) -> list[str]:
    """What is wrong with a built image: size, user, labels, ignored files inside."""
    problems = []
    size = int(inspect.get("Size", 0))
    if budget is not None and size > budget:
        problems.append(
            f"the image is {size / 1e6:.1f} MB, over the profile's "
            f"{budget / 1e6:.1f} MB size-budget"
        )
    user = (inspect.get("Config") or {}).get("User") or ""
    if user.split(":")[0] in ("", "root", "0"):
        problems.append(
            "the image runs as root: add a user and `USER` it (the template "
            "does: `useradd ... app` and `USER app`)"
        )
    labels = (inspect.get("Config") or {}).get("Labels") or {}
    if labels.get("io.noxgrid.cell") != cell.id:
        problems.append(
            f"label io.noxgrid.cell is {labels.get('io.noxgrid.cell')!r}, "
            f"not {cell.id!r}: pass ARG CELL into a LABEL"
        )
    if not labels.get("io.noxgrid.lock-sha256"):
        problems.append("label io.noxgrid.lock-sha256 is missing or empty")
    # The revision is known only inside a git checkout; where it is, it must be on the image.
    if revision and labels.get("org.opencontainers.image.revision") != revision:
        problems.append(f"label org.opencontainers.image.revision is not {revision}")
    leaked = sorted(entry for entry in app_entries if _ignored(entry))
    if leaked:
        problems.append(
            f"the image's /app holds what .dockerignore should keep out: {', '.join(leaked)}"
        )
    return problems


def _ignored(entry: str) -> bool:
    patterns = [p.removeprefix("**/") for p in DOCKERIGNORE]
    return any(re.fullmatch(p.replace(".", r"\.").replace("*", ".*"), entry) for p in patterns)


@dataclass(frozen=True, kw_only=True)
class Client:
    """A docker client able to build with BuildKit, and how."""

    path: str
    buildx: bool
    root_dir: str = ""


class Docker:
    """The docker commands noxgrid needs, each a single argv through the runner."""

    def __init__(self, runner: Runner, client: Client) -> None:
        self.runner = runner
        self.client = client

    @classmethod
    def find(cls, runner: Runner, env: Mapping[str, str] | None = None) -> Docker:
        """A client with BuildKit and a live engine, or EngineUnavailable saying why."""
        env = os.environ if env is None else env
        candidates = [env["NOXGRID_DOCKER"]] if env.get("NOXGRID_DOCKER") else []
        for name in ("docker", "/usr/bin/docker"):
            found = shutil.which(name)
            if found and found not in candidates:
                candidates.append(found)
        if not candidates:
            raise EngineUnavailable(
                "no docker client found (looked for `docker` on PATH and /usr/bin/docker)",
                fix="install Docker, or run with --no-docker to skip the image and smoke stages",
            )
        client = None
        for path in candidates:
            if runner.run(Command(argv=(path, "buildx", "version"), timeout=20)).ok:
                client = Client(path=path, buildx=True)
                break
            version = runner.run(
                Command(argv=(path, "version", "--format", "{{.Client.Version}}"), timeout=20)
            )
            major = version.output.strip().split(".")[0]
            if major.isdigit() and int(major) < 23:
                client = Client(path=path, buildx=False)
                break
        if client is None:
            raise EngineUnavailable(
                f"none of the docker clients found ({', '.join(candidates)}) can build "
                "with BuildKit: newer clients need the buildx plugin",
                fix="install docker-buildx, or point NOXGRID_DOCKER at a client that has it",
            )
        info = runner.run(
            Command(argv=(client.path, "info", "--format", "{{.ServerVersion}}"), timeout=30)
        )
        if not info.ok:
            where = env.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
            tail = " ".join(info.output.strip().splitlines()[-2:])
            raise EngineUnavailable(
                f"no Docker engine answers at {where}: {tail}",
                fix="start the engine (dockerd, Docker Desktop), or run with --no-docker "
                "to skip the image and smoke stages (the report says they were skipped)",
            )
        parts = info.output.strip().splitlines()[-1].split(maxsplit=1) if info.output else []
        root_dir = parts[1] if len(parts) == 2 else ""
        return cls(runner, Client(path=client.path, buildx=client.buildx, root_dir=root_dir))

    def _command(self, *args: str, timeout: float = 120, cwd: Path | None = None) -> Command:
        env = {} if self.client.buildx else {"DOCKER_BUILDKIT": "1"}
        return Command(argv=(self.client.path, *args), env=env, timeout=timeout, cwd=cwd)

    def build(
        self,
        context: Path,
        *,
        dockerfile: Path,
        target: str,
        tag: str,
        args: Mapping[str, str],
        sink: LineSink | None,
        timeout: float,
    ) -> Outcome:
        """Build one target with BuildKit, output streamed in plain lines."""
        argv = ["buildx", "build", "--load"] if self.client.buildx else ["build"]
        argv += ["--progress", "plain", "-f", str(dockerfile), "--target", target, "-t", tag]
        for key, value in args.items():
            argv += ["--build-arg", f"{key}={value}"]
        argv.append(str(context))
        return self.runner.run(self._command(*argv, timeout=timeout, cwd=context), sink=sink)

    def inspect_image(self, tag: str) -> dict[str, Any]:
        """``docker image inspect`` of one image."""
        outcome = self.runner.run(self._command("image", "inspect", "--format", "{{json .}}", tag))
        outcome.assert_success("docker image inspect")
        data: dict[str, Any] = json.loads(outcome.output.strip().splitlines()[-1])
        return data

    def list_app(self, tag: str) -> list[str]:
        """The top-level entries of /app in the image."""
        outcome = self.runner.run(
            self._command("run", "--rm", "--entrypoint", "ls", tag, "-A", "/app")
        )
        outcome.assert_success("listing /app in the image")
        return outcome.output.split()

    def run_detached(
        self,
        tag: str,
        *,
        name: str,
        port: int,
        env: Mapping[str, str],
        labels: Mapping[str, str],
        extra: Sequence[str] = (),
    ) -> str:
        """Start a container publishing ``port`` on a free loopback port; its id."""
        argv = ["run", "-d", "--name", name, "-p", f"127.0.0.1::{port}"]
        for key, value in env.items():
            argv += ["-e", f"{key}={value}"]
        for key, value in labels.items():
            argv += ["--label", f"{key}={value}"]
        argv += [*extra, tag]
        outcome = self.runner.run(self._command(*argv))
        outcome.assert_success("docker run")
        return outcome.output.strip().splitlines()[-1]

    def run_once(
        self,
        tag: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        workdir: str,
        sink: LineSink | None,
        timeout: float,
    ) -> Outcome:
        """Run ``argv`` in a new container of ``tag`` (removed afterwards)."""
        args = ["run", "--rm", "-w", workdir]
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        args += ["--entrypoint", argv[0], tag, *argv[1:]]
        return self.runner.run(self._command(*args, timeout=timeout), sink=sink)

    def export(self, tag: str, archive: Path, *, timeout: float) -> None:
        """Write the file system of a (never started) container of ``tag`` to ``archive``."""
        create = self.runner.run(self._command("create", "--entrypoint", "true", tag))
        create.assert_success("docker create (to export the image's file system)")
        container = create.output.strip().splitlines()[-1]
        try:
            self.runner.run(
                self._command("export", "-o", str(archive), container, timeout=timeout)
            ).assert_success("docker export")
        finally:
            self.remove(container)

    def host_port(self, container: str, port: int) -> int:
        """The loopback port ``port`` of the container was published on."""
        outcome = self.runner.run(self._command("port", container, str(port)))
        outcome.assert_success("docker port")
        return int(outcome.output.strip().splitlines()[0].rsplit(":", 1)[1])

    def state(self, container: str) -> tuple[str, int]:
        """(status, exit code) of a container."""
        outcome = self.runner.run(
            self._command("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", container)
        )
        outcome.assert_success("docker inspect")
        status, code = outcome.output.split()
        return status, int(code)

    def logs(self, container: str) -> str:
        """Everything the container wrote."""
        return self.runner.run(self._command("logs", container)).output

    def remove(self, container: str) -> None:
        """Remove a container, running or not."""
        self.runner.run(self._command("rm", "-f", container))

    def containers(self, label: str) -> list[str]:
        """Ids of the containers (any state) carrying ``label``."""
        outcome = self.runner.run(self._command("ps", "-aq", "--filter", f"label={label}"))
        return outcome.output.split()
