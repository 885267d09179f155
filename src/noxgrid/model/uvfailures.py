"""uv's failures read for what noxgrid can say about them: the index uv could not
reach (the one uv named, not the one noxgrid configured: ``torch-backend`` sends uv to
PyTorch's index), and a resolution that no version of a package allows for the cell's
Python (a ``Requires-Python`` above it, or no wheel for its ABI), with noxgrid's fix.

Pure: uv's output in, text out. The texts are uv's own (``tests/unit/model``
feeds them as uv 0.13 printed them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.utils import canonicalize_name

_ERROR = re.compile(r"^error:", re.MULTILINE | re.IGNORECASE)

# Where uv names the address it could not reach.
_URL = re.compile(
    r"(?:Failed to fetch:?\s*`?|error sending request for url \(|Failed to download\s*`)"
    r"(https?://[^\s`)]+)"
)

_REQUESTED = re.compile(r"the requested Python version \(([^)]*)\) does not satisfy Python(\S+)")
_DEPENDS = re.compile(
    r"does not satisfy Python\S+ and (.+?)\s+depends? on Python([^\s,]+)", re.DOTALL
)
_ABI = re.compile(r"no wheels with a matching Python ABI tag \(e\.g\., `(cp\d+)`\)")
_REQUIRE = re.compile(r"you require ([^\n,]+?), we can conclude")
_NAME = re.compile(r"(?<![\w.=<>!~,-])([A-Za-z][A-Za-z0-9._-]*)(?=[=<>!~])")


def uv_error(output: str) -> str:
    """uv's error, without the warnings printed before it (a failed download of a
    managed Python is a warning, not the failure)."""
    match = _ERROR.search(output)
    return output[match.start() :] if match else output


# git's words when uv fetches a git requirement: fatal: unable to access 'https://...': ...
_GIT_URL = re.compile(r"unable to access '([^']+)'")
_GIT_REQUIREMENT = re.compile(
    r"Failed to (?:download and build|fetch|build) `([^`]+ @ git\+[^`]+)`"
)


def unreachable_url(output: str) -> str | None:
    """The address uv's error says it could not reach (an index's, or the repository
    of a git requirement that git could not fetch), or None."""
    error = uv_error(output)
    match = _URL.search(error) or _GIT_URL.search(error)
    return match.group(1) if match else None


def git_requirement(output: str) -> str | None:
    """The git requirement uv was fetching when it failed (``name @ git+https://...``)."""
    match = _GIT_REQUIREMENT.search(uv_error(output))
    return match.group(1) if match else None


def host(url: str) -> str:
    """The host of ``url`` (``download.pytorch.org``)."""
    match = re.match(r"^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?([^/:?#]+)", url, re.IGNORECASE)
    return match.group(1).lower() if match else url


@dataclass(frozen=True, kw_only=True)
class PythonExcluded:
    """What uv said excludes the cell's Python: the packages, what they need, the pin."""

    packages: tuple[str, ...]
    needs: str  # "Python>=3.11", or "a wheel for cp313"
    required: str | None  # what the inputs ask for: "numpy==2.3.0"


def python_excluded(output: str) -> PythonExcluded | None:
    """The reason uv found no solution, where it is the Python of the cell; else None."""
    error = uv_error(output)
    if "No solution found" not in error:
        return None
    required = _REQUIRE.search(error)
    pin = required.group(1).strip() if required else None
    depends = _DEPENDS.search(error)
    if _REQUESTED.search(error) and depends:
        names = _names(depends.group(1))
        return PythonExcluded(packages=names, needs=f"Python{depends.group(2)}", required=pin)
    abi = _ABI.search(error)
    if abi:
        named = re.search(r"we only found wheels for `([^`]+)`", error)
        names = (named.group(1),) if named else _names(pin or "")
        return PythonExcluded(packages=names, needs=f"a wheel for {abi.group(1)}", required=pin)
    return None


def _names(text: str) -> tuple[str, ...]:
    """The distribution names in uv's words for some requirements (``all of: numpy>=2.3``)."""
    found = [m.group(1) for m in _NAME.finditer(text.replace("all of:", " "))]
    return tuple(dict.fromkeys(found))


def python_fix(excluded: PythonExcluded, python: str, project: str | None) -> str:
    """noxgrid's fix for a cell whose Python no allowed version of a package supports:
    drop the value from the python axis, or change the pin that excludes it."""
    axis = f'drop "{python}" from python in [tool.noxgrid] (or exclude its cells)'
    own = canonicalize_name(project) if project else None
    if own is not None and any(canonicalize_name(name) == own for name in excluded.packages):
        return f"{axis}, or widen the project's own requires-python ({excluded.needs})"
    named = ", ".join(excluded.packages) or "a package"
    pin = excluded.required or named
    return f"{axis}, or change the pin that excludes it: {pin} ({named} needs {excluded.needs})"
