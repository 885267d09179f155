"""The cause of a failed install or suite, read from the tool's own output. Pure.

A stage that fails says, on its first line, what was at fault (the package
that did not build, the module the suite could not import, the first test
that failed) and the fix; the tool's output follows for people.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from noxgrid.model.flatlayout import DEFAULT_DOCKERFILE, flat_layout_failure
from noxgrid.model.resolution import network_failure
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
_SUMMARY = re.compile(r"^(FAILED|ERROR) (\S+)(?: - (.*))?$", re.MULTILINE)
_RAISED = re.compile(r"^E\s+((?:[\w.]+)(?:Error|Exception|Exit)\b.*)$", re.MULTILINE)


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
) -> str:
    """The reason a test suite failed: a module it could not import, or its first failed
    test, with the fix; then pytest's last lines."""
    text = clean_text(output)
    summary = last_line(text)
    missing = _NO_MODULE.search(text)
    failures = _SUMMARY.findall(text)
    raised = _RAISED.search(text)
    if missing:
        module = missing.group(1)
        where = next((path for kind, path, _ in failures if kind == "ERROR"), None)
        found = f" (ModuleNotFoundError in {where})" if where else " (ModuleNotFoundError)"
        top = module.split(".")[0]
        if project is not None and (
            top in project_modules or top == project.replace("-", "_").lower()
        ):
            reason = (
                f"the suite could not import {module!r}{found}, the project's own module: the "
                f"installed {project} does not provide it; fix: check what the build backend "
                "packages (for setuptools: [tool.setuptools] packages or py-modules)"
            )
        else:
            reason = (
                f"the suite could not import {module!r}{found}: profile '{profile}' does not "
                f"install it; fix: add {distribution_for(module)} to {requirements}, then "
                f"noxgrid lock {cell}"
            )
    elif failures:
        kind, test, message = failures[0]
        detail = message or (raised.group(1) if raised else "")
        count = len(failures)
        reason = (
            f"{count} test{'s' if count != 1 else ''} failed or errored; first: {test}"
            + (f" ({detail.strip()})" if detail else "")
            + f" [{kind}]"
        )
    elif raised:
        reason = f"the suite failed: {raised.group(1).strip()}"
    else:
        reason = f"the suite exited with {returncode}"
    if summary and summary not in reason:
        reason += f"; pytest: {summary}"
    return f"{reason}\n{_tail(output)}"


def last_line(output: str) -> str:
    """The last non-blank line of ``output``, without the ``=`` rules pytest draws."""
    lines = [line.strip().strip("=").strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ""
