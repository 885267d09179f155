"""What a Docker client's answer says of its engine: the cause and the fix when the engine
does not answer (denied, not running, not installed, a remote one unreachable). Pure."""

from __future__ import annotations

from noxgrid.model.text import json_objects


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
    objects = json_objects(output)
    errors = (objects[0].get("ServerErrors") or []) if objects else []
    return "; ".join(str(error) for error in errors)
