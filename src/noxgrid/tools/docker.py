"""A thin object over the docker client, and the pure rules for a cell's image.

Pure: base-image mapping, build arguments, image checks. Edge: ``Docker``,
which runs the client through the runner (argv only). noxgrid uses a client
that can do BuildKit builds: ``docker buildx`` where present, else a client
whose built-in BuildKit answers to ``DOCKER_BUILDKIT=1`` (Engine 20.10-22).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from noxgrid.errors import EngineUnavailable
from noxgrid.model.appscan import TREE_SCRIPT
from noxgrid.model.attestation import Attestation, sbom_attestation
from noxgrid.model.basesize import history_sizes
from noxgrid.model.engine import engine_problem
from noxgrid.model.image import AppTree, cache_arguments
from noxgrid.model.secrets import SCAN_LIMIT, SCAN_TOTAL
from noxgrid.model.text import json_objects
from noxgrid.model.waste import WASTE_SCRIPT
from noxgrid.tools.orphans import OWNER_LABEL, dead_owner, owner
from noxgrid.tools.runner import Command, LineSink, Outcome, Runner


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


def _engine_root(info: Outcome, client: str, configured: str, env: Mapping[str, str]) -> str:
    """The engine's data root from ``docker info``; EngineUnavailable when none answered."""
    objects = json_objects(info.output)
    document: dict[str, Any] = objects[-1] if objects else {}
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
        self._attestation: Attestation | None = None

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

    def _command(
        self, *args: str, timeout: float = 120, cwd: Path | None = None, cleanup: bool = False
    ) -> Command:
        env = {} if self.client.buildx else {"DOCKER_BUILDKIT": "1"}
        return Command(
            argv=(self.client.path, *args), env=env, timeout=timeout, cwd=cwd, cleanup=cleanup
        )

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
        if self.attestation().supported:
            argv.append("--sbom=true")
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

    def history_sizes(self, tag: str) -> list[int]:
        """The size of each history entry of ``tag``, oldest first (0: no layer)."""
        outcome = self.runner.run(
            self._command("history", "--no-trunc", "--human=false", "--format", "{{.Size}}", tag)
        )
        outcome.assert_success("docker history")
        return history_sizes(outcome.output)

    def base_config(self, name: str) -> Any:
        """The image config of ``name`` from its registry's manifest, through buildx (a map
        of platform to config for an index); None without buildx or where it cannot be read."""
        if not self.client.buildx:
            return None
        outcome = self.runner.run(
            self._command(
                "buildx", "imagetools", "inspect", "--format", "{{json .Image}}", name, timeout=60
            )
        )
        objects = json_objects(outcome.output) if outcome.ok else []
        return objects[-1] if objects else None

    def app_tree(self, tag: str, user: str) -> AppTree:
        """Every entry of /app in the image, read as root (the whole listing, never a tail),
        and what the image carries that it should not (caches, wheels, build tools), in
        the same container."""
        outcome = self.runner.run(
            self._command(
                "run",
                "--rm",
                "--label",
                f"{OWNER_LABEL}={owner()}",
                "--network",
                "none",
                "--user",
                "0",
                "--entrypoint",
                "python",
                tag,
                "-c",
                TREE_SCRIPT + WASTE_SCRIPT,
                user or "root",
                str(SCAN_LIMIT),
                str(SCAN_TOTAL),
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
        argv += ["--label", f"{OWNER_LABEL}={owner()}"]
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
        args = ["run", "--rm", "-w", workdir, "--label", f"{OWNER_LABEL}={owner()}"]
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        args += ["--entrypoint", argv[0], tag, *argv[1:]]
        return self.runner.run(self._command(*args, timeout=timeout), sink=sink)

    def start_idle(self, tag: str, *, name: str, labels: Mapping[str, str]) -> str:
        """Start a container of ``tag`` that only waits (``sleep infinity``), as the image's
        user, for commands run in it one by one (:meth:`exec_command`); its id."""
        argv = ["run", "-d", "--name", name]
        for key, value in labels.items():
            argv += ["--label", f"{key}={value}"]
        argv += ["--entrypoint", "sleep", tag, "infinity"]
        outcome = self.runner.run(self._command(*argv))
        outcome.assert_success("docker run (a container to run the suite in)")
        return outcome.output.strip().splitlines()[-1]

    def exec_command(
        self,
        container: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        workdir: str,
        timeout: float,
    ) -> Command:
        """``argv`` run in the running ``container``, from ``workdir``, with ``env``."""
        args = ["exec", "-w", workdir]
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        return self._command(*args, container, *argv, timeout=timeout)

    def export(self, tag: str, archive: Path, *, timeout: float) -> None:
        """Write the file system of a (never started) container of ``tag`` to ``archive``."""
        create = self.runner.run(
            self._command(
                "create", "--label", f"{OWNER_LABEL}={owner()}", "--entrypoint", "true", tag
            )
        )
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
        """Remove a container, running or not (after an interrupt too)."""
        self.runner.run(self._command("rm", "-f", container, cleanup=True))

    def remove_orphans(self) -> list[str]:
        """Remove the containers that runs of this host started and did not remove because
        they died (their owner process is gone: SIGKILL); their names."""
        outcome = self.runner.run(
            self._command(
                "ps",
                "-a",
                "--filter",
                f"label={OWNER_LABEL}",
                "--format",
                f'{{{{.Names}}}} {{{{.Label "{OWNER_LABEL}"}}}}',
            )
        )
        if not outcome.ok:
            return []
        orphans = [
            name
            for name, _, value in (line.partition(" ") for line in outcome.output.splitlines())
            if name and dead_owner(value.strip())
        ]
        for name in orphans:
            self.remove(name)
        return orphans

    def containers(self, label: str) -> list[str]:
        """Ids of the containers (any state) carrying ``label``."""
        outcome = self.runner.run(self._command("ps", "-aq", "--filter", f"label={label}"))
        return outcome.output.split()

    def attestation(self) -> Attestation:
        """Whether builds get BuildKit's SBOM attestation (asked once per client)."""
        if self._attestation is None:
            inspect: str | None = None
            status = ""
            if self.client.buildx:
                outcome = self.runner.run(self._command("buildx", "inspect", timeout=30))
                inspect = outcome.output if outcome.ok else None
                info = self.runner.run(
                    self._command("info", "--format", "{{json .DriverStatus}}", timeout=30)
                )
                status = info.output.strip() if info.ok else ""
            self._attestation = sbom_attestation(
                buildx=self.client.buildx, inspect=inspect, driver_status=status
            )
        return self._attestation
