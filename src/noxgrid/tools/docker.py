"""A thin object over the docker client, and the pure rules for a cell's image.

Pure: base-image mapping, build arguments, image checks. Edge: ``Docker``,
which runs the client through the runner (argv only). noxgrid uses a client
that can do BuildKit builds: ``docker buildx`` where present, else a client
whose built-in BuildKit answers to ``DOCKER_BUILDKIT=1`` (Engine 20.10-22).
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import shutil
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from noxgrid.errors import EngineUnavailable
from noxgrid.model.config import Config
from noxgrid.model.matrix import Cell
from noxgrid.tools.runner import Command, LineSink, Outcome, Runner

# Secrets: keys, credentials and the files that hold tokens. Never in an image's
# build context (the default .dockerignore), and looked for in every built image.
SECRET_PATTERNS = (
    "**/id_rsa*",
    "**/id_dsa*",
    "**/id_ecdsa*",
    "**/id_ed25519*",
    "**/*.pem",
    "**/*.key",
    "**/*.p12",
    "**/*.pfx",
    "**/*.jks",
    "**/*.keystore",
    "**/.pypirc",
    "**/.npmrc",
    "**/.netrc",
    "**/.git-credentials",
    "**/.aws",
    "**/.ssh",
    "**/.docker/config.json",
    "**/.env",
    "**/.env.*",
    "**/*.kdbx",
)
# Files that look like secrets by name but are templates by convention.
NOT_SECRETS = (".env.example", ".env.sample", ".env.template", ".env.dist")
# What never belongs in an image's build context (written to .dockerignore
# when a project has none, and checked in the built image).
DOCKERIGNORE = (
    ".git",
    ".noxgrid",
    ".nox",
    ".venv",
    "**/__pycache__",
    "**/*.pyc",
    "**/*.egg-info",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "*.sqlite3",
    "reports",
    *SECRET_PATTERNS,
    *(f"!**/{name}" for name in NOT_SECRETS),
)
# Private keys and cloud credentials, recognised by what a file holds.
SECRET_CONTENT = (
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----BEGIN DSA PRIVATE KEY-----",
    "-----BEGIN EC PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----",
    "-----BEGIN ENCRYPTED PRIVATE KEY-----",
    "-----BEGIN PGP PRIVATE KEY BLOCK-----",
    "aws_secret_access_key",
)
TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "Dockerfile"


def default_dockerignore() -> str:
    """The .dockerignore noxgrid writes where a project has none."""
    return "\n".join(DOCKERIGNORE) + "\n"


# Run in the image as root: every entry under /app with its owner, mode and, for a
# readable file under 1 MB, the first secret marker it holds. One JSON line each.
TREE_SCRIPT = """
import json, os, pwd, stat, sys
markers = json.loads(sys.argv[2])
user = sys.argv[1]
name = user.split(":")[0]
try:
    entry = pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
    uid, gid = entry.pw_uid, entry.pw_gid
except (KeyError, ValueError):
    uid, gid = (int(name) if name.isdigit() else -1), -1
print(json.dumps({"user": user, "uid": uid, "gid": gid}))
for folder, dirs, files in os.walk("/app"):
    dirs.sort()
    for name in dirs + sorted(files):
        path = os.path.join(folder, name)
        info = os.lstat(path)
        found = None
        if stat.S_ISREG(info.st_mode) and info.st_size < 2**20:
            try:
                with open(path, "rb") as stream:
                    data = stream.read().decode("latin-1")
                found = next((m for m in markers if m in data), None)
            except OSError:
                pass
        print(json.dumps({"p": os.path.relpath(path, "/app"), "u": info.st_uid,
                          "g": info.st_gid, "m": info.st_mode, "s": found}))
"""


@dataclass(frozen=True, kw_only=True)
class AppTree:
    """The image's application tree: each entry's owner and mode, and secret markers found."""

    uid: int
    gid: int
    entries: tuple[Mapping[str, Any], ...]

    @classmethod
    def parse(cls, output: str) -> AppTree:
        """Read TREE_SCRIPT's output (every line; nothing may be cut)."""
        head: dict[str, Any] = {}
        entries = []
        for line in output.splitlines():
            line = line.strip()
            if not line.startswith("{"):
                continue
            item = json.loads(line)
            if "user" in item:
                head = item
            else:
                entries.append(item)
        return cls(
            uid=int(head.get("uid", -1)), gid=int(head.get("gid", -1)), entries=tuple(entries)
        )


def _matches(path: str, patterns: Sequence[str]) -> bool:
    """True when a path under /app is one a .dockerignore pattern names (or lies inside it)."""
    parts = path.split("/")
    for pattern in patterns:
        if pattern.startswith("!"):
            continue
        if pattern.startswith("**/"):
            tail = pattern[3:]
            if any(fnmatch.fnmatchcase(part, tail) for part in parts):
                return True
            if "/" in tail and any(
                fnmatch.fnmatchcase("/".join(parts[i : i + tail.count("/") + 1]), tail)
                for i in range(len(parts))
            ):
                return True
        elif fnmatch.fnmatchcase(parts[0], pattern) or fnmatch.fnmatchcase(path, pattern):
            return True
    return False


