"""git, for what noxgrid asks of a checkout: what changed since a ref, whether the tree is dirty.

Both answer "cannot tell" (None, False) rather than fail where there is no git
or no repository: the callers then take every cell, or the plain revision.
"""

from __future__ import annotations

from pathlib import Path

from noxgrid.errors import CommandFailed
from noxgrid.model.config import Config
from noxgrid.tools.runner import Command, Runner


def changed_files(config: Config, ref: str, runner: Runner | None = None) -> list[Path] | None:
    """Files changed between ``ref`` and the working tree, or None when git cannot tell."""
    # Every line matters here, not only a tail for error messages.
    runner = runner or Runner()
    try:
        outcome = runner.run(
            Command(
                argv=("git", "diff", "--name-only", f"{ref}...HEAD"),
                cwd=config.repo_root,
                timeout=60,
            )
        )
        local = runner.run(
            Command(argv=("git", "diff", "--name-only", "HEAD"), cwd=config.repo_root, timeout=60)
        )
    except CommandFailed:  # no git at all: cannot tell
        return None
    if not outcome.ok or not local.ok:
        return None
    names = {*outcome.output.split(), *local.output.split()}
    return [config.repo_root / name for name in sorted(names)]


def tree_dirty(root: Path, runner: Runner) -> bool:
    """True when the git checkout at ``root`` has changes, tracked or new (False without git)."""
    try:
        outcome = runner.run(
            Command(
                argv=("git", "status", "--porcelain", "--untracked-files=normal"),
                cwd=root,
                timeout=60,
            )
        )
    except CommandFailed:
        return False  # no git here: the revision label is left as read from .git
    return outcome.ok and bool(outcome.output.strip())


def project_files(root: Path, runner: Runner | None = None) -> list[Path] | None:
    """The files of the checkout under ``root``, tracked or new but not ignored, as git
    lists them; None where git cannot tell (no git, not a repository)."""
    runner = runner or Runner()
    try:
        outcome = runner.run(
            Command(
                argv=("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"),
                cwd=root,
                timeout=60,
            )
        )
    except CommandFailed:
        return None
    if not outcome.ok:
        return None
    return [root / name for name in outcome.output.split("\0") if name and (root / name).is_file()]


def committed_text(path: Path, runner: Runner | None = None) -> str | None:
    """``path`` as the last commit has it (``git show HEAD:./name``); None where git cannot
    tell (no git, no repository, not committed)."""
    runner = runner or Runner()
    try:
        outcome = runner.run(
            Command(argv=("git", "show", f"HEAD:./{path.name}"), cwd=path.parent, timeout=60)
        )
    except CommandFailed:
        return None
    return outcome.output if outcome.ok else None


def check_ignore(root: Path, paths: list[Path], runner: Runner | None = None) -> str | None:
    """``git check-ignore --verbose`` of ``paths`` (files that exist or not; tracked ones
    are never reported): its output, "" when none is ignored, None where git cannot
    tell (no git, not a repository)."""
    if not paths:
        return ""
    runner = runner or Runner()
    names = [path.resolve().relative_to(root.resolve()).as_posix() for path in paths]
    try:
        outcome = runner.run(
            Command(argv=("git", "check-ignore", "--verbose", *names), cwd=root, timeout=60)
        )
    except CommandFailed:
        return None
    if outcome.returncode == 1:  # none of them is ignored
        return ""
    return outcome.output if outcome.ok else None
