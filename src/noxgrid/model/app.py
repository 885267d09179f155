"""The application an image starts, and why it did not start. Pure.

``app_target`` reads what the image runs (``[tool.noxgrid.docker] command``,
else the Dockerfile's ``CMD``/``ENTRYPOINT`` of the cell's target) and finds
the application in it: ``module:attribute`` as uvicorn, gunicorn, hypercorn,
daphne, granian or ``flask --app`` take it (``--factory`` or ``attr()`` for a
factory), or ``python -m module``. The doctor stage imports and loads it in
the cell's venv (``LOAD_SCRIPT``) before any image is built.
``container_failure`` reads a container's log for its last error and the
likely fix; ``pull_failure_hint`` the fix for a base image no registry gave.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from noxgrid.model.diagnose import (
    DISK_FULL_FIX,
    cause_text,
    disk_full,
    distribution_for,
    exception_line,
    not_a_cause,
)

_TARGET = re.compile(r"^([A-Za-z_][\w.]*):([A-Za-z_]\w*)(\(\))?$")
_MODULE = re.compile(r"^[A-Za-z_][\w.]*$")
_SERVERS = ("uvicorn", "gunicorn", "hypercorn", "daphne", "granian", "flask", "waitress-serve")


@dataclass(frozen=True)
class AppTarget:
    """``module`` (and ``attribute`` of it; ``factory`` when it must be called)."""

    module: str
    attribute: str | None = None
    factory: bool = False
    source: str = ""

    def spec(self) -> str:
        """``module:attribute`` as written (``()`` for a factory)."""
        if self.attribute is None:
            return self.module
        return f"{self.module}:{self.attribute}{'()' if self.factory else ''}"


def target_in(words: Sequence[str], source: str) -> AppTarget | None:
    """The application in one command's words, or None when it names none."""
    words = list(words)
    for index, word in enumerate(words):
        if word == "-m" and index + 1 < len(words):
            following = words[index + 1]
            if following.split(".")[0] in _SERVERS:
                continue  # python -m uvicorn app:app: the target comes later
            if _MODULE.match(following):
                return AppTarget(module=following, source=source)
    factory = "--factory" in words or "--create-app" in words
    for index, word in enumerate(words):
        value = word.split("=", 1)[1] if word.startswith("--app=") else word
        if word == "--app" and index + 1 < len(words):
            value = words[index + 1]
        match = _TARGET.match(value)
        if match:
            return AppTarget(
                module=match.group(1),
                attribute=match.group(2),
                factory=factory or bool(match.group(3)),
                source=source,
            )
    return None


def _instruction_words(rest: str) -> list[str]:
    """A CMD/ENTRYPOINT's words: its JSON form, else its shell form."""
    rest = rest.strip()
    if rest.startswith("["):
        try:
            value = json.loads(rest)
        except ValueError:
            return []
        return [str(item) for item in value] if isinstance(value, list) else []
    try:
        return shlex.split(rest)
    except ValueError:
        return []


def dockerfile_command(text: str, target: str) -> list[str]:
    """The words a Dockerfile's stage ``target`` runs (ENTRYPOINT then CMD, as Docker joins
    them; an instruction inherited from the stage it is built FROM counts)."""
    stages: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    joined = re.sub(r"\\\n", " ", text)
    for line in joined.splitlines():
        words = line.strip().split(None, 1)
        if not words:
            continue
        keyword = words[0].upper()
        rest = words[1] if len(words) > 1 else ""
        if keyword == "FROM":
            parts = rest.split()
            parent = stages.get(parts[0].lower(), {}) if parts else {}
            current = dict(parent)
            name = parts[-1].lower() if len(parts) >= 3 and parts[-2].upper() == "AS" else ""
            stages[name or f"#{len(stages)}"] = current
        elif keyword in ("CMD", "ENTRYPOINT"):
            current[keyword] = _instruction_words(rest)
    chosen = stages.get(target.lower()) or (current if current else {})
    return [*chosen.get("ENTRYPOINT", []), *chosen.get("CMD", [])]


def app_target(
    command: str | None, dockerfile: str | None, target: str, dockerfile_name: str
) -> AppTarget | None:
    """The application the cell's image starts, from the configured command or the
    Dockerfile's; None when neither names one."""
    if command:
        try:
            words = shlex.split(command)
        except ValueError:
            words = command.split()
        found = target_in(words, "[tool.noxgrid.docker] command")
        if found is not None:
            return found
    if dockerfile:
        words = dockerfile_command(dockerfile, target)
        return target_in(words, f"{dockerfile_name} (CMD of target '{target}')")
    return None