def tree_problems(tree: AppTree) -> list[str]:
    """What is wrong with an image's /app: secrets, leftovers .dockerignore keeps out,
    and anything the runtime user owns or may write."""
    secrets = []
    leaked = []
    writable = []
    for entry in tree.entries:
        path = str(entry["p"])
        name = path.rsplit("/", 1)[-1]
        if entry.get("s"):
            secrets.append(f"{path} (holds {entry['s']!s})")
        elif name not in NOT_SECRETS and _matches(path, SECRET_PATTERNS):
            secrets.append(f"{path} (a secret by its name)")
        elif _matches(path, [p for p in DOCKERIGNORE if p not in SECRET_PATTERNS]):
            leaked.append(path)
        mode = int(entry["m"])
        owner = int(entry["u"])
        if (
            owner != 0
            or mode & stat.S_IWOTH
            or (mode & stat.S_IWGRP and tree.gid >= 0 and int(entry["g"]) == tree.gid)
        ):
            writable.append(path)
    problems = []
    if secrets:
        problems.append(
            f"the image's /app holds {len(secrets)} secret-like file(s): "
            + ", ".join(secrets[:20])
            + (" ..." if len(secrets) > 20 else "")
            + "; fix: delete them from the build context or list them in .dockerignore "
            "(noxgrid's default .dockerignore keeps keys, .env files and credentials out), "
            "then rotate any key that was in a pushed image"
        )
    if leaked:
        found = set(leaked)
        # A leaked folder stands for everything in it.
        shown = sorted(
            path
            for path in found
            if not any(
                "/".join(path.split("/")[:i]) in found for i in range(1, path.count("/") + 1)
            )
        )
        problems.append(
            f"the image's /app holds what .dockerignore should keep out: {', '.join(shown[:20])}"
            + (f" and {len(shown) - 20} more" if len(shown) > 20 else "")
        )
    if writable:
        problems.append(
            f"{len(writable)} path(s) of /app belong to or are writable by the runtime user "
            f"(first: {writable[0]}); the application tree must belong to root and be "
            "read-only at run time; fix: COPY without --chown (the template does)"
        )
    return problems


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


def revision_label(revision: str, dirty: bool) -> str:
    """The image's revision label: the commit, marked ``-dirty`` when the tree had changes."""
    if not revision:
        return ""
    return f"{revision}-dirty" if dirty else revision


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


def cache_arguments(cache: str | None, scope: str, *, buildx: bool) -> list[str]:
    """The build's cache arguments: none, or BuildKit's GitHub Actions backend (buildx only)."""
    if cache != "gha" or not buildx:
        return []
    return [
        "--cache-from",
        f"type=gha,scope={scope}",
        "--cache-to",
        f"type=gha,mode=max,scope={scope}",
    ]


def image_problems(
    inspect: Mapping[str, Any],
    *,
    cell: Cell,
    budget: int | None,
    tree: AppTree | None = None,
    revision: str = "",
) -> list[str]:
    """What is wrong with a built image: size, user, labels, and its /app (see tree_problems)."""
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
    if tree is not None:
        problems += tree_problems(tree)
    return problems


def _configured_client(value: str) -> str:
    """The client NOXGRID_DOCKER names, as a path; EngineUnavailable when there is none."""
    path = shutil.which(value) if os.sep not in value else value
    if path is None or not Path(path).is_file():
        raise EngineUnavailable(
            f"NOXGRID_DOCKER={value}: no such program",
            fix="point NOXGRID_DOCKER at a docker client (for example /usr/bin/docker), or "
            "unset it to use the docker on PATH",
        )
    if not os.access(path, os.X_OK):
        raise EngineUnavailable(
            f"NOXGRID_DOCKER={value}: the file is not executable",
            fix=f"chmod +x {path}, or point NOXGRID_DOCKER at a docker client",
        )
    return path


def _buildkit_client(runner: Runner, path: str) -> Client | None:
    """``path`` as a client able to build with BuildKit, or None."""
    if runner.run(Command(argv=(path, "buildx", "version"), timeout=20)).ok:
        return Client(path=path, buildx=True)
    version = runner.run(
        Command(argv=(path, "version", "--format", "{{.Client.Version}}"), timeout=20)
    )
    major = version.output.strip().split(".")[0] if version.output.strip() else ""
    if major.isdigit() and int(major) < 23:
        return Client(path=path, buildx=False)
    return None


