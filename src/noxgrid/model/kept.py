"""Exclusive groups allowed on purpose, in an image: ``keep`` installed last by the build,
and the proof that the files the group shares are ``keep``'s.

The distributions of such a group write the same paths (every OpenCV build writes
``cv2/``); uv installs in parallel, so which copy is on disk varies from build to
build. The template's dependency step syncs the lock, then syncs it again with
``--reinstall-package`` for each name in the ``KEEP_LAST`` build argument. The
image's doctor then reads the file system the image has (its layers, or an export):
each shared file's sha256 against the hash ``keep``'s RECORD gives it, and against
the other members' to name whose copy won. The venv's doctor judges the same way
(``noxgrid.model.installed.not_kept``) and fails with the same words.

Pure: reads what it is given (``FileSource``), starts no process, writes nothing.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import posixpath
import re
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Protocol

from packaging.utils import canonicalize_name

KEEP_LAST = "KEEP_LAST"
SITE = "/site-packages/"  # as noxgrid.model.audit names it (not imported: it imports us)


class FileSource(Protocol):
    """An image's file system as the proof reads it: a file's text, and its hash as
    RECORD writes it; None where the path is no regular file there."""

    def text(self, path: str) -> str | None:
        """The file's content as text."""
        ...

    def record_hash(self, path: str) -> str | None:
        """``sha256=<urlsafe base64, no padding>`` of the file's content."""
        ...


class TarFiles:
    """An exported image's files (the open tar ``docker export`` wrote), a ``FileSource``."""

    def __init__(self, tar: tarfile.TarFile) -> None:
        self.tar = tar
        self.members = {"/" + m.name.removeprefix("./").strip("/"): m for m in tar.getmembers()}

    def _open(self, path: str) -> IO[bytes] | None:
        member = self.members.get(path)
        if member is None or not (member.isfile() or member.islnk()):
            return None
        return self.tar.extractfile(member)  # a hard link: its target's content

    def text(self, path: str) -> str | None:
        """The file's content as text."""
        stream = self._open(path)
        if stream is None:
            return None
        with stream:
            return stream.read().decode("utf-8", "replace")

    def record_hash(self, path: str) -> str | None:
        """``sha256=<urlsafe base64, no padding>`` of the file's content."""
        stream = self._open(path)
        if stream is None:
            return None
        sha = hashlib.sha256()
        with stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                sha.update(block)
        return record_hash(sha.digest())


def record_hash(digest: bytes) -> str:
    """A sha256 digest as RECORD writes it."""
    return "sha256=" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def record_rows(text: str) -> dict[str, str]:
    """A RECORD's rows: each file's path (relative to site-packages) and its hash."""
    return {row[0]: row[1] for row in csv.reader(text.splitlines()) if len(row) >= 2}


def shared_paths(ours: Mapping[str, str], rivals: Mapping[str, Mapping[str, str]]) -> list[str]:
    """The paths keep's RECORD (``ours``) lists with a hash that another member's RECORD
    lists too: the files whose copy on disk must be keep's. Bytecode is left out (it is
    compiled on the machine, never what a RECORD hashed)."""
    found = {
        path
        for rows in rivals.values()
        for path in rows
        if path in ours and ours[path] and not path.endswith(".pyc")
    }
    return sorted(found)


def whose(
    ours: Mapping[str, str],
    rivals: Mapping[str, Mapping[str, str]],
    on_disk: Mapping[str, str | None],
) -> list[tuple[str, str]]:
    """(path, whose copy it is; "" when it is gone) of each shared path whose hash on disk
    is not keep's. ``rivals``: the other members' RECORD rows by name; ``on_disk``: each
    shared path's hash as found (None: the file is gone)."""
    found = []
    for path in shared_paths(ours, rivals):
        hash_ = on_disk.get(path)
        if hash_ is None:
            found.append((path, ""))
        elif hash_ != ours[path]:
            owners = [name for name, rows in rivals.items() if rows.get(path) == hash_]
            found.append((path, owners[0] if owners else "another copy"))
    return found


def not_kept_failure(
    keep: str, others: Sequence[str], wrong: Sequence[tuple[str, str]], fix: str
) -> str:
    """The doctor's failure when a shared file is not keep's: the same words for the venv
    and the image, each with its own fix."""
    path, owner = wrong[0]
    found = f"{path} is {owner}'s copy" if owner else f"{path} is gone"
    return (
        f"{len(wrong)} file(s) that {keep} shares with {', '.join(others)} are not "
        f"{keep}'s, though the exclusive allowance keeps it: {found}; fix: {fix}"
    )


def image_fix(keep: str) -> str:
    """How to make an image's build put ``keep``'s files on disk."""
    return (
        f"install {keep} last, after the lock's sync and in the same RUN, as noxgrid's "
        f"template does from its {KEEP_LAST} build argument (`uv pip sync --require-hashes "
        f"--reinstall-package {keep} /tmp/pylock.toml`), then build the image again"
    )


def keep_last_problem(dockerfile: str, name: str, keep: Sequence[str]) -> str | None:
    """Why an image built from ``dockerfile`` would not install ``keep`` (the cell's kept
    distributions) last: it never reads the ``KEEP_LAST`` build argument."""
    if not keep or re.search(rf"^\s*ARG\s+{KEEP_LAST}\b", dockerfile, re.MULTILINE):
        return None
    names = " ".join(keep)
    return (
        f"the cell allows an exclusive group on purpose, keeping {names}, but {name} has no "
        f"`ARG {KEEP_LAST}`, so which copy of the files the group shares ends up in the "
        f"image would vary from build to build; fix: after the lock's sync, in the same "
        f"RUN, sync it again for each kept distribution, as noxgrid's template does "
        f'(`noxgrid dockerfile` prints it): `ARG {KEEP_LAST}=""` and `for keep in '
        f"${KEEP_LAST}; do uv pip sync --python /opt/venv/bin/python --require-hashes "
        f'--reinstall-package "$keep" /tmp/pylock.toml || exit 1; done`'
    )


def dist_records(paths: Iterable[str]) -> dict[str, dict[str, str]]:
    """Every RECORD among ``paths`` (an image's file names), by its site-packages folder
    and then by its distribution's canonical name."""
    found: dict[str, dict[str, str]] = {}
    for path in paths:
        if SITE not in path or not path.endswith(".dist-info/RECORD"):
            continue
        dist_info = posixpath.dirname(path)
        site = posixpath.dirname(dist_info)
        if not site.endswith(SITE.rstrip("/")):
            continue  # a RECORD nested deeper than a site-packages folder's own entries
        name = str(canonicalize_name(posixpath.basename(dist_info).split("-", 1)[0]))
        found.setdefault(site, {})[name] = path
    return found


def prove_in_image(
    paths: Iterable[str], source: FileSource, keep: str, others: Sequence[str]
) -> tuple[bool, list[tuple[str, str]]]:
    """(whether keep and another member were found together, what is not keep's) in
    each site-packages folder of an image: ``paths`` its file names, ``source`` its
    files; ``keep`` and ``others`` canonical names."""
    proved = False
    wrong: list[tuple[str, str]] = []
    for site, records in sorted(dist_records(paths).items()):
        present = [name for name in others if name in records]
        if keep not in records or not present:
            continue
        ours = record_rows(source.text(records[keep]) or "")
        rivals = {name: record_rows(source.text(records[name]) or "") for name in present}
        on_disk = {
            path: source.record_hash(posixpath.normpath(f"{site}/{path}"))
            for path in shared_paths(ours, rivals)
        }
        proved = True
        wrong += whose(ours, rivals, on_disk)
    return proved, wrong
