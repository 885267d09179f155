"""The actions generated workflows use, pinned to commits, from one table. Pure.

``actions.toml`` beside the package is the table: action, release, commit
SHA, the runtime its action.yml declares, the date it was checked. Workflows
write ``uses: owner/name@<sha>  # <release>``. ``outdated`` compares a
committed workflow with the table; the parsing helpers serve the maintainer's
refresh script (``scripts/refresh_actions.py``), which asks git for the tags.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from noxgrid.render.yaml import Commented

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TABLE = Path(__file__).resolve().parent.parent / "actions.toml"
_SHA = re.compile(r"^[0-9a-f]{40}$")
_RELEASE = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")
_USES = re.compile(r"^\s*(?:-\s+)?uses:\s*([\w.-]+/[\w./-]+)@(\S+)(?:\s+#\s*(\S+))?")


@dataclass(frozen=True, kw_only=True)
class ActionPin:
    """One action of the table."""

    name: str
    version: str
    sha: str
    node: str
    checked: str

    def uses(self) -> Commented:
        """The ``uses:`` value: the commit, with the release as a comment."""
        return Commented(f"{self.name}@{self.sha}", self.version)


def load_pins(text: str | None = None) -> dict[str, ActionPin]:
    """The table, by action name (``text``: a table's TOML, default the shipped one)."""
    document = tomllib.loads(text if text is not None else TABLE.read_text(encoding="utf-8"))
    pins = {}
    for entry in document.get("action", []):
        pin = ActionPin(
            **{key: str(entry[key]) for key in ("name", "version", "sha", "node", "checked")}
        )
        if not _SHA.match(pin.sha):
            raise ValueError(f"{pin.name}: {pin.sha!r} is not a full commit SHA")
        pins[pin.name] = pin
    return pins


def pin(name: str) -> Commented:
    """``uses:`` for the action ``name`` as the table pins it."""
    return load_pins()[name].uses()


def version_key(version: str) -> tuple[int, ...]:
    """``v7.0.1`` -> (7, 0, 1); anything else sorts first."""
    match = _RELEASE.match(version)
    return tuple(int(part) for part in match.groups()) if match else (-1,)


def outdated(workflow: str, pins: Mapping[str, ActionPin]) -> list[str]:
    """What a workflow pins older than (or other than) the table, one line each."""
    problems = []
    for number, line in enumerate(workflow.splitlines(), 1):
        match = _USES.match(line)
        if not match or match.group(1) not in pins:
            continue
        name, ref, comment = match.groups()
        want = pins[name]
        if ref == want.sha:
            continue
        if not _SHA.match(ref):
            problems.append(
                f"line {number}: {name}@{ref} is pinned by tag, not by commit; the table pins "
                f"{want.version} ({want.sha})"
            )
        elif comment and version_key(comment) < version_key(want.version):
            problems.append(
                f"line {number}: {name} is pinned at {comment}, older than the table's "
                f"{want.version}"
            )
        else:
            problems.append(
                f"line {number}: {name}@{ref} is not the table's {want.version} ({want.sha})"
            )
    return problems


def parse_ls_remote(text: str) -> dict[str, str]:
    """``git ls-remote --tags`` output -> {tag: commit}, peeled (``^{}``) commits winning."""
    tags: dict[str, str] = {}
    peeled: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 2 or not parts[1].startswith("refs/tags/"):
            continue
        sha, ref = parts
        tag = ref.removeprefix("refs/tags/")
        if tag.endswith("^{}"):
            peeled[tag[:-3]] = sha
        else:
            tags[tag] = sha
    return {**tags, **peeled}


def newest_release(tags: Mapping[str, str]) -> tuple[str, str] | None:
    """The newest ``vX.Y.Z`` tag and its commit (pre-releases and moving majors ignored)."""
    releases = [tag for tag in tags if _RELEASE.match(tag)]
    if not releases:
        return None
    best = max(releases, key=version_key)
    return best, tags[best]


def runtime_of(action_yml: str) -> str:
    """The ``runs.using`` of an action.yml (``node24``, ``composite``, ``docker``)."""
    match = re.search(r"^\s+using:\s*['\"]?([\w.-]+)['\"]?\s*$", action_yml, re.MULTILINE)
    return match.group(1) if match else "unknown"


def render_table(pins: Mapping[str, ActionPin], header: str) -> str:
    """The table's TOML text, ``header`` (comment lines) first."""
    parts = [header.rstrip("\n")]
    for entry in pins.values():
        parts.append(
            "\n".join(
                [
                    "[[action]]",
                    f'name = "{entry.name}"',
                    f'version = "{entry.version}"',
                    f'sha = "{entry.sha}"',
                    f'node = "{entry.node}"',
                    f'checked = "{entry.checked}"',
                ]
            )
        )
    return "\n\n".join(parts) + "\n"
