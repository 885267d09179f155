"""Is there a GPU here, and which pytest arguments deselect GPU tests when not?"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

# Device nodes the NVIDIA and ROCm drivers create; their presence is enough to
# try GPU tests, and no process needs to start to look.
GPU_DEVICE_NODES = ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd")


def detect_gpu(
    env: Mapping[str, str] | None = None, nodes: Sequence[str] = GPU_DEVICE_NODES
) -> tuple[bool, str]:
    """(present, why). ``NOXGRID_GPU=1`` or ``=0`` overrides the device-node probe."""
    env = os.environ if env is None else env
    forced = env.get("NOXGRID_GPU")
    if forced in ("0", "1"):
        return forced == "1", f"NOXGRID_GPU={forced}"
    for node in nodes:
        if Path(node).exists():
            return True, f"{node} exists"
    return False, f"no GPU device node ({', '.join(nodes)})"


def _pytest_args_start(command: Sequence[str]) -> int | None:
    if command and Path(command[0]).name in ("pytest", "py.test"):
        return 1
    if len(command) >= 3 and command[1] == "-m" and command[2] == "pytest":
        return 3
    return None


def is_pytest(command: Sequence[str]) -> bool:
    """True for ``pytest ...`` and ``python -m pytest ...``."""
    return _pytest_args_start(command) is not None


def deselect_marker(command: Sequence[str], marker: str) -> list[str]:
    """A pytest ``command`` with tests marked ``marker`` deselected.

    An existing ``-m EXPR`` becomes ``-m '(EXPR) and not MARKER'``.
    """
    args = list(command)
    start = _pytest_args_start(args)
    if start is None:
        return args
    for index in range(start, len(args) - 1):
        if args[index] == "-m":
            args[index + 1] = f"({args[index + 1]}) and not {marker}"
            return args
    return [*args, "-m", f"not {marker}"]


def _declared_markers(root: Path) -> list[str]:
    """Marker lines from the project's pytest configuration (pyproject, ini files)."""
    import configparser
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    lines: list[str] = []
    try:
        with (root / "pyproject.toml").open("rb") as stream:
            options = tomllib.load(stream).get("tool", {}).get("pytest", {}).get("ini_options", {})
        markers = options.get("markers", [])
        lines += markers if isinstance(markers, list) else str(markers).splitlines()
    except (OSError, ValueError):
        pass
    for name, section in (
        ("pytest.ini", "pytest"),
        ("tox.ini", "pytest"),
        ("setup.cfg", "tool:pytest"),
    ):
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(root / name, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue
        if parser.has_option(section, "markers"):
            lines += parser.get(section, "markers").splitlines()
    return [str(line).strip() for line in lines if str(line).strip()]


def marker_declared(root: Path, marker: str) -> bool:
    """True when the project's pytest configuration declares ``marker``.

    Deselecting an undeclared marker breaks suites that run with
    ``--strict-markers`` (pytest rejects the ``-m`` expression), and such a
    suite cannot mark tests with it anyway. Markers a conftest.py adds with
    ``config.addinivalue_line("markers", ...)`` count too.
    """
    if any(re.match(rf"{re.escape(marker)}\b", line) for line in _declared_markers(root)):
        return True
    pattern = re.compile(
        rf"""addinivalue_line\(\s*["']markers["']\s*,\s*["']{re.escape(marker)}\b"""
    )
    for conftest in (root / "conftest.py", root / "tests" / "conftest.py"):
        try:
            if pattern.search(conftest.read_text(encoding="utf-8")):
                return True
        except (OSError, UnicodeDecodeError):
            continue
    return False


_DESELECTED = re.compile(r"\b(\d+) deselected\b")


def deselected_count(output: str) -> int:
    """How many tests pytest deselected, from its last summary line that says (0: none)."""
    found = _DESELECTED.findall(output)
    return int(found[-1]) if found else 0