LOAD_SCRIPT = """
import importlib, inspect, json, sys, traceback
module, attribute, factory = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
try:
    app = importlib.import_module(module)
    if attribute:
        app = getattr(app, attribute)
        if factory:
            app = app()
    call = getattr(app, "__call__", None)
    asgi = inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(call)
    kind = "module" if inspect.ismodule(app) else ("ASGI" if asgi else (
        "WSGI" if callable(app) else "object"))
    print(json.dumps({"ok": True, "kind": kind, "type": type(app).__name__}))
except BaseException as error:
    name = getattr(error, "name", None) if isinstance(error, ImportError) else None
    print(json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}",
                      "missing": name, "traceback": traceback.format_exc()[-3000:]}))
"""


def load_failure(
    target: AppTarget,
    result: dict[str, object],
    *,
    profile: str,
    requirements: str,
    cell: str,
    project_modules: Sequence[str] = (),
) -> str:
    """Why the application did not load, with the fix."""
    error = cause_text(str(result.get("error") or "it did not load"))
    missing = result.get("missing")
    head = f"the application {target.spec()} (from {target.source}) does not load: {error}"
    if isinstance(missing, str) and missing:
        top = missing.split(".")[0]
        if top in project_modules or top == target.module.split(".")[0]:
            return (
                f"{head}; fix: {missing} is the project's own module: check what the build "
                "backend packages, and the module path in the command"
            )
        return (
            f"{head}; profile '{profile}' does not install {missing}; fix: add "
            f"{distribution_for(missing)} to {requirements}, then noxgrid lock {cell}"
        )
    if "AttributeError" in error and target.attribute:
        return f"{head}; fix: {target.module} has no {target.attribute}: check the command"
    return f"{head}; fix: read the traceback in the doctor's log (a setting, a side effect)"


_ERROR_LINE = re.compile(
    r"^(?:[\w.]+(?:Error|Exception|Exit)\b.*|.*\b(?:error|Error|ERROR|CRITICAL|FATAL)\b.*)$"
)


def container_failure(log: str) -> tuple[str, str]:
    """(the log's last error line, the likely fix) of a container that exited or never
    turned healthy."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    errors = [line for line in lines if _ERROR_LINE.match(line) and not_a_cause(line) is None]
    quote = exception_line(log) or (
        errors[-1] if errors else (lines[-1] if lines else "the container printed nothing")
    )
    text = "\n".join(lines)
    missing = re.search(r"No module named '([\w.]+)'", text)
    if disk_full(text):
        fix = DISK_FULL_FIX
    elif missing:
        module = missing.group(1)
        fix = (
            f"the image lacks {module}: add {distribution_for(module)} to the profile's "
            "requirements and lock again (the doctor stage imports the app before the build)"
        )
    elif "Address already in use" in text:
        fix = "two processes bind one port: the command's --port must be the health port"
    elif "Permission denied" in text or "Read-only file system" in text:
        fix = (
            "the app writes where its user cannot (/app is read-only to it): write to /tmp or "
            "a volume, or set the path through [tool.noxgrid.docker] env"
        )
    elif re.search(r"validation error|Field required|KeyError: '[A-Z_]+'|environ", text):
        fix = "a setting the app reads at start is missing: set it in [tool.noxgrid.docker] env"
    elif "FileNotFoundError" in text or "No such file or directory" in text:
        fix = (
            "a file the app opens at start is not in the image: check .dockerignore and the "
            "COPY lines (the working tree may have it, the image does not)"
        )
    elif re.search(r"Connection refused|could not connect|Name or service not known", text):
        fix = (
            "the app needs another service at start (a database, a cache): start it lazily, "
            "or point it at one through [tool.noxgrid.docker] env"
        )
    elif re.search(r"exec: .*not found|executable file not found|command not found", text):
        fix = "the image's command is not installed in it: check CMD and the venv's PATH"
    else:
        fix = "read the container's log (saved beside the report)"
    return quote, fix


_PULL_FAILED = (
    "pull access denied",
    "failed to resolve source metadata",
    "failed to do request",
    "no such host",
    "i/o timeout",
    "TLS handshake timeout",
    "manifest unknown",
    "error pulling image",
    "failed to authorize",
)
BASE_IMAGE_MAP_EXAMPLE = "python:{python}-slim-bookworm=noxgrid-local/python:{python}-slim-bookworm"


def pull_failure_hint(output: str, base: str) -> str | None:
    """The fix for a build whose base image could not be pulled (no registry answers)."""
    if not any(marker in output for marker in _PULL_FAILED):
        return None
    return (
        f"the base image {base} could not be pulled (is a registry reachable?); fix: build "
        "local base images (noxgrid's scripts/base_images.py makes them) and map the public "
        f'names to them: export NOXGRID_BASE_IMAGE_MAP="{BASE_IMAGE_MAP_EXAMPLE}" '
        "(or base-image-map in [tool.noxgrid.docker])"
    )
