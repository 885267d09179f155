"""The image stage: build the profile's target, check the image and its /app, audit it."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from noxgrid._version import __version__
from noxgrid.cell.image_doctor import doctor_image
from noxgrid.cell.state import CellRun, Stage, failure
from noxgrid.errors import NoxgridError, StageFailure, StageSkipped
from noxgrid.files import atomic_write, read_json
from noxgrid.model.allowances import for_cell, kept_in
from noxgrid.model.app import pull_failure_hint
from noxgrid.model.attestation import attestation_note
from noxgrid.model.basesize import (
    BaseSize,
    from_config,
    from_local,
    platform_config,
    unmeasured_budget,
)
from noxgrid.model.context import CONTEXT_FILES, context_files, ignore_patterns
from noxgrid.model.freshness import read_lock
from noxgrid.model.image import (
    DOCKERIGNORE,
    AppTree,
    base_image,
    build_args,
    git_revision,
    image_problems,
    image_tag,
    revision_label,
)
from noxgrid.model.kept import keep_last_problem
from noxgrid.model.localpkg import local_package_args, local_packages_problem
from noxgrid.model.lockfile import Lock, lock_path, parse_lock
from noxgrid.model.pylock import lock_copy_problem
from noxgrid.model.results import format_size
from noxgrid.model.secrets import SCAN_TOTAL, secrets_problem, text_key
from noxgrid.model.sizes import largest_lines
from noxgrid.model.waste import Waste, intended, waste_findings, waste_problem
from noxgrid.render.dockerfile import default_dockerignore
from noxgrid.tools.docker import Docker
from noxgrid.tools.git import committed_text, tree_dirty
from noxgrid.tools.secrets import scan_files, scan_texts


def docker_for(state: CellRun) -> Docker:
    if not state.docker_enabled:
        raise StageSkipped("skipped: --no-docker")
    if state.config.docker.image is None:
        raise StageSkipped("skipped: no image declared ([tool.noxgrid.docker] image)")
    if state.docker is None:
        state.docker = Docker.find(state.runner, state.env)
        removed = state.docker.remove_orphans()
        if removed:
            state.note(
                f"removed {len(removed)} container(s) a killed noxgrid run left: "
                + ", ".join(removed)
            )
    return state.docker


def _prepare(state: CellRun, lock: Lock) -> tuple[Path, frozenset[tuple[str, str]]]:
    """The Dockerfile, checked; a default .dockerignore written where there is none; the
    build context scanned for secrets (what it read clean, see _scan_context)."""
    config = state.config
    dockerfile = config.root / config.docker.dockerfile
    if not dockerfile.is_file():
        raise StageFailure(
            f"{dockerfile} does not exist; fix: `noxgrid dockerfile > {config.docker.dockerfile}`"
            " writes noxgrid's template, or set dockerfile in [tool.noxgrid.docker]"
        )
    text = dockerfile.read_text(encoding="utf-8")
    kept = [keep for keep, _ in kept_in(for_cell(config.allowances, state.cell), lock.packages)]
    problem = (
        lock_copy_problem(text, config.docker.dockerfile)
        or local_packages_problem(
            text, config.docker.dockerfile, local_package_args(config, state.cell)
        )
        or keep_last_problem(text, config.docker.dockerfile, kept)
    )
    if problem:
        raise StageFailure(problem)
    ignore = config.root / ".dockerignore"
    if not ignore.exists():
        ignore.write_text(default_dockerignore(), encoding="utf-8")
        state.note(
            f"wrote {ignore.name} (there was none): it keeps out git, caches, venvs and "
            f"secrets ({len(DOCKERIGNORE)} patterns)"
        )
    return dockerfile, _scan_context(state, ignore)


def _scan_context(state: CellRun, ignore: Path) -> frozenset[tuple[str, str]]:
    """Fail before the build when the build context (what .dockerignore lets through)
    holds a secret: found by what it is, so that it never reaches a layer. The files read
    clean (see text_key), which the image's /app scan need not read again. A file read
    clean by an earlier run (same path and bytes, same scanner) is not read again: after
    a source change only the changed files are."""
    root = state.config.root
    context = context_files(root, ignore_patterns(ignore.read_text(encoding="utf-8")))
    start = time.monotonic()
    keys = {path: text_key(path, (root / path).read_bytes()) for path in context.files}
    kept = state.config.cache_dir / "context-clean.json"
    scanner = _scanner()
    before = read_json(kept) or {}
    known = (
        {tuple(key) for key in before.get("clean", [])}
        if before.get("scanner") == scanner
        else set()
    )
    unread = [path for path in context.files if keys[path] not in known]
    found = scan_files(root, unread)
    problem = secrets_problem(found, "the build context (what .dockerignore lets in)")
    if problem:
        raise StageFailure(problem)
    clean = frozenset(keys.values())
    atomic_write(kept, json.dumps({"scanner": scanner, "clean": sorted(clean)}))
    more = f" (the first {CONTEXT_FILES}; the rest unread)" if context.truncated else ""
    again = len(context.files) - len(unread)
    state.note(
        f"the build context's {len(context.files)} file(s){more} hold no secret "
        f"(detect-secrets read {len(unread)}, {again} read clean before, unchanged; "
        f"{time.monotonic() - start:.1f}s)"
    )
    return clean


def _scanner() -> str:
    """What a clean verdict was reached with: detect-secrets' and noxgrid's versions."""
    # "by path": kept verdicts were once keyed by the file's name alone; those are not used
    return f"detect-secrets {metadata.version('detect-secrets')}, noxgrid {__version__}, by path"


def stage_image(state: CellRun) -> str:
    docker = docker_for(state)
    config, cell = state.config, state.cell
    lock = state.lock or read_lock(lock_path(config, cell))
    dockerfile, clean = _prepare(state, lock)
    docker_preflight(state, docker, lock)
    base = base_image(config, cell, state.env)
    tag = image_tag(config, cell)
    revision = revision_label(git_revision(config.root), tree_dirty(config.root, state.runner))
    digest, locked = lock.digest or "", lock.packages
    args = build_args(config, cell, base=base, lock_sha256=digest, revision=revision, locked=locked)
    if args.get("PROJECT_INSTALL") == "source":
        state.note(
            f"the project's metadata is built from its build configuration and its code "
            f"imported from /app/{args['PROJECT_SOURCE']} (PROJECT_INSTALL=source): a source "
            "change runs no build backend"
        )
    with state.log("image") as sink:
        outcome = docker.build(
            config.root,
            dockerfile=dockerfile,
            target=cell.profile,
            tag=tag,
            args=args,
            sink=sink,
            timeout=config.suite.timeout,
            cache=state.env.get("NOXGRID_BUILD_CACHE"),
            scope=f"noxgrid-{cell.id}",
        )
    if not outcome.ok:
        hint = pull_failure_hint(outcome.output, base)
        text = failure("docker build", outcome.returncode, outcome.output)
        raise StageFailure(f"{hint}\n{text}" if hint else text)
    state.note(attestation_note(docker.attestation()))
    inspect = docker.inspect_image(tag)
    state.image_size = int(inspect.get("Size", 0))
    measured, budget, unmeasured = _budget(state, docker, base, tag, inspect)
    # never the whole image in the budget's place: unmeasured, no budget is judged
    known = (revision, measured.size, None if unmeasured else budget, clean)
    tree, waste = _check(state, docker, lock, tag, inspect, known)
    try:
        doctor = doctor_image(state, docker, tag, lock, inspect)
    except StageFailure as exc:
        cause, _, rest = str(exc).partition("\n")  # the cause first, on the summary's line
        raise StageFailure(f"the image {tag} fails the doctor: {cause}\n{rest}") from None
    return (
        f"{tag} from {base}: {_sizes(state.image_size, measured, budget, unmeasured)}, "
        "non-root, labelled, "
        f"no secret in /app's {len(tree.texts)} text file(s), "
        f"{_wasted(waste, config.docker.waste)}"
        f"{_carried(tree.waste)}, built in {outcome.duration:.1f}s; {doctor}"
    )


def _check(
    state: CellRun,
    docker: Docker,
    lock: Lock,
    tag: str,
    inspect: dict[str, Any],
    known: tuple[str, int | None, int | None, frozenset[tuple[str, str]]],
) -> tuple[AppTree, list[Waste]]:
    """The built image's checks (size, user, labels, /app: names, secrets by content,
    ownership; waste against its limit): StageFailure naming every problem. ``known``: the
    revision, the base's size, the budget to judge, and the context's files read clean
    (not read again)."""
    revision, base_size, budget, clean = known
    config, cell = state.config, state.cell
    tree = docker.app_tree(tag, str((inspect.get("Config") or {}).get("User") or ""))
    problems = image_problems(
        inspect,
        cell=cell,
        budget=budget,
        tree=tree,
        revision=revision,
        base_size=base_size,
        secrets=scan_texts(
            {p: t for p, t in tree.texts.items() if text_key(p, t.encode()) not in clean}
        ),
    )
    waste = waste_findings(tree.waste)
    too_much = waste_problem(waste, config.docker.waste)
    if too_much:
        problems.append(too_much)
    if problems:
        raise StageFailure(
            f"the image {tag} fails its checks:\n- "
            + "\n- ".join(problems)
            + _growth(state, lock, problems)
        )
    for item in waste:
        state.note(f"the image carries waste: {item.render()}")
    if tree.unread:
        state.note(
            f"{tree.unread} text file(s) of /app were not read for secrets: past the "
            f"{format_size(SCAN_TOTAL)} the scan reads in all (large text is data)"
        )
    return tree, waste


def _growth(state: CellRun, lock: Lock, problems: list[str]) -> str:
    """For a budget overrun: the lock's largest packages, and which grew since the
    committed lock (git's HEAD)."""
    if not any("size-budget" in problem for problem in problems):
        return ""
    path = lock_path(state.config, state.cell)
    committed = committed_text(path, state.runner)
    before = parse_lock(committed).largest() if committed else None
    lines = [f"    {line}" for line in largest_lines(lock.largest(), before)]
    where = "since the committed lock" if committed else "(no committed lock to compare with)"
    return f"\n  the lock's largest packages {where}:\n" + "\n".join(lines)


def _sizes(size: int, base: BaseSize, budget: int | None, unmeasured: bool) -> str:
    """``1.2 GB = base 130 MB + the project's 1.1 GB``; where the base's size is unknown,
    the total and whether the budget could be measured all the same."""
    if base.size is None:
        if unmeasured:
            said = "size-budget NOT measured, see notes"
        elif budget is None:
            said = "no size-budget"
        else:
            said = "the whole image is within the size-budget"
        return f"{format_size(size)} (the base's size unknown: {said})"
    added = format_size(max(size - base.size, 0))
    return f"{format_size(size)} = base {format_size(base.size)} + the project's {added}"


def _wasted(waste: Sequence[Waste], limit: int | None) -> str:
    if not waste:
        return "no waste (caches, wheels, build tools, apt lists)"
    return (
        f"waste: {format_size(sum(w.size for w in waste))} in {len(waste)} kind(s), "
        + ('noted (waste = "note")' if limit is None else f"under its {format_size(limit)} limit")
        + ", see notes"
    )


def _carried(entries: Sequence[Mapping[str, object]]) -> str:
    """``, carries its tests for --in-image (40.0 kB)``: intended content, not waste."""
    return "".join(f", carries {what} ({format_size(size)})" for what, size in intended(entries))


def _budget(
    state: CellRun, docker: Docker, base: str, tag: str, inspect: Mapping[str, Any]
) -> tuple[BaseSize, int | None, bool]:
    """(the base's size, the profile's budget, True where it could not be measured: noted)."""
    measured = measure_base(docker, base, tag, inspect)
    budget = state.config.profiles[state.cell.profile].size_budget
    unmeasured = unmeasured_budget(state.image_size or 0, budget, measured, base)
    if unmeasured:
        state.note(unmeasured)
    return measured, budget, bool(unmeasured)


def measure_base(docker: Docker, base: str, tag: str, inspect: Mapping[str, Any]) -> BaseSize:
    """The size of the base ``tag`` was built from, as unpacked in it: the local store's
    base where it is that one, else measured in the image by the base's manifest (read
    through buildx from its registry), else unknown with why (model/basesize.py)."""
    try:
        local: Mapping[str, Any] | None = docker.inspect_image(base)
    except NoxgridError:
        local = None
    found = from_local(inspect, local, base) if local is not None else None
    if found is not None and found.size is not None:
        return found
    config = platform_config(
        docker.base_config(base),
        str(inspect.get("Os") or "linux"),
        str(inspect.get("Architecture") or "amd64"),
    )
    if config is None:
        why = found.problem if found else f"{base} is not in the local store"
        how = "" if docker.client.buildx else " (this docker client has no buildx to ask)"
        return BaseSize(size=None, problem=f"{why}, and its manifest could not be read{how}")
    return from_config(inspect, docker.history_sizes(tag), config, base)


def docker_preflight(state: CellRun, docker: Docker, lock: Lock) -> None:
    """Refuse a build the engine's disk cannot hold: the venv layer plus the wheels."""
    root = Path(docker.client.root_dir) if docker.client.root_dir else None
    if root is None or not root.exists():
        return  # a remote engine, or one whose data root this process cannot see
    need = int(
        ((lock.header_bytes("installed-bytes") or 0) + (lock.header_bytes("download-bytes") or 0))
        * 1.1
    )
    free = shutil.disk_usage(root).free
    if free < need:
        raise StageFailure(
            f"not enough free space to build {state.cell.id}: about {format_size(need)} is "
            f"needed where Docker keeps images ({root}), which has {format_size(free)} free; "
            "fix: free space there (`docker system prune`), or move Docker's data-root"
        )


def describe(state: CellRun) -> str:
    """What the image stage says it does when it starts."""
    return f"build target '{state.cell.profile}' of {state.config.docker.dockerfile}, check, audit"


STAGE = Stage(
    name="image",
    needs=("lock",),
    adds=("docker", "image_size", "doctor"),
    run=stage_image,
    describe=describe,
)
