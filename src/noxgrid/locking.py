"""Make and check per-cell locks with uv; evaluate policy and size before writing.

``lock_cells`` resolves cells in parallel (``uv pip compile`` with hashes, the
cell's python and platform, the accelerator's torch backend, indexes and
package swaps), sizes each resolution from the index, and writes the lock
only when policy and budget accept it. ``check_locks`` is offline: it
compares each lock's recorded inputs digest with the inputs as they are now.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from noxgrid import __version__
from noxgrid.config import Config
from noxgrid.errors import NoxgridError
from noxgrid.lockfile import (
    Lock,
    inputs_digest,
    lock_path,
    parse_lock,
    project_dependencies,
    render_header,
    requirement_files,
    rewrite_requirements,
)
from noxgrid.matrix import Cell
from noxgrid.policy import Finding, evaluate
from noxgrid.reports import atomic_write
from noxgrid.result import format_size
from noxgrid.runner import Command, Runner
from noxgrid.sizes import PackageIndex, SizeEstimate
from noxgrid.uv import Uv, uv_environment

PROJECT_INPUT = "project-dependencies.in"


@dataclass(frozen=True, kw_only=True)
class LockState:
    """Whether a cell's lock matches its inputs as they are now."""

    cell: Cell
    path: Path
    state: str  # "fresh", "stale" or "missing"
    detail: str = ""


def check_locks(config: Config, cells: Sequence[Cell]) -> list[LockState]:
    """Each cell's lock state; reads files only (no network, no process)."""
    states = []
    for cell in cells:
        path = lock_path(config, cell)
        if not path.is_file():
            states.append(LockState(cell=cell, path=path, state="missing"))
            continue
        digest, _ = inputs_digest(config, cell)
        recorded = read_lock(path).digest
        if recorded == digest:
            states.append(LockState(cell=cell, path=path, state="fresh"))
        else:
            states.append(
                LockState(
                    cell=cell,
                    path=path,
                    state="stale",
                    detail="its inputs changed since it was written (requirement files, "
                    "project dependencies, python, platform or accelerator rules)",
                )
            )
    return states


def refresh_command(cells: Sequence[Cell]) -> str:
    """The command that refreshes exactly these cells' locks."""
    return "noxgrid lock " + " ".join(cell.id for cell in cells)


def read_lock(path: Path) -> Lock:
    """Parse the lock at ``path``."""
    return parse_lock(path.read_text(encoding="utf-8"))


@dataclass(kw_only=True)
class LockOutcome:
    """What locking one cell did."""

    cell: Cell
    path: Path
    written: bool = False
    error: str | None = None
    findings: list[Finding] = field(default_factory=list)
    estimate: SizeEstimate | None = None
    packages: int = 0


def _derive_inputs(config: Config, cell: Cell, workdir: Path) -> list[str]:
    """Copy the requirement files into ``workdir`` (same layout), swaps applied.

    uv runs from ``workdir`` with the same relative paths, so its ``# via -r``
    annotations name the project's own files.
    """
    accelerator = config.accelerators[cell.accelerator]
    replace = dict(accelerator.replace)
    root = config.root.resolve()
    for path in requirement_files(config.profiles[cell.profile].requirements):
        try:
            relative = path.relative_to(root)
        except ValueError:
            continue  # outside the project: included by absolute path, left as it is
        target = workdir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            rewrite_requirements(path.read_text(encoding="utf-8"), replace), encoding="utf-8"
        )
    inputs = []
    for path in config.profiles[cell.profile].requirements:
        resolved = path.resolve()
        try:
            inputs.append(resolved.relative_to(root).as_posix())
        except ValueError:
            inputs.append(str(resolved))
    deps = project_dependencies(config, cell)
    if deps:
        text = "\n".join(deps) + "\n"
        (workdir / PROJECT_INPUT).write_text(rewrite_requirements(text, replace), encoding="utf-8")
        inputs.append(PROJECT_INPUT)
    return inputs


def compile_args(config: Config, cell: Cell, inputs: Sequence[str], output: str) -> list[str]:
    """The ``uv pip compile`` arguments for one cell (pure; tested without uv)."""
    accelerator = config.accelerators[cell.accelerator]
    args = [
        "pip",
        "compile",
        *inputs,
        "--python-version",
        cell.python,
        "--python-platform",
        config.platform,
        "--generate-hashes",
        "--no-header",
        "--annotation-style",
        "split",
        "--quiet",
        "--output-file",
        output,
        "--index-url",
        accelerator.index_url or config.index_url,
    ]
    for url in accelerator.extra_index_urls:
        args += ["--extra-index-url", url]
    if accelerator.torch_backend:
        args += ["--torch-backend", accelerator.torch_backend]
    return args


