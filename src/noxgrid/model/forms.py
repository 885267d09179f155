"""The lines of a requirement file, and the forms a lock cannot hold as written: index options
(the index is the configuration's), VCS and local-path requirements (they cannot be
hash-pinned). A direct URL to an archive is fine: uv locks it with its hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from noxgrid.model.config import Config, relative_path

# Options a requirement file may not set: the index a cell resolves from is the
# configuration's, recorded in its lock, never one a file sets on the side.
_INDEX_OPTIONS = {
    "-i": "index-url",
    "--index-url": "index-url",
    "--extra-index-url": "extra-index-urls",
    "-f": "find-links",
    "--find-links": "find-links",
    "--no-index": "no-index",
    "--trusted-host": "trusted-host",
    "--index": "index-url",
    "--default-index": "index-url",
}

_VCS = ("git+", "hg+", "svn+", "bzr+")

_ARCHIVES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz")


_READ: dict[tuple[str, int, int], bytes] = {}


def read_bytes(path: Path) -> bytes:
    """A small input file's bytes, read once per version of it (path, mtime, size): a
    matrix asks for the same requirement files once per cell."""
    info = path.stat()
    key = (str(path), info.st_mtime_ns, info.st_size)
    found = _READ.get(key)
    if found is None:
        found = _READ[key] = path.read_bytes()
        if len(_READ) > 512:  # a bound, not a policy: old versions go first
            _READ.pop(next(iter(_READ)))
    return found


def logical_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of a requirement file: continuations joined, comments dropped."""
    result: list[tuple[int, str]] = []
    pending = ""
    start = 0
    for number, raw in enumerate(read_bytes(path).decode("utf-8").splitlines(), 1):
        line = "" if raw.lstrip().startswith("#") else raw
        if " #" in line:
            line = line[: line.index(" #")]
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        text = (pending + line).strip()
        pending = ""
        if text:
            result.append((start, text))
    if pending.strip():
        result.append((start, pending.strip()))
    return result


def requirement_problems(config: Config, files: Sequence[Path]) -> list[tuple[str, str, str]]:
    """(file:line, problem, fix) for each line of ``files`` noxgrid cannot lock as written.

    Index options are the configuration's (``index-url``, ``extra-index-urls``),
    never a file's; VCS and local-path requirements cannot be hash-pinned. A
    direct URL to an archive is locked with its hash. A reference to the
    project itself (``-e .``, ``.[tests]``, its own name) is no problem: it
    is expanded, see :func:`expand_self`.
    """
    problems = []
    root = config.root.resolve()
    for path in files:
        where_file = relative_path(path.resolve(), root)
        for number, text in logical_lines(path):
            where = f"{where_file}:{number}"
            option = text.split()[0].split("=", 1)[0]
            if option in _INDEX_OPTIONS:
                key = _INDEX_OPTIONS[option]
                fix = (
                    'set it once for every cell: index-url = "..." in [tool.noxgrid] (or in '
                    "[tool.noxgrid.accelerator.<name>]), then noxgrid lock"
                    if key == "index-url"
                    else 'list it in extra-index-urls = ["..."] of [tool.noxgrid.accelerator.'
                    "<name>] (the explicit opt-in for a second index; the lock records the "
                    "index of every package), then noxgrid lock"
                    if key == "extra-index-urls"
                    else "remove it: noxgrid resolves from the configured index alone"
                )
                problems.append(
                    (
                        where,
                        f"`{text}`: a requirement file may not choose the index ({option})",
                        fix,
                    )
                )
                continue
            if text.startswith("-") and not text.startswith(("-e", "--editable")):
                continue  # -r/-c are followed elsewhere; other options pass through to uv
            target = text.split(None, 1)[1] if text.startswith(("-e", "--editable")) else text
            if is_self_reference(target, path.parent, root, config.project_name):
                continue
            problem = _form_problem(target, path.parent)
            if problem:
                problems.append((where, f"`{text}`: {problem[0]}", problem[1]))
    return problems


def _url_of(text: str) -> str | None:
    """The URL of a direct-URL requirement (``name @ URL`` or a bare URL), else None."""
    head = text.split(";")[0].strip()
    if "@" in head and "://" in head.split("@", 1)[1]:
        return head.split("@", 1)[1].strip()
    if "://" in head:
        return head
    return None


def _form_problem(text: str, folder: Path) -> tuple[str, str] | None:
    url = _url_of(text)
    if url is not None:
        if url.startswith(_VCS):
            return (
                "a VCS requirement cannot be hash-pinned, so it cannot be part of a lock",
                "pin a released version (name==X.Y), or a URL to a built archive "
                "(name @ https://.../name-X.Y-py3-none-any.whl), which is locked with its hash",
            )
        if url.startswith("file:"):
            return (
                "a local path cannot be hash-pinned in a lock every machine shares",
                "publish it to the index, or point at a built archive by https URL",
            )
        path = url.split("#", 1)[0].split("?", 1)[0]
        if not path.endswith(_ARCHIVES):
            return (
                f"the direct URL {url} does not name an archive (.whl, .tar.gz, .zip)",
                "point at a wheel or an sdist; uv locks it with its hash",
            )
        return None
    name = text.split(";")[0].strip()
    if name.startswith((".", "/", "~")) or ("/" in name and (folder / name).exists()):
        return (
            "a local path cannot be hash-pinned in a lock every machine shares",
            "publish it to the index, or point at a built archive by https URL",
        )
    return None


def is_self_reference(text: str, folder: Path, root: Path, project: str | None) -> bool:
    """True for ``.``, ``./``, ``.[extra]`` or a path to the project's root."""
    target = text.split(";")[0].strip()
    target = target.split("[", 1)[0] if not target.startswith("file:") else target[5:]
    if not target or "://" in target or not target.startswith((".", "/", "~")):
        return False
    # pip reads a relative path from the working directory, uv from the file's folder:
    # either one naming the project's root is the project.
    try:
        return any((base / Path(target).expanduser()).resolve() == root for base in (folder, root))
    except OSError:
        return False
