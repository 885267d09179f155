"""The layout tells the architecture, and these rules keep it so.

model (pure: no process, no network, no file written) < render < tools (the only
modules that start processes or open sockets) < cell, the library (lock/, check/,
init/) < commands < cli, nox_sessions and the package itself. No
module imports one above it; every exception is a NoxgridError in errors.py;
no module is over 400 lines, no function over 60.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "noxgrid"
BASE = {"noxgrid._version", "noxgrid.errors", "noxgrid.files"}
# The library: one folder per domain (locking, the check, init).
LIBRARY = {"lock", "check", "init"}
EDGE_MODULES = {"subprocess", "socket", "urllib", "http", "requests", "ssl"}


def layer(module: str) -> int:
    """0 base, 1 model, 2 render, 3 tools, 4 cell and library, 5 commands, 6 the top."""
    part = module.split(".")[1] if module.count(".") else ""
    if module in BASE:
        return 0
    if part in LIBRARY or part == "cell":
        return 4
    return {"model": 1, "render": 2, "tools": 3, "commands": 5}.get(part, 6)


def modules() -> list[tuple[str, Path, ast.Module]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(["noxgrid", *path.relative_to(PACKAGE).with_suffix("").parts])
        found.append((name.removesuffix(".__init__"), path, ast.parse(path.read_text())))
    return found


MODULES = modules()


def test_no_module_imports_one_above_it():
    for name, _path, tree in MODULES:
        _imports_below(name, tree)


def _imports_below(name: str, tree: ast.Module) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("noxgrid"):
            target = node.module or ""
            assert target != "noxgrid" or layer(name) == 6, f"{name} imports the package"
            assert layer(target) <= layer(name), f"{name} imports {target}, a layer above it"


def test_only_tools_start_processes_or_open_sockets():
    for name, _path, tree in MODULES:
        if layer(name) != 3:
            _no_edge_imports(name, tree)


def _no_edge_imports(name: str, tree: ast.Module) -> None:
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module.split(".")[0]]
        for imported in names:
            assert imported not in EDGE_MODULES, f"{name} imports {imported}"


def test_the_model_and_renderings_write_no_file():
    for name, path, _tree in MODULES:
        if layer(name) not in (1, 2):
            continue
        text = path.read_text()
        for word in ("write_text", "write_bytes", "atomic_write", "mkdir(", "unlink(", "rmtree"):
            assert word not in text, f"{name} writes files ({word})"


def test_every_exception_is_a_noxgrid_error_in_errors():
    for name, _path, tree in MODULES:
        _exceptions_in_errors(name, tree)


def _exceptions_in_errors(name: str, tree: ast.Module) -> None:
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        bases = {getattr(base, "id", getattr(base, "attr", "")) for base in node.bases}
        if bases & {"Exception", "ValueError", "RuntimeError", "KeyError", "OSError"}:
            assert name == "noxgrid.errors" and node.name == "NoxgridError", (
                f"{name}.{node.name} is an exception outside errors.py"
            )
        if name == "noxgrid.errors":
            # Interrupted is a KeyboardInterrupt on purpose: no `except NoxgridError` or
            # `except Exception` may take an interrupt for a failure.
            assert (
                node.name == "NoxgridError"
                or (node.name == "Interrupted" and bases == {"KeyboardInterrupt"})
                or "NoxgridError" in bases
                or bases
                <= {
                    "ConfigError",
                    "CommandFailed",
                    "CellFailed",
                }
            ), node.name


def test_modules_and_functions_stay_small():
    for name, path, tree in MODULES:
        assert len(path.read_text().splitlines()) <= 400, f"{name} is over 400 lines"
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                assert length <= 60, f"{name}.{node.name} is {length} lines"
