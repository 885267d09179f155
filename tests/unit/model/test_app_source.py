"""The application object and its health route, read from the source with ast."""

from __future__ import annotations

import textwrap
from pathlib import Path

from noxgrid.model.app_source import find_app, find_health, module_name, source_files


def tree(root: Path, files: dict[str, str]) -> list[Path]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_a_fastapi_app_in_a_package_and_a_router_health_route(tmp_path):
    files = tree(
        tmp_path,
        {
            "api/__init__.py": "",
            "api/main.py": """
                import fastapi
                from api.routes import router

                application: fastapi.FastAPI = fastapi.FastAPI(title="x")
                application.include_router(router)
            """,
            "api/routes.py": """
                from fastapi import APIRouter

                router = APIRouter(prefix="/status")

                @router.get("/live")
                async def live():
                    return {}

                @router.post("/ready")
                def not_a_probe():
                    return {}
            """,
            "tests/test_main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        },
    )
    app = find_app(tmp_path, files)
    assert app is not None
    assert (app.spec(), app.kind, app.where) == ("api.main:application", "asgi", "api/main.py:5")
    health = find_health(tmp_path, files)
    assert health is not None
    assert (health.path, health.function, health.where) == (
        "/status/live",
        "live",
        "api/routes.py:6",
    )
    assert not health.on_app


def test_routes_on_the_app_come_first_and_readiness_before_liveness(tmp_path):
    files = tree(
        tmp_path,
        {
            "main.py": """
                from fastapi import APIRouter, FastAPI

                app = FastAPI()
                router = APIRouter()

                @router.get("/ready")
                def ready():
                    return {}

                @app.get("/heartbeat")
                def beat():
                    return {}

                @app.get("/healthz/")
                def probe():
                    return {}

                @app.get("/health/{part}")
                def part(part: str):
                    return {}

                def check():
                    return {}

                app.add_api_route("/readiness", check)
            """
        },
    )
    health = find_health(tmp_path, files)
    assert health is not None
    assert (health.path, health.function, health.on_app) == ("/readiness", "check", True)


def test_a_flask_app_with_methods_and_a_function_named_health(tmp_path):
    files = tree(
        tmp_path,
        {
            "server.py": """
                from flask import Flask

                web = Flask(__name__)

                @web.route("/status", methods=["POST"])
                def health():
                    return ""

                @web.route("/ping-me", methods=["GET", "HEAD"])
                def healthcheck():
                    return ""
            """
        },
    )
    app = find_app(tmp_path, files)
    assert app is not None and (app.spec(), app.kind) == ("server:web", "wsgi")
    health = find_health(tmp_path, files)
    assert health is not None and (health.path, health.function) == ("/ping-me", "healthcheck")


def test_nothing_found_is_none_and_broken_files_are_skipped(tmp_path):
    files = tree(
        tmp_path,
        {
            "broken.py": "def (:\n",
            "lib.py": "def make():\n    from fastapi import FastAPI\n    return FastAPI()\n",
            "my-script.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        },
    )
    assert find_app(tmp_path, files) is None, "a factory's local and a non-module are not it"
    assert find_health(tmp_path, files) is None


def test_module_names_and_which_files_are_sources(tmp_path):
    assert module_name(Path("app/main.py")) == "app.main"
    assert module_name(Path("pkg/__init__.py")) == "pkg"
    assert module_name(Path("my-app/main.py")) is None
    files = tree(
        tmp_path,
        {
            "a/b.py": "",
            "tests/t.py": "",
            "test_x.py": "",
            "conftest.py": "",
            "c.py": "",
            "d.txt": "",
        },
    )
    assert [p.relative_to(tmp_path).as_posix() for p in source_files(tmp_path, files)] == [
        "c.py",
        "a/b.py",
    ]


def test_a_fastapi_app_without_a_health_route_answers_its_openapi_schema(tmp_path):
    from noxgrid.init.application import docker_lines, read_application
    from noxgrid.model.app_source import schema_route

    files = tree(
        tmp_path,
        {
            "app/main.py": """
                from fastapi import FastAPI

                app = FastAPI(title="ocr")

                @app.post("/ocr")
                async def ocr():
                    return {}
            """
        },
    )
    app = find_app(tmp_path, files)
    assert app is not None and app.schema == "/openapi.json"
    assert find_health(tmp_path, files) is None
    route = schema_route(app)
    assert route is not None and route.path == "/openapi.json" and route.where == "app/main.py:4"
    found = read_application(tmp_path, files, {"fastapi", "uvicorn"})
    assert found.declared
    assert any("the health path is GET /openapi.json" in note for note in found.notes)
    lines = docker_lines("ocr", found)
    assert 'health = { path = "/openapi.json", port = 8000, timeout = "60s" }' in lines
    assert 'image = "ocr"' in lines


def test_the_schema_path_follows_openapi_url_and_is_none_when_turned_off(tmp_path):
    def schema(call: str) -> str | None:
        files = tree(tmp_path, {"main.py": f"from fastapi import FastAPI\napp = {call}\n"})
        found = find_app(tmp_path, files)
        assert found is not None
        return found.schema

    assert schema('FastAPI(openapi_url="/api/schema.json")') == "/api/schema.json"
    assert schema("FastAPI(openapi_url=None)") is None
    assert schema("FastAPI(openapi_url=settings.url)") is None
    assert schema("FastAPI(**settings)") is None
    assert schema("Starlette()") is None  # Starlette serves no schema of its own


def test_a_declared_health_route_wins_over_the_schema(tmp_path):
    from noxgrid.init.application import read_application

    files = tree(
        tmp_path,
        {
            "main.py": 'from fastapi import FastAPI\napp = FastAPI()\n@app.get("/health")\ndef h(): ...\n'
        },
    )
    found = read_application(tmp_path, files, {"uvicorn"})
    assert found.health is not None and found.health.path == "/health"
