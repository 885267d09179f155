"""The cause of a failed install or suite, read from the tool's own output. Pure.

A stage that fails says, on its first line, what was at fault (the package
that did not build, the module the suite could not import, the first test
that failed) and the fix; the tool's output follows for people.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from noxgrid.model.flatlayout import DEFAULT_DOCKERFILE, flat_layout_failure
from noxgrid.model.pytest_junit import JUnitCounts
from noxgrid.model.resolution import OFFLINE_FIX, network_failure, offline_failure
from noxgrid.model.text import clean_text

# Import names whose distribution on the index is called something else.
DISTRIBUTIONS = {
    "attr": "attrs",
    "bs4": "beautifulsoup4",
    "cv2": "opencv-python-headless",
    "crypto": "pycryptodome",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
    "docx": "python-docx",
    "faiss": "faiss-cpu",
    "fitz": "PyMuPDF",
    "git": "GitPython",
    "google": "protobuf",
    "jose": "python-jose",
    "jwt": "PyJWT",
    "magic": "python-magic",
    "multipart": "python-multipart",
    "OpenSSL": "pyOpenSSL",
    "PIL": "Pillow",
    "pptx": "python-pptx",
    "serial": "pyserial",
    "skimage": "scikit-image",
    "sklearn": "scikit-learn",
    "yaml": "PyYAML",
    "zmq": "pyzmq",
}

_BUILD = re.compile(r"Failed to (?:download and )?build `([^`]+)`")
_HASH = re.compile(r"Hash mismatch for `([^`]+)`")
_NO_BUILD = re.compile(
    r"`([^`]+?)(?: @ [^`]*)?`[^\n]*(?:marked as `--no-build`|--only-binary|no-binary)"
)
_COMPILER = re.compile(
    r"(fatal error: .+|error: command '[^']+' failed.*|[^\s:]+\.h: No such file or directory"
    r"|error: can't find Rust compiler|Cargo, the Rust package manager, is not installed.*)"
)
_NO_MODULE = re.compile(r"No module named '([^']+)'")
_COUNTS = re.compile(r"^(?:\d+ \w+(?:, )?)+(?: in [\d.]+s\b.*)?$")
# A test id may hold spaces inside its parameters: ``test_p[a b]``.
_SUMMARY = re.compile(r"^(FAILED|ERROR) (\S*\[[^\]\n]*\]|\S+)(?: - (.*))?$", re.MULTILINE)


def distribution_for(module: str) -> str:
    """The distribution most likely to provide ``module`` (its top-level name)."""
    top = module.split(".")[0]
    return DISTRIBUTIONS.get(top, top.replace("_", "-"))


def _tail(output: str, lines: int = 15) -> str:
    return "\n".join(clean_text(output).strip().splitlines()[-lines:])


def install_failure(
    output: str,
    returncode: int,
    *,
    cell: str,
    requirements: str,
    dockerfile: str = DEFAULT_DOCKERFILE,
    places: Iterable[str] = (),
) -> str:
    """The reason an install failed: the package at fault and the fix, then uv's output.
    ``dockerfile``: the declared one; ``places``: those of FLAT_PLACES that exist."""
    text = clean_text(output)
    reason = f"uv exited with {returncode}"
    flat = flat_layout_failure(text, dockerfile, places)
    built = None if flat else _BUILD.search(text)
    hashed = _HASH.search(text)
    binary = _NO_BUILD.search(text)
    if flat:
        reason = f"the project could not be built: {flat}"
    elif built:
        cause = _COMPILER.search(text)
        why = f": {cause.group(1).strip()}" if cause else ""
        reason = (
            f"{built.group(1)} could not be built from source{why}; fix: pin a version of it "
            f"that ships a wheel for this Python (in {requirements}), or give the build what "
            "it needs (apt = [...] of the profile for headers, a compiler), then "
            f"noxgrid lock {cell}"
        )
    elif hashed:
        reason = (
            f"the file downloaded for {hashed.group(1)} does not match any hash in the lock; "
            f"fix: noxgrid lock {cell} (if the lock is new, the index served another file: "
            "check the index-url)"
        )
    elif binary:
        reason = (
            f"{binary.group(1)} has no wheel for this cell and the lock does not allow a "
            f"source build; fix: noxgrid lock {cell} (it flags packages without wheels), or "
            "pin a version with a wheel"
        )
    elif offline_failure(text):
        reason = f"uv could not reach the index; fix: {OFFLINE_FIX}"
    elif disk_full(text):
        reason = disk_full(text) or ""
    elif network_failure(text):
        reason = "uv could not reach the index; fix: check the network, or the index-url"
    return f"{reason}\n{_tail(output)}"


def suite_failure(
    output: str,
    returncode: int,
    *,
    cell: str,
    profile: str,
    requirements: str,
    project: str | None = None,
    project_modules: tuple[str, ...] = (),
    junit: JUnitCounts | None = None,
    root: str | None = None,
) -> str:
    """The reason a test suite failed: a module it could not import, a process that died, a
    full disk, or its first failed test, with the fix; then pytest's last lines. ``junit``:
    pytest's JUnit XML as read, whose counts and whole messages are pytest's own (its
    terminal's are cut); ``root``: the project's folder, to show the files in it."""
    text = clean_text(output)
    summary = last_line(text)
    missing = _NO_MODULE.search(text)
    failures = _SUMMARY.findall(text)
    raised = exception_line(text)
    died = fatal_error(text, root)
    full = disk_full(text)
    if missing:
        where = next((path for kind, path, _ in failures if kind == "ERROR"), None)
        reason = _missing_module(
            missing.group(1),
            where,
            cell=cell,
            profile=profile,
            requirements=requirements,
            project=project,
            project_modules=project_modules,
        )
    elif died or full:
        reason = died or full or ""
    elif (junit is not None and junit.cases) or failures:
        reason = _first_failure(junit, failures, raised, pytest_counts(summary))
    elif raised:
        reason = f"the suite failed: {raised}"
    else:
        reason = f"the suite exited with {returncode}"
    # A process that died ends with faulthandler's "Extension modules: ..." list.
    if summary and not died and summary not in reason:
        reason += f"; pytest: {summary}"
    return f"{reason}\n{_tail(output)}"


def pytest_counts(summary: str) -> str | None:
    """``17 failed, 61 passed`` of pytest's last line (``17 failed, 61 passed in 3.2s``)."""
    if not _COUNTS.search(summary):
        return None
    return re.sub(r" in [\d.]+s\b.*$", "", summary).strip() or None


def _first_failure(
    junit: JUnitCounts | None,
    failures: list[tuple[str, str, str]],
    raised: str | None,
    counted: str | None,
) -> str:
    """``17 failed, 61 passed; first: <test> at <file:line> (<exception>) [FAILED]``: from
    pytest's JUnit XML where it wrote one, else from its short summary and its last line's
    counts (``counted``; the short summary's lines are not one per test)."""
    if junit is not None and junit.cases:
        first = junit.cases[0]
        where = f" at {first.where}" if first.where and first.where not in first.test else ""
        return (
            f"{junit.describe()}; first: {first.test}{where}"
            + (f" ({first.message})" if first.message else "")
            + f" [{first.kind}]"
        )
    kind, test, message = failures[0]
    detail = message or raised or ""
    count = len({name for _, name, _ in failures})
    return (
        (counted or f"{count} test{'s' if count != 1 else ''} failed or errored")
        + f"; first: {test}"
        + (f" ({detail.strip()})" if detail else "")
        + f" [{kind}]"
    )


def _missing_module(
    module: str,
    where: str | None,
    *,
    cell: str,
    profile: str,
    requirements: str,
    project: str | None,
    project_modules: tuple[str, ...],
) -> str:
    """The suite could not import ``module``: the project's own, or one the profile lacks."""
    found = f" (ModuleNotFoundError in {where})" if where else " (ModuleNotFoundError)"
    top = module.split(".")[0]
    if project is not None and (top in project_modules or top == project.replace("-", "_").lower()):
        return (
            f"the suite could not import {module!r}{found}, the project's own module: the "
            f"installed {project} does not provide it; fix: check what the build backend "
            "packages (for setuptools: [tool.setuptools] packages or py-modules)"
        )
    return (
        f"the suite could not import {module!r}{found}: profile '{profile}' does not "
        f"install it; fix: add {distribution_for(module)} to {requirements}, then "
        f"noxgrid lock {cell}"
    )


def last_line(output: str) -> str:
    """The last non-blank line of ``output``, without the ``=`` rules pytest draws."""
    lines = [line.strip().strip("=").strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ""


_EXCEPTION = re.compile(r"^(?:[\w.]+\.)?\w*(?:Error|Exception|Exit|Interrupt)\b(?::.*)?$")
_NOT_A_CAUSE = re.compile(r"^\(Background on this error at: |^For more information|^See https?://")
_FATAL = re.compile(r"Fatal Python error: (.+)$", re.MULTILINE)
_FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+) in (\w+)', re.MULTILINE)
_LIBRARY = ("site-packages", "dist-packages", "/lib/python", "_pytest", "pluggy")
DISK_FULL_FIX = (
    "free space on that disk: uv cache prune (or uv cache clean), docker builder prune "
    "and docker system prune where images are built, or point UV_CACHE_DIR and TMPDIR at a "
    "disk with room"
)


def exception_line(text: str) -> str | None:
    """The last exception a traceback in ``text`` ended with (``sqlalchemy.exc.Operational
    Error: ...``), not the notes some libraries print after it ("(Background on this error
    at: https://sqlalche.me/...)"); None where no line is one."""
    lines = [line.strip() for line in clean_text(text).splitlines() if line.strip()]
    found = [
        line
        for line in lines
        if _EXCEPTION.match(line.removeprefix("E ").strip()) and not _NOT_A_CAUSE.match(line)
    ]
    return found[-1].removeprefix("E ").strip() if found else None


def not_a_cause(line: str) -> re.Match[str] | None:
    """A note printed after an exception ("(Background on this error at: ...)"), not it."""
    return _NOT_A_CAUSE.match(line.strip())


def cause_text(error: str) -> str:
    """An exception's text on one line, the notes after it left out."""
    lines = [line.strip() for line in clean_text(error).splitlines() if line.strip()]
    return " ".join(line for line in lines if not not_a_cause(line)) or error.strip()


def disk_full(text: str) -> str | None:
    """``OSError: [Errno 28] No space left on device; fix: ...`` where a disk was full."""
    if "No space left on device" not in text and "[Errno 28]" not in text:
        return None
    said = next(
        (line.strip() for line in clean_text(text).splitlines() if "No space left" in line),
        "No space left on device",
    )
    return f"a disk is full ({said}); fix: {DISK_FULL_FIX}"


def fatal_error(text: str, root: str | None = None) -> str | None:
    """A process that died in C (``os.abort()``, a segfault): ``Fatal Python error: Aborted``
    and the innermost frame in the project's own files (a test's file and line)."""
    text = clean_text(text)
    fatal = _FATAL.search(text)
    if fatal is None:
        return None
    frames = [
        (path, line, function)
        for path, line, function in _FRAME.findall(text[fatal.end() :])
        if not any(part in path for part in _LIBRARY)
    ]
    where, alone = "", "that test alone"
    if frames:
        path, line, function = frames[0]  # faulthandler lists the innermost first
        if root and path.startswith(root.rstrip("/") + "/"):
            path = path[len(root.rstrip("/")) + 1 :]
        where, alone = f" in {path}:{line} ({function})", f"pytest {path} -k {function}"
    return (
        f"the process died: Fatal Python error: {fatal.group(1).strip()}{where}; fix: run "
        f"{alone} in the cell's venv to see it crash (a crash inside a native library often "
        "means a wheel built for another CPU or ABI)"
    )
