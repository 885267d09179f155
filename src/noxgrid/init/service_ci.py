"""What a requirement-file service's repository already declares, carried into its plan.

- The test job of the hand-written CI (``model.ci_testjob``): the packages its
  install lines name bare join the lean profile's test requirements (a file of
  their own, ``requirements-ci-test.txt``, where the service's files lack them); the
  Python projects below the service it installs (``--no-deps ./pkg``) become the
  profiles' ``local-packages``; its pytest paths and options become the suite
  command. Its Python matrix is read by ``init.services`` (the test job's versions
  before any other job's).
- The compose service that builds the folder (``model.compose``): its healthcheck's
  route where the code has none, and the port the container answers on.
- The Debian packages the service's Dockerfiles install (``model.dockerapt``): the
  lean profile's from the CI Dockerfile where there is one, else the production one;
  the full profile's from the production one.

Each value is said with the file and line it came from.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Callable, Sequence
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from noxgrid.init.application import server_command
from noxgrid.init.services import ServicePlan, plan_service
from noxgrid.model.app_source import FoundRoute
from noxgrid.model.ci_jobs import Job, Stated
from noxgrid.model.ci_testjob import SuiteJob, installs, suite_args, suite_job_for
from noxgrid.model.ci_variants import read_pins, variants
from noxgrid.model.compose import ComposeService, service_for
from noxgrid.model.config import relative_path
from noxgrid.model.dockerapt import dockerfile_apt
from noxgrid.model.localpkg import declared_dependencies, project_problem

CI_TEST_FILE = "requirements-ci-test.txt"
# The image's server runs as a user, not root: it binds ports from here up.
UNPRIVILEGED = 1024


def carry_test_job(plan: ServicePlan, job: SuiteJob, repo_root: Path) -> None:
    """The test job's bare packages and pytest arguments into ``plan``."""
    found = installs(job, plan.directory)
    have = {name for file in plan.lean for name in read_pins(plan.folder / file)}
    wanted: list[str] = []
    for stated in found.packages:
        try:
            name = canonicalize_name(Requirement(stated.value).name)
        except InvalidRequirement:  # pragma: no cover - installs() keeps only requirements
            continue
        if name not in have:
            have.add(name)
            wanted.append(stated.value)
    if wanted:
        where = found.packages[0].where(repo_root)
        plan.extra_files[CI_TEST_FILE] = (
            f"# What the CI job '{job.name}' installs by name ({where}), "
            "written by noxgrid init.\n" + "".join(f"{item}\n" for item in wanted)
        )
        for profile in (plan.lean, plan.full):
            if profile and CI_TEST_FILE not in profile:
                profile.append(CI_TEST_FILE)
        plan.notes.append(
            f"{CI_TEST_FILE}: {', '.join(wanted)}, installed by name by the CI job "
            f"'{job.name}' ({where}): added to the test requirements"
        )
    carry_local(plan, found.local, job.name, repo_root)
    for stated in found.left_out:
        plan.notes.append(
            f"not carried: `{stated.value}` installed by the CI job '{job.name}' "
            f"({stated.where(repo_root)}): {_why_not(stated.value)}"
        )
    args = suite_args(job, plan.directory, repo_root)
    if args is not None and args.args:
        plan.suite_args = list(args.args)
        dropped = f"; left out: {shlex.join(args.dropped)}" if args.dropped else ""
        plan.notes.append(
            f"suite command: pytest {shlex.join(args.args)}, as the CI job '{job.name}' "
            f"runs it ({args.where}){dropped}"
        )


def carry_local(plan: ServicePlan, local: Sequence[Stated], job: str, repo_root: Path) -> None:
    """The folders below the service that the test job installs as packages: into the
    profiles' ``local-packages`` where each is a Python project, else named with why."""
    have = {name for file in {*plan.lean, *plan.full} for name in read_pins(plan.folder / file)}
    for stated in local:
        entry = f"./{stated.value}"
        where = stated.where(repo_root)
        problem = project_problem(plan.folder / stated.value, plan.folder)
        if problem is not None:
            plan.notes.append(
                f"not carried: `{entry}` installed by the CI job '{job}' ({where}): {problem}"
            )
            continue
        if entry not in plan.local_packages:
            plan.local_packages.append(entry)
        missing = [
            text
            for text in declared_dependencies(plan.folder / stated.value)
            if _name(text) not in have
        ]
        plan.notes.append(
            f"local-packages: {entry}, installed by the CI job '{job}' ({where}): "
            "installed --no-deps after the lock in every profile"
            + (
                f"; its dependencies {', '.join(missing)} are in no requirement file: "
                "add them to one"
                if missing
                else ""
            )
        )


