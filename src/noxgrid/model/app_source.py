"""The application object and its health route, read from a service's source. Pure.

``init`` uses this to declare what the image starts and where it answers,
instead of placeholders. Every ``.py`` file of the service (tests left out)
is parsed with :mod:`ast`, never imported:

- the application: a module-level ``name = FastAPI(...)`` (also ``Starlette``,
  ``Flask``, ``Quart``), as ``module:name`` relative to the service's root
  (``app/main.py`` -> ``app.main:app``);
- its health route: a decorated function ``@app.get("/health")``,
  ``@router.get(...)``, ``@app.route(...)`` (GET or no methods), or an
  ``app.add_api_route("/health", ...)`` call, whose last path segment or
  function name is one of :data:`HEALTH_NAMES`. A router's own ``prefix=`` is
  added; a prefix given where it is included is not known here, so routes on
  the application object come first.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

APP_CLASSES = {"FastAPI": "asgi", "Starlette": "asgi", "Quart": "asgi", "Flask": "wsgi"}
ROUTER_CLASSES = {"APIRouter", "Blueprint", "Router"}
# In order of preference: a readiness route says best when a service can take work.
HEALTH_NAMES = (
    "ready",
    "readiness",
    "health",
    "healthz",
    "healthcheck",
    "live",
    "liveness",
    "heartbeat",
    "ping",
)
_ROUTE_METHODS = {"get", "route", "api_route", "head"}
_SKIPPED_PARTS = {"tests", "test", "docs", "migrations", "alembic", "scripts", "docker"}


@dataclass(frozen=True)
class FoundApp:
    """An application object: ``module:attribute``, its kind (asgi/wsgi), where."""

    module: str
    attribute: str
    kind: str
    where: str
    # The OpenAPI schema path the app serves (FastAPI: ``/openapi.json`` unless its
    # ``openapi_url`` says otherwise); None where it serves none or noxgrid cannot tell.
    schema: str | None = None

    def spec(self) -> str:
        """``module:attribute`` as servers take it."""
        return f"{self.module}:{self.attribute}"


@dataclass(frozen=True)
class FoundRoute:
    """A health route: its path, the function, where, and whether it hangs on the app."""

    path: str
    function: str
    where: str
    on_app: bool
    # True for a stand-in (the OpenAPI schema), which a route stated elsewhere replaces
    fallback: bool = False


def module_name(relative: Path) -> str | None:
    """``app/main.py`` -> ``app.main``; ``pkg/__init__.py`` -> ``pkg``; None if not a module."""
    parts = list(relative.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    if not parts or not all(part.isidentifier() for part in parts):
        return None
    return ".".join(parts)


def import_path(root: Path, path: Path) -> Path:
    """``path`` as imported: relative to ``root``, or to ``root/src`` in a src layout."""
    relative = path.relative_to(root)
    layout = len(relative.parts) > 1 and relative.parts[0] == "src"
    if layout and not (root / "src" / "__init__.py").is_file():
        return Path(*relative.parts[1:])
    return relative


def source_files(root: Path, files: Iterable[Path]) -> list[Path]:
    """The service's Python sources among ``files``: tests, docs and tooling left out."""
    chosen = []
    for path in files:
        if path.suffix != ".py":
            continue
        relative = path.relative_to(root)
        folders = set(relative.parts[:-1])
        if folders & _SKIPPED_PARTS or path.name.startswith("test_") or path.name == "conftest.py":
            continue
        if path.name in ("noxfile.py", "setup.py"):
            continue
        chosen.append(path)
    return sorted(chosen, key=lambda p: (len(p.relative_to(root).parts), str(p)))


def _parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None


def _called(node: ast.AST) -> str | None:
    """The class name a call makes (``FastAPI(...)``, ``fastapi.FastAPI(...)``)."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _assigned(tree: ast.Module) -> Iterable[tuple[str, ast.expr, int]]:
    """Module-level ``name = value`` (and ``name: T = value``)."""
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    yield target.id, node.value, node.lineno
        elif (
            isinstance(node, ast.AnnAssign)
            and node.value is not None
            and isinstance(node.target, ast.Name)
        ):
            yield node.target.id, node.value, node.lineno


def find_app(root: Path, files: Iterable[Path]) -> FoundApp | None:
    """The first application object in the service's sources (shallowest file first)."""
    for path in source_files(root, files):
        tree = _parse(path)
        module = module_name(import_path(root, path))
        if tree is None or module is None:
            continue
        for name, value, line in _assigned(tree):
            kind = APP_CLASSES.get(_called(value) or "")
            if kind is not None:
                where = f"{path.relative_to(root).as_posix()}:{line}"
                schema = openapi_path(value) if _called(value) == "FastAPI" else None
                return FoundApp(module, name, kind, where, schema)
    return None


