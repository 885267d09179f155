"""A warm run imports only what it uses: the modules of scans and of the index
(detect-secrets pulls in requests and urllib3; the index urllib.request, ssl and
html.parser) are imported by the functions that need them, not when a cell or a nox
session starts. Read from the sources: every import a module makes when it is loaded
(not those inside its functions), followed through noxgrid's own modules."""

from __future__ import annotations

import ast
from pathlib import Path

import noxgrid

PACKAGE = Path(noxgrid.__file__).resolve().parent

# What `nox -s ci-lean` imports to run its cells (nox_sessions._run_cells).
CELL_PATH = (
    "noxgrid.nox_sessions",
    "noxgrid.cell.run",
    "noxgrid.cell.progress",
    "noxgrid.render.table",
    "noxgrid.model.reason",
    "noxgrid.tools.runner",
)

NOT_ON_A_WARM_RUN = (
    "detect_secrets",
    "requests",
    "urllib3",
    "ssl",
    "http.client",
    "urllib.request",
    "html.parser",
    "noxgrid.tools.index",
)


def _source(module: str) -> Path | None:
    parts = module.split(".")[1:]
    for path in (
        PACKAGE.joinpath(*parts, "__init__.py"),
        PACKAGE.joinpath(*parts).with_suffix(".py"),
    ):
        if path.is_file():
            return path
    return None


def _top_level_imports(tree: ast.Module) -> list[str]:
    """Imports outside every function body."""
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                found.extend(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                found.append(child.module)
                found.extend(f"{child.module}.{alias.name}" for alias in child.names)
            visit(child)

    visit(tree)
    return found


def imported_at_load(roots: tuple[str, ...]) -> set[str]:
    """Every module that loading ``roots`` imports, through noxgrid's own modules."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        path = _source(module) if module.startswith("noxgrid") else None
        if path is None:
            continue
        for name in _top_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
            parts = name.split(".")
            # a package's parents load first (noxgrid.cell for noxgrid.cell.run)
            todo += [".".join(parts[:end]) for end in range(1, len(parts) + 1)]
    return seen


def test_a_cell_run_imports_no_scanner_and_no_network_module():
    loaded = imported_at_load(CELL_PATH)
    assert "noxgrid.cell.doctor" in loaded and "noxgrid.cell.install" in loaded
    assert sorted(loaded & set(NOT_ON_A_WARM_RUN)) == []


def test_the_reading_sees_an_import_made_at_load_and_not_one_made_in_a_function():
    tree = ast.parse(
        "import json\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import ssl\n"
        "try:\n    import fcntl\nexcept ImportError:\n    pass\n"
        "def later():\n    import requests\n"
        "class Kind:\n    import html.parser\n"
    )
    assert _top_level_imports(tree) == [
        "json",
        "typing",
        "typing.TYPE_CHECKING",
        "fcntl",
        "html.parser",
    ]


def test_the_scan_still_imports_its_scanner_when_it_runs(tmp_path):
    from noxgrid.tools.secrets import scan_files

    (tmp_path / "settings.py").write_text('aws = "AKIAIOSFODNN7EXAMPLE"\n', encoding="utf-8")
    (tmp_path / "data.png").write_bytes(b"\x89PNG AKIAIOSFODNN7EXAMPLE")
    found = scan_files(tmp_path, ["settings.py", "data.png"])
    assert [(item.path, item.line) for item in found] == [("settings.py", 1)]


def test_the_interpreters_memo_is_found_without_loading_the_index(tmp_path, monkeypatch):
    import sys

    from noxgrid.tools import interpreters

    monkeypatch.setenv("NOXGRID_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delitem(sys.modules, "noxgrid.tools.index", raising=False)
    assert interpreters._memo_path() == tmp_path / "cache" / "interpreters.json"
    assert "noxgrid.tools.index" not in sys.modules