def lock_cell(
    config: Config, cell: Cell, *, uv: Uv, index: PackageIndex, uv_version: str
) -> LockOutcome:
    """Resolve, size, check and (when clean) write one cell's lock."""
    path = lock_path(config, cell)
    outcome = LockOutcome(cell=cell, path=path)
    try:
        digest, names = inputs_digest(config, cell)
        with tempfile.TemporaryDirectory(prefix=f"noxgrid-lock-{cell.id}-") as temporary:
            workdir = Path(temporary)
            inputs = _derive_inputs(config, cell, workdir)
            output = workdir / "lock.txt"
            command = Command(
                argv=(uv.binary, *compile_args(config, cell, inputs, str(output))),
                cwd=workdir,
                env=uv_environment(),
                timeout=900,
            )
            result = uv.runner.run(command)
            if not result.ok:
                outcome.error = f"uv could not resolve {cell.id}:\n" + "\n".join(
                    result.output.strip().splitlines()[-20:]
                )
                return outcome
            body = output.read_text(encoding="utf-8").replace(
                f"-r {PROJECT_INPUT}", "-r pyproject.toml"
            )
    except NoxgridError as error:
        outcome.error = str(error)
        return outcome
    lock = parse_lock(body)
    outcome.packages = len(lock.packages)
    estimate = index.estimate(lock, cell.python, config.platform)
    outcome.estimate = estimate
    accelerator = config.accelerators[cell.accelerator]
    outcome.findings = evaluate(
        lock,
        accelerator=accelerator,
        policy=config.policy,
        profile=config.profiles[cell.profile],
        installed_estimate=estimate.installed,
        largest=estimate.largest(10),
    )
    if outcome.findings:
        return outcome
    header = render_header(
        [
            ("noxgrid", __version__),
            ("uv", uv_version),
            ("python", cell.python),
            ("platform", config.platform),
            (
                "accelerator",
                f"{cell.accelerator} (torch-backend: {accelerator.torch_backend or 'none'})",
            ),
            (
                "inputs",
                ", ".join(
                    names
                    + (
                        ["pyproject.toml"]
                        if PROJECT_INPUT in body or "-r pyproject.toml" in body
                        else []
                    )
                ),
            ),
            ("inputs-sha256", digest),
            ("download-bytes", str(estimate.download)),
            ("installed-bytes", str(estimate.installed)),
            ("largest", ", ".join(f"{name}={size}" for name, size in estimate.largest(10))),
            ("unsized", ", ".join(estimate.unknown) or "none"),
        ],
        cell,
    )
    atomic_write(path, header + "\n" + body)
    outcome.written = True
    return outcome


def lock_cells(
    config: Config,
    cells: Sequence[Cell],
    *,
    jobs: int = 4,
    runner: Runner | None = None,
    index: PackageIndex | None = None,
    on_done: Callable[[LockOutcome], None] | None = None,
) -> list[LockOutcome]:
    """Lock ``cells`` in parallel; ``on_done`` hears of each as it finishes."""
    runner = runner or Runner()
    uv = Uv(runner)
    version = runner.run(Command(argv=(uv.binary, "--version"))).output.strip()
    index = index or PackageIndex(config.index_url)

    def one(cell: Cell) -> LockOutcome:
        outcome = lock_cell(config, cell, uv=uv, index=index, uv_version=version)
        if on_done is not None:
            on_done(outcome)
        return outcome

    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="lock")
    try:
        outcomes = list(pool.map(one, cells))
    except KeyboardInterrupt:
        # Stop the resolutions under way; no lock is half-written (atomic writes).
        pool.shutdown(wait=False, cancel_futures=True)
        runner.stop_all()
        raise
    pool.shutdown()
    return outcomes


def describe(outcome: LockOutcome) -> str:
    """One line (plus findings) about a cell's lock."""
    if outcome.error:
        return f"{outcome.cell.id}: FAILED\n{outcome.error}"
    sizes = ""
    if outcome.estimate is not None:
        sizes = (
            f", download {format_size(outcome.estimate.download)}, installed "
            f"~{format_size(outcome.estimate.installed)}"
        )
    if outcome.findings:
        body = "\n".join(finding.render() for finding in outcome.findings)
        return (
            f"{outcome.cell.id}: REFUSED ({outcome.packages} packages{sizes}); "
            f"lock not written\n{body}"
        )
    return f"{outcome.cell.id}: wrote {outcome.path.name} ({outcome.packages} packages{sizes})"