def openapi_path(call: ast.expr) -> str | None:
    """The path a ``FastAPI(...)`` call serves its OpenAPI schema at: its ``openapi_url``
    when that is a string, FastAPI's default without one; None when it is turned off
    (``openapi_url=None``) or computed (noxgrid cannot tell)."""
    assert isinstance(call, ast.Call)
    for keyword in call.keywords:
        if keyword.arg is None:  # FastAPI(**settings): it may set openapi_url
            return None
        if keyword.arg == "openapi_url":
            value = keyword.value
            ok = isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value
            return str(value.value) if ok else None  # type: ignore[attr-defined]
    return "/openapi.json"


def schema_route(app: FoundApp) -> FoundRoute | None:
    """The OpenAPI schema route as the health path of an app that declares no health
    route: FastAPI answers it once the application is up. None where there is none."""
    if app.schema is None:
        return None
    return FoundRoute(app.schema, "FastAPI's OpenAPI schema", app.where, on_app=True, fallback=True)


def _prefixes(tree: ast.Module) -> dict[str, tuple[str, bool]]:
    """Each app or router object of a module: (its own prefix, whether it is an app)."""
    found: dict[str, tuple[str, bool]] = {}
    for name, value, _ in _assigned(tree):
        called = _called(value) or ""
        if called in APP_CLASSES:
            found[name] = ("", True)
        elif called in ROUTER_CLASSES and isinstance(value, ast.Call):
            prefix = next(
                (
                    kw.value.value
                    for kw in value.keywords
                    if kw.arg in ("prefix", "url_prefix")
                    and isinstance(kw.value, ast.Constant)
                    and isinstance(kw.value.value, str)
                ),
                "",
            )
            found[name] = (prefix, False)
    return found


def _route_call(node: ast.expr) -> tuple[str, str, ast.Call] | None:
    """(object, method, call) of ``obj.get("/x")``-like calls."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return None
    owner = node.func.value
    if not isinstance(owner, ast.Name):
        return None
    return owner.id, node.func.attr, node


def _path_of(call: ast.Call) -> str | None:
    first = call.args[0] if call.args else None
    first = first or next((kw.value for kw in call.keywords if kw.arg in ("path", "rule")), None)
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def _gets(call: ast.Call) -> bool:
    """False for a route declared for methods without GET."""
    for kw in call.keywords:
        if kw.arg == "methods" and isinstance(kw.value, (ast.List, ast.Tuple, ast.Set)):
            methods = {str(e.value).upper() for e in kw.value.elts if isinstance(e, ast.Constant)}
            return "GET" in methods
    return True


def _healthy(path: str, function: str) -> int | None:
    """The preference rank of a route (lower first), or None when it is no health route."""
    if "{" in path or "<" in path:
        return None  # a path parameter: not a fixed probe URL
    last = path.rstrip("/").rsplit("/", 1)[-1].lower()
    for rank, name in enumerate(HEALTH_NAMES):
        if last == name or function.lower() in (name, f"{name}_check", f"get_{name}"):
            return rank
    return None


def _routes(tree: ast.Module) -> Iterable[tuple[str, str, int, bool]]:
    """(path, function, line, on the app) of every GET route of a module."""
    owners = _prefixes(tree)
    for node in ast.walk(tree):
        calls: list[tuple[ast.expr, str, int]] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            calls = [(d, node.name, d.lineno) for d in node.decorator_list]
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            call = node.value
            handler = call.args[1] if len(call.args) > 1 else None
            name = handler.id if isinstance(handler, ast.Name) else ""
            calls = [(call, name, node.lineno)]
        for expr, function, line in calls:
            found = _route_call(expr)
            if found is None:
                continue
            owner, method, call = found
            wanted = method in _ROUTE_METHODS or method in ("add_api_route", "add_url_rule")
            path = _path_of(call)
            if owner not in owners or not wanted or path is None or not _gets(call):
                continue
            prefix, on_app = owners[owner]
            yield prefix.rstrip("/") + path, function, line, on_app


def find_health(root: Path, files: Iterable[Path]) -> FoundRoute | None:
    """The best health route of the service's sources, or None."""
    best: tuple[tuple[int, int], FoundRoute] | None = None
    for path in source_files(root, files):
        tree = _parse(path)
        if tree is None:
            continue
        for route, function, line, on_app in _routes(tree):
            rank = _healthy(route, function)
            if rank is None:
                continue
            where = f"{path.relative_to(root).as_posix()}:{line}"
            key = (0 if on_app else 1, rank)
            if best is None or key < best[0]:
                best = (key, FoundRoute(route, function, where, on_app))
    return best[1] if best else None
