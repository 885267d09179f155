"""The pure rules for a cell's image: base image, build arguments, labels, what an image may
carry (size, user, labels, and its /app: secrets, leftovers, ownership), and what a
client's words about a missing engine mean. No process: ``tools.docker`` runs them.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from noxgrid.model.allowances import for_cell, kept_in
from noxgrid.model.config import Config
from noxgrid.model.context import ignored
from noxgrid.model.kept import KEEP_LAST
from noxgrid.model.localpkg import local_package_args
from noxgrid.model.lockfile import lock_path
from noxgrid.model.matrix import Cell
from noxgrid.model.secrets import SecretFinding, secrets_problem
from noxgrid.model.sourceinstall import source_install

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
    "**/.docker",
    "**/.kube",
    "**/.gcp",
    "**/*credentials*",
    "**/.env",
    "**/.env.*",
    "**/*.kdbx",
)

# Files that look like secrets by name but are templates by convention.
NOT_SECRETS = (".env.example", ".env.sample", ".env.template", ".env.dist")

# Python modules named for credentials are code (google-auth's credentials.py), not
# secrets: let back into the build context, and found by their content if they hold one.
CODE_NAMED_LIKE_SECRETS = ("**/*credentials*.py",)

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
    "**/*.sqlite3",
    "reports",
    *SECRET_PATTERNS,
    *(f"!**/{name}" for name in NOT_SECRETS),
    *(f"!{pattern}" for pattern in CODE_NAMED_LIKE_SECRETS),
)


@dataclass(frozen=True, kw_only=True)
class AppTree:
    """The image's application tree: each entry's owner, mode and size, the text of its
    small text files (to be scanned for secrets), and the waste found beside it."""

    uid: int
    gid: int
    entries: tuple[Mapping[str, Any], ...]
    waste: tuple[Mapping[str, Any], ...] = ()
    texts: Mapping[str, str] = field(default_factory=dict)
    unread: int = 0  # text files past the scan's total, not read

    @classmethod
    def parse(cls, output: str) -> AppTree:
        """Read TREE_SCRIPT's output (every line; nothing may be cut)."""
        head: dict[str, Any] = {}
        entries = []
        waste = []
        texts = {}
        unread = 0
        for line in output.splitlines():
            line = line.strip()
            if not line.startswith("{"):
                continue
            item = json.loads(line)
            if "user" in item:
                head = item
            elif "kind" in item:  # WASTE_SCRIPT's, run in the same container
                waste.append(item)
            else:
                text = item.pop("t", None)
                if isinstance(text, str):
                    texts[str(item["p"])] = text
                elif text is False:
                    unread += 1
                entries.append(item)
        return cls(
            uid=int(head.get("uid", -1)),
            gid=int(head.get("gid", -1)),
            entries=tuple(entries),
            waste=tuple(waste),
            texts=texts,
            unread=unread,
        )


def _secret_by_name(path: str, size: object) -> bool:
    """True when /app's ``path`` is a secret by its name. An empty file holds nothing (an
    empty .env is a placeholder, not a secret); a template or a Python module is none."""
    return (
        path.rsplit("/", 1)[-1] not in NOT_SECRETS
        and size != 0
        and ignored(path, SECRET_PATTERNS)
        and not ignored(path, CODE_NAMED_LIKE_SECRETS)
    )


