"""What of a stage's output reaches the screen; the stage's log keeps every line. Pure.

A person watching a run sees the stages, their results and what to do. The
probes noxgrid runs in a venv (where the project imports from, the import
smoke, the application loaded) answer in JSON for noxgrid to read: they go to
the stage's log only, and the stage's one-line result says what they found.
A warning noxgrid has made moot (uv's preview warning for pylock.toml, where
a uv ignores the setting that silences it) is not shown either.
"""

from __future__ import annotations

# uv, installing from a pylock.toml while its pylock preview feature is not enabled (noxgrid
# enables it: UV_PREVIEW_FEATURES; a uv that ignores that variable still warns): "warning:
# The `--pylock` option is experimental and may change without warning. Pass
# `--preview-features pylock` to disable this warning." Found anywhere in the line: a
# Docker build prefixes the lines of the commands it runs ("#9 1.02 warning: ...").
_PREVIEW_WARNING = "warning: The `--pylock` option is experimental"


def for_screen(line: str) -> bool:
    """False for an output line the screen leaves out (the stage's log keeps it)."""
    return _PREVIEW_WARNING not in line


def sync_reason(total: int, differences: str, *, empty: bool) -> str:
    """Why the install stage syncs the venv, in one line.

    A venv that holds no distribution at all (``empty``) is new, or was made anew:
    filling it with the lock's ``total`` packages is no difference, and "the venv
    differs from the lock" would read like an error. A venv that holds anything
    drifted: ``differences`` says how.
    """
    if empty:
        return f"installing {total} package{'' if total == 1 else 's'} into the new venv"
    return f"the venv differs from the lock: {differences}"
