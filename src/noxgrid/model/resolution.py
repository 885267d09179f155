"""The pure parts of resolving a cell's lock: the indexes a cell may use, uv's arguments,
uv's words for an index it could not reach, and the project's own pin taken out of
uv's output.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from packaging.utils import canonicalize_name

from noxgrid.model.config import Config
from noxgrid.model.matrix import Cell
from noxgrid.model.uvfailures import uv_error
from noxgrid.model.uvsettings import PYPI


def configured_index(config: Config, cell: Cell) -> str | None:
    """The index ``[tool.noxgrid]`` names for a cell, or None (uv's settings decide)."""
    return config.accelerators[cell.accelerator].index_url or config.index_url


def cell_indexes(config: Config, cell: Cell, default: str | None = None) -> list[str]:
    """The indexes a cell may resolve from: the configured one (else ``default``, what uv's
    settings name, else PyPI), then the extra ones the configuration opts in to."""
    accelerator = config.accelerators[cell.accelerator]
    primary = configured_index(config, cell) or default or PYPI
    return [primary.rstrip("/"), *accelerator.extra_index_urls]


def compile_args(
    config: Config,
    cell: Cell,
    inputs: Sequence[str],
    output: str,
    only_binary: Sequence[str] = (),
    python: str | None = None,
) -> list[str]:
    """The ``uv pip compile`` arguments for one cell (pure; tested without uv).

    ``only_binary``: packages uv must take a version with a wheel of (the newest
    one that has a wheel for the cell, rather than a newer one only an sdist has).
    ``python``: the cell's interpreter, where noxgrid found one: uv builds an
    sdist's metadata with it, and neither searches for one nor downloads one
    (without it, uv looks for a Python of the cell's version and, finding none,
    tries to download one before it falls back to another version).
    """
    args = [
        "pip",
        "compile",
        *inputs,
        *(["--python", python] if python else []),
        "--python-version",
        cell.python,
        "--python-platform",
        config.platform,
        "--generate-hashes",
        "--no-header",
        "--annotation-style",
        "split",
        "--emit-index-annotation",
        "--quiet",
        "--output-file",
        output,
    ]
    for name in only_binary:
        args += ["--only-binary", name]
    return args + _index_args(config, cell)


def export_args(
    config: Config, cell: Cell, pinned: str, output: str, python: str | None = None
) -> list[str]:
    """The ``uv pip compile`` arguments that turn ``pinned`` (uv's hash-pinned output for
    the cell) into a PEP 751 ``pylock.toml``: the same pins, each file's URL, size and hash.
    """
    return [
        "pip",
        "compile",
        pinned,
        *(["--python", python] if python else []),
        "--python-version",
        cell.python,
        "--python-platform",
        config.platform,
        "--format",
        "pylock.toml",
        "--no-deps",
        "--no-header",
        "--quiet",
        "--output-file",
        output,
        *_index_args(config, cell),
    ]


def _index_args(config: Config, cell: Cell) -> list[str]:
    """The index arguments of a cell: those configured, else uv's own settings decide."""
    accelerator = config.accelerators[cell.accelerator]
    extra = list(accelerator.extra_index_urls)
    args: list[str] = []
    # Only a configured index is passed: otherwise uv's own settings (a mirror) decide.
    primary = configured_index(config, cell)
    if primary:
        args += ["--index-url", primary]
    for url in extra:
        args += ["--extra-index-url", url]
    if extra:
        # A name is taken from the first index that has it, never the best version across
        # indexes: the defence against dependency confusion.
        args += ["--index-strategy", "first-index"]
    if accelerator.torch_backend:
        args += ["--torch-backend", accelerator.torch_backend]
    return args


# uv's words for a request that never reached the index.
_NETWORK = (
    "Failed to fetch",
    "error sending request",
    "Request failed after",
    "dns error",
    "tcp connect error",
    "Connection refused",
    "Network is unreachable",
    "operation timed out",
    "Could not connect",
    # git, when uv fetches a git requirement:
    "Could not resolve host",
    "Failed to connect to",
    "Connection timed out",
    # uv offline (UV_OFFLINE, --offline) and the package not in its cache:
    "because the network was disabled",
    "Network connectivity is disabled",
)


def offline_failure(output: str) -> bool:
    """True when uv failed because it was told to stay offline (UV_OFFLINE, --offline)."""
    error = uv_error(output)
    return "network was disabled" in error or "Network connectivity is disabled" in error


# The fix where uv was offline and its cache lacked what was needed.
OFFLINE_FIX = (
    "uv is offline (UV_OFFLINE=1, or offline = true in uv's settings) and its cache "
    "lacks these packages: unset UV_OFFLINE, or fill the cache once where the index answers"
)


def network_failure(output: str) -> bool:
    """True when uv's error says the index could not be reached (a warning before it, such
    as a managed Python that could not be downloaded, is not the failure)."""
    error = uv_error(output)
    return any(marker in error for marker in _NETWORK)


def drop_package(body: str, name: str, root: Path | None = None) -> str:
    """``body`` (uv's output) without the block of ``name`` (the project's own pin) or of
    ``root`` (the project named by its folder, to have uv read its metadata)."""
    wanted = canonicalize_name(name)
    own = {str(root), root.as_uri()} if root is not None else set()
    kept: list[str] = []
    skipping = False
    for line in body.splitlines():
        if line and not line.startswith((" ", "\t", "#")):
            head = line.split("==")[0].split(" @ ")[0].split("[")[0].strip()
            skipping = head in own or (canonicalize_name(head) == wanted if head else False)
        elif not line:
            skipping = False
        if not skipping:
            kept.append(line)
    return "\n".join(kept) + "\n"