def tree_problems(tree: AppTree) -> list[str]:
    """What is wrong with an image's /app: secrets, leftovers .dockerignore keeps out,
    and anything the runtime user owns or may write."""
    secrets = []
    leaked = []
    writable = []
    for entry in tree.entries:
        path = str(entry["p"])
        if _secret_by_name(path, entry.get("z")):
            secrets.append(f"{path} (a secret by its name)")
        elif ignored(path, [p for p in DOCKERIGNORE if p not in SECRET_PATTERNS]):
            leaked.append(path)
        mode = int(entry["m"])
        owner = int(entry["u"])
        # A symbolic link's own mode is always 0777 and means nothing: what it points at
        # is checked as itself, and who may replace it is its folder's mode.
        bits = 0 if stat.S_ISLNK(mode) else mode
        if (
            owner != 0
            or bits & stat.S_IWOTH
            or (bits & stat.S_IWGRP and tree.gid >= 0 and int(entry["g"]) == tree.gid)
        ):
            writable.append(path)
    problems = []
    if secrets:
        problems.append(
            f"the image's /app holds {len(secrets)} secret-like file(s) by name: "
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
            + "; fix: list them in .dockerignore (noxgrid's default keeps them out)"
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
    config: Config,
    cell: Cell,
    *,
    base: str,
    lock_sha256: str,
    revision: str,
    locked: Iterable[str] = (),
) -> dict[str, str]:
    """The build arguments of one cell's image. ``locked``: the lock's canonical names, for
    KEEP_LAST (each exclusive group allowed on purpose whose keep and another member are
    locked: keep, installed last)."""
    profile = config.profiles[cell.profile]
    args = {
        "BASE_IMAGE": base,
        "LOCK": lock_path(config, cell).relative_to(config.root).as_posix(),
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
    if profile.local_packages:
        args["LOCAL_PACKAGES"] = local_package_args(config, cell)
    if not profile.install_project:
        args["INSTALL_PROJECT"] = "0"  # a service: its code is /app, nothing to install
    elif not profile.local_packages:
        folder = source_install(config.root, DOCKERIGNORE).folder
        if folder is not None:  # its code from /app/<folder>, no wheel built of it
            args.update(PROJECT_INSTALL="source", PROJECT_SOURCE=folder)
    kept = [keep for keep, _ in kept_in(for_cell(config.allowances, cell), locked)]
    if kept:
        args[KEEP_LAST] = " ".join(kept)
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
    base_size: int | None = None,
    secrets: Sequence[SecretFinding] = (),
) -> list[str]:
    """What is wrong with a built image: size, user, labels, and its /app (see tree_problems;
    ``secrets``: what detect-secrets found in /app's text, by file, line and kind).

    The size budget is the project's: what the image adds on top of its base
    (``base_size``), so that changing the base image does not change the verdict.
    """
    problems = []
    size = int(inspect.get("Size", 0))
    added = size - base_size if base_size is not None else size
    if budget is not None and added > budget:
        base = f" on top of its {base_size / 1e6:.1f} MB base" if base_size is not None else ""
        problems.append(
            f"the project adds {added / 1e6:.1f} MB{base}, over the profile's "
            f"{budget / 1e6:.1f} MB size-budget; fix: see which packages grew "
            "(noxgrid lock --check, the lock's largest packages), or raise size-budget"
        )
    user = (inspect.get("Config") or {}).get("User") or ""
    if user.split(":")[0] in ("", "root", "0"):
        problems.append(
            "the image runs as root; fix: add a user and `USER` it in the Dockerfile (the "
            "template does: `useradd ... app` and `USER app`)"
        )
    labels = (inspect.get("Config") or {}).get("Labels") or {}
    if labels.get("io.noxgrid.cell") != cell.id:
        problems.append(
            f"label io.noxgrid.cell is {labels.get('io.noxgrid.cell')!r}, "
            f"not {cell.id!r}; fix: pass ARG CELL into a LABEL in the Dockerfile"
        )
    if not labels.get("io.noxgrid.lock-sha256"):
        problems.append(
            "label io.noxgrid.lock-sha256 is missing or empty; fix: pass ARG LOCK_SHA256 into "
            "a LABEL in the Dockerfile (`noxgrid dockerfile` shows how)"
        )
    # The revision is known only inside a git checkout; where it is, it must be on the image.
    if revision and labels.get("org.opencontainers.image.revision") != revision:
        problems.append(
            f"label org.opencontainers.image.revision is not {revision}; fix: pass ARG "
            "REVISION into a LABEL in the Dockerfile (`noxgrid dockerfile` shows how)"
        )
    found = secrets_problem(secrets, "the image's /app")
    if found:
        problems.append(found)
    if tree is not None:
        problems += tree_problems(tree)
    return problems
