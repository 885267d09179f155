"""Refresh the pin table of the actions generated workflows use (src/noxgrid/actions.toml).

For each action of the table: the newest release tag (vX.Y.Z) from
``git ls-remote --tags``, the commit it points to (peeled), and the runtime
its action.yml declares at that commit (fetched with ``git fetch --depth 1``).
A release that does not run on node24 (GitHub removed Node 20 from its
runners in September 2026) is refused and the current pin kept, saying so.
The table is rewritten atomically with today's date; then run
``noxgrid workflow`` (and ``-C examples/service``) and commit both.

    python scripts/refresh_actions.py            # rewrite the table
    python scripts/refresh_actions.py --dry-run  # only show what would change
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
from pathlib import Path

from noxgrid.cell.report import atomic_write
from noxgrid.render.actions import (
    TABLE,
    ActionPin,
    load_pins,
    newest_release,
    parse_ls_remote,
    render_table,
    runtime_of,
)

RUNTIME = "node24"


def git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def action_yml(url: str, sha: str) -> str:
    """The action.yml (or action.yaml) of the repository at ``url`` at commit ``sha``."""
    with tempfile.TemporaryDirectory(prefix="noxgrid-action-") as folder:
        work = Path(folder)
        git("init", "-q", cwd=work)
        git("fetch", "-q", "--depth", "1", url, sha, cwd=work)
        for name in ("action.yml", "action.yaml"):
            try:
                return git("show", f"{sha}:{name}", cwd=work)
            except RuntimeError:
                continue
    raise RuntimeError(f"{url} has no action.yml at {sha}")


def refresh(pin: ActionPin, url: str, today: str) -> tuple[ActionPin, str]:
    """The new pin for one action and a line saying what happened."""
    newest = newest_release(parse_ls_remote(git("ls-remote", "--tags", url)))
    if newest is None:
        return pin, f"{pin.name}: no vX.Y.Z release tag; kept {pin.version}"
    version, sha = newest
    runtime = runtime_of(action_yml(url, sha))
    if runtime.startswith("node") and runtime != RUNTIME:
        return pin, f"{pin.name}: {version} runs on {runtime}, not {RUNTIME}; kept {pin.version}"
    fresh = ActionPin(name=pin.name, version=version, sha=sha, node=runtime, checked=today)
    if (version, sha) == (pin.version, pin.sha):
        return fresh, f"{pin.name}: {version} is current (checked {today})"
    return fresh, f"{pin.name}: {pin.version} -> {version} ({sha})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--table", type=Path, default=TABLE, help="the table to refresh")
    parser.add_argument(
        "--url",
        default="https://github.com/{name}.git",
        help="where each action's repository is ({name} is owner/name)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print, write nothing")
    args = parser.parse_args(argv)
    text = args.table.read_text(encoding="utf-8")
    header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
    today = dt.date.today().isoformat()
    pins = {}
    failed = False
    for name, pin in load_pins(text).items():
        try:
            pins[name], line = refresh(pin, args.url.format(name=name), today)
        except RuntimeError as exc:
            pins[name], line = pin, f"{name}: {exc}; kept {pin.version}"
            failed = True
        print(line)
    if not args.dry_run:
        atomic_write(args.table, render_table(pins, header))
        print(f"wrote {args.table}; next: noxgrid workflow (and -C examples/service)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