def engine_problem(output: str, where: str, client: str) -> tuple[str, str]:
    """(what is wrong, the fix) for a client whose engine did not answer. Pure.

    ``output`` is the client's own output; Go template errors (what a client
    prints when ``--format`` meets no server) are dropped, not shown.
    """
    lines = [
        line.strip()
        for line in output.splitlines()
        if line.strip() and not line.lstrip().startswith("template:") and "executing" not in line
    ]
    text = " ".join(lines)
    lower = text.lower()
    said = _server_errors(output) or (lines[-1] if lines else "")
    if "permission denied" in lower:
        return (
            f"the docker client {client} may not use the engine's socket at {where}: {said}",
            "add your user to the docker group (sudo usermod -aG docker $USER, then log in "
            "again), use rootless Docker, or run with --no-docker",
        )
    if where.startswith(("tcp://", "ssh://")):
        return (
            f"no Docker engine answers at DOCKER_HOST={where}: {said}",
            "start that engine or correct DOCKER_HOST (unset it for the local engine), or run "
            "with --no-docker",
        )
    if "cannot connect" in lower or "no such file" in lower or "connection refused" in lower:
        return (
            f"no Docker engine is running at {where} (the client {client} works): {said}",
            "start the engine (sudo systemctl start docker, `dockerd &`, or Docker Desktop), "
            "or run with --no-docker to skip the image and smoke stages (the report says so)",
        )
    return (
        f"the Docker engine at {where} did not answer {client}: {said or 'no output'}",
        "run `docker info` to see why, or run with --no-docker",
    )


def _server_errors(output: str) -> str:
    for line in output.splitlines():
        if line.strip().startswith("{"):
            try:
                errors = json.loads(line).get("ServerErrors") or []
            except ValueError:
                continue
            return "; ".join(str(error) for error in errors)
    return ""


def _engine_root(info: Outcome, client: str, configured: str, env: Mapping[str, str]) -> str:
    """The engine's data root from ``docker info``; EngineUnavailable when none answered."""
    document: dict[str, Any] = {}
    for line in info.output.splitlines():
        if line.strip().startswith("{"):
            with contextlib.suppress(ValueError):
                document = json.loads(line)
    if info.ok and document.get("ServerVersion") and not document.get("ServerErrors"):
        return str(document.get("DockerRootDir") or "")
    where = env.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    named = f"{client} (NOXGRID_DOCKER)" if configured else client
    problem, fix = engine_problem(info.output, where, named)
    raise EngineUnavailable(problem, fix=fix)


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
        """The client to use and a live engine behind it, or EngineUnavailable saying why.

        NOXGRID_DOCKER, when set, is the client: it is used or the run fails,
        never silently replaced by another one. Otherwise ``docker`` on PATH,
        then /usr/bin/docker, whichever first can build with BuildKit.
        """
        env = os.environ if env is None else env
        configured = env.get("NOXGRID_DOCKER", "")
        if configured:
            candidates = [_configured_client(configured)]
        else:
            candidates = []
            for name in ("docker", "/usr/bin/docker"):
                found = shutil.which(name)
                if found and found not in candidates:
                    candidates.append(found)
            if not candidates:
                raise EngineUnavailable(
                    "no docker client found (looked for `docker` on PATH and /usr/bin/docker)",
                    fix="install Docker, point NOXGRID_DOCKER at a docker client, or run with "
                    "--no-docker to skip the image and smoke stages",
                )
        client = None
        for path in candidates:
            client = _buildkit_client(runner, path)
            if client is not None:
                break
        if client is None:
            named = f"NOXGRID_DOCKER={configured}" if configured else ", ".join(candidates)
            raise EngineUnavailable(
                f"the docker client {named} cannot build with BuildKit: newer clients "
                "(23 and later) need the buildx plugin",
                fix="install docker-buildx, or point NOXGRID_DOCKER at a client that has it "
                "(Debian's docker.io client has BuildKit built in)",
            )
        info = runner.run(Command(argv=(client.path, "info", "--format", "{{json .}}"), timeout=30))
        root_dir = _engine_root(info, client.path, configured, env)
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
        cache: str | None = None,
        scope: str = "noxgrid",
    ) -> Outcome:
        """Build one target with BuildKit, output streamed in plain lines.

        ``cache="gha"`` (NOXGRID_BUILD_CACHE in the generated workflow) reads and
        writes BuildKit's GitHub Actions cache under ``scope``, so a run after a
        source-only change reuses the dependency layers of the last one.
        """
        argv = ["buildx", "build", "--load"] if self.client.buildx else ["build"]
        argv += ["--progress", "plain", "-f", str(dockerfile), "--target", target, "-t", tag]
        argv += cache_arguments(cache, scope, buildx=self.client.buildx)
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

    def app_tree(self, tag: str, user: str) -> AppTree:
        """Every entry of /app in the image, read as root (the whole listing, never a tail)."""
        outcome = self.runner.run(
            self._command(
                "run",
                "--rm",
                "--network",
                "none",
                "--user",
                "0",
                "--entrypoint",
                "python",
                tag,
                "-c",
                TREE_SCRIPT,
                user or "root",
                json.dumps(SECRET_CONTENT),
                timeout=300,
            )
        )
        outcome.assert_success("reading /app in the image")
        return AppTree.parse(outcome.output)

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
