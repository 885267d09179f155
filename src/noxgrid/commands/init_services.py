"""``noxgrid init`` where there is no pyproject.toml: every requirement-file service.

Each service found (``init.services``) gets its own declaration, files,
locks and workflow; one service's failure does not stop the others, and the
exit status says whether every one is clean.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from noxgrid.errors import CellFailed, ConfigError

if TYPE_CHECKING:
    from noxgrid.init.axis import Cut
    from noxgrid.init.services import ServicePlan
    from noxgrid.model.compose import ComposeService
    from noxgrid.model.config import Config


def adopt_services(
    root: Path, *, force: bool, no_lock: bool, available: Callable[[str], bool]
) -> int:
    """Adopt every requirement-file service of the repository at ``root``."""
    from noxgrid.commands.init import _workflow_fates
    from noxgrid.files import atomic_write
    from noxgrid.init.plan import summary, workflow_choice
    from noxgrid.init.service_ci import plan_declared
    from noxgrid.init.service_files import service_files, workflow_path
    from noxgrid.init.services import find_services
    from noxgrid.model.ci_jobs import read_jobs
    from noxgrid.model.ci_testjob import read_suite_jobs
    from noxgrid.model.compose import read_compose
    from noxgrid.model.config import relative_path
    from noxgrid.model.declaration import load_config

    folders = find_services(root)
    if not folders:
        raise ConfigError(
            f"{root}: neither pyproject.toml nor setup.py, and no service folder with a "
            "requirements.txt (and no pyproject.toml of its own): not a Python project",
            fix="run init in the project's folder (or pass it with -C); a service adopted "
            "before has its pyproject.toml: edit its [tool.noxgrid], or remove it and rerun",
        )
    directories = [relative_path(folder, root) if folder != root else "." for folder in folders]
    print(f"init: {len(folders)} requirement-file service(s): {', '.join(directories)}")
    jobs, test_jobs, compose = read_jobs(root), read_suite_jobs(root), read_compose(root)
    _unadopted(compose, directories)
    configs: list[tuple[str, Config, bool, Callable[[Cut], Config]]] = []
    for folder in folders:
        plan = plan_declared(
            folder,
            root,
            jobs=jobs,
            test_jobs=test_jobs,
            compose=compose,
            others=directories,
            available=available,
        )
        workflow = workflow_path(plan, single_root=workflow_choice(root, force))
        fates, files = service_files(plan, force=force, workflow=workflow)
        for path, text in files.items():
            atomic_write(path, text)
        print(f"\n[{plan.directory}]")
        for note in plan.notes:
            print(f"init: {note}")
        config = load_config(folder)
        write = force or not config.workflow_file.exists()
        fates += _workflow_fates(config, write=write, no_lock=no_lock)
        print(summary(fates))
        configs.append((plan.directory, config, write, _redeclarer(plan, workflow)))
    if no_lock:
        print("\nnext, in each service's folder: noxgrid lock, noxgrid workflow, noxgrid check")
        return 0
    return _lock_each(configs)


def _unadopted(compose: Sequence[ComposeService], directories: Sequence[str]) -> None:
    """Say which services of the compose file build a folder that is not a service."""
    for service in compose:
        if service.context not in directories:
            print(
                f"init: the compose service '{service.name}' builds {service.context}/, "
                "which is no requirement-file service: not adopted (a Python project "
                f"there: noxgrid init -C {service.context})"
            )


def _redeclarer(plan: ServicePlan, workflow: str) -> Callable[[Cut], Config]:
    """What ``_lock_and_check`` calls when locking showed what init could not know: the
    service's pyproject.toml written again without the python values (or cells) that
    cannot lock, each with uv's reason, and with uv's torch backend where torch needs it."""

    def redeclare(cut: Cut) -> Config:
        from noxgrid.files import atomic_write
        from noxgrid.init.service_files import render_service_table
        from noxgrid.model.declaration import load_config

        plan.left_out += cut.left_out
        plan.torch = plan.torch or cut.torch
        plan.pythons = [python for python in plan.pythons if python not in cut.pythons]
        atomic_write(plan.folder / "pyproject.toml", render_service_table(plan, workflow=workflow))
        return load_config(plan.folder)

    return redeclare


def _lock_each(configs: list[tuple[str, Config, bool, Callable[[Cut], Config]]]) -> int:
    """Each service's locks, workflows and check; every service is tried. A python value
    (or a cell) that cannot lock is left out of that service's declaration."""
    from noxgrid.commands.init import _lock_and_check

    failed: list[str] = []
    for directory, config, write, redeclare in configs:
        print(f"\n[{directory}] locks and check")
        try:
            _lock_and_check(config, write_workflows=write, redeclare=redeclare)
        except CellFailed as exc:
            print(f"[{directory}] {exc}")
            failed.append(directory)
    if failed:
        raise CellFailed(
            f"init wrote every service's files, but {', '.join(failed)} "
            f"{'is' if len(failed) == 1 else 'are'} not clean",
            fix="apply the fixes above, then run noxgrid check in that folder",
        )
    return 0