def _name(requirement: str) -> str:
    try:
        return canonicalize_name(Requirement(requirement).name)
    except InvalidRequirement:
        return requirement


def _why_not(value: str) -> str:
    if value.endswith((".txt", ".in")):
        return "a requirement file outside the service's folder (add it to a profile)"
    if value == "." or value.startswith((".[", "./[")):
        return "a service's tree is not installed (its code is taken from the tree)"
    if "://" in value:
        return "an install from a URL: write it in one of the profile's requirement files"
    return (
        "a folder outside the service's folder: local-packages takes only Python projects "
        "inside it (move the package below the service, or install it from an index)"
    )


def carry_compose(plan: ServicePlan, service: ComposeService, requirements: set[str]) -> None:
    """The compose service's health route (where the code has none) and port."""
    application = plan.application
    said = list(application.notes)
    stand_in = application.health is None or application.health.fallback
    if stand_in and service.health_path is not None:
        route = FoundRoute(
            path=service.health_path.value,
            function=f"the compose service '{service.name}'s healthcheck",
            where=service.health_path.where,
            on_app=False,
        )
        application = dataclasses.replace(application, health=route)
        plan.notes = [n for n in plan.notes if not (n in said and n.startswith("no health"))]
        plan.notes.append(
            f"health route: GET {route.path} (the compose service '{service.name}'s "
            f"healthcheck, {route.where}; the code names none)"
        )
    if service.port is not None and service.port.value.isdigit():
        port = int(service.port.value)
        if port < UNPRIVILEGED:
            plan.notes.append(
                f"port: {application.port}, not the compose service '{service.name}''s "
                f"{port} ({service.port.where}): noxgrid's image runs its server as a "
                f"user that may not bind a port below {UNPRIVILEGED}"
            )
            plan.application = application
            return
        command = application.command
        if application.app is not None:
            command, _ = server_command(application.app, requirements, port)
        if command != application.command and application.command is not None:
            plan.notes = [
                n.replace(application.command, command) if n in said and command else n
                for n in plan.notes
            ]
        application = dataclasses.replace(application, port=port, command=command)
        plan.notes.append(
            f"port: {port} (the compose service '{service.name}', {service.port.where})"
        )
    plan.application = application


def carry_apt(plan: ServicePlan, repo_root: Path, production: Path | None = None) -> None:
    """The Debian packages the service's Dockerfiles install, per profile.
    ``production``: the Dockerfile the compose file builds, where it names one."""
    found = variants(plan.folder)
    shipped = production if production is not None and production.is_file() else found.dockerfile
    lean_file = found.ci_dockerfile or shipped
    for profile, path in (("lean", lean_file), ("full", shipped)):
        if path is None or (profile == "full" and not plan.full):
            continue
        packages = dockerfile_apt(path)
        if not packages:
            continue
        plan.apt[profile] = [name for name, _ in packages]
        where = f"{path.relative_to(repo_root).as_posix()}:{packages[0][1]}"
        plan.notes.append(
            f"{profile} profile apt: {', '.join(plan.apt[profile])} (what {where} installs)"
        )


def plan_declared(
    folder: Path,
    repo_root: Path,
    *,
    jobs: Sequence[Job],
    test_jobs: Sequence[SuiteJob],
    compose: Sequence[ComposeService],
    others: Sequence[str],
    available: Callable[[str], bool],
) -> ServicePlan:
    """The plan of one service with what its CI, compose file and Dockerfiles declare."""
    directory = relative_path(folder, repo_root) if folder != repo_root else "."
    job = suite_job_for(test_jobs, directory, others)
    plan = plan_service(
        folder, repo_root, jobs=jobs, others=others, available=available, test_job=job
    )
    if job is not None:
        carry_test_job(plan, job, repo_root)
    service = service_for(list(compose), directory)
    production = None
    if service is not None:
        names = {n for name in {*plan.lean, *plan.full} for n in read_pins(folder / name)}
        carry_compose(plan, service, names)
        if service.dockerfile is not None:
            production = folder / service.dockerfile.value
    carry_apt(plan, repo_root, production)
    return plan
