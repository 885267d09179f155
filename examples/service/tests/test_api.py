"""The lean API: health, readiness, notes in SQLite, auth."""

import pytest

from refservice.app import create_app
from refservice.settings import Settings


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_ready_reports_the_database(client):
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_notes_round_trip(client):
    created = client.post("/notes", json={"title": "first", "body": "hello"})
    assert created.status_code == 201
    note_id = created.json()["id"]
    client.post("/notes", json={"title": "second"})
    assert client.get(f"/notes/{note_id}").json() == {
        "id": note_id,
        "title": "first",
        "body": "hello",
    }
    assert [n["title"] for n in client.get("/notes").json()] == ["first", "second"]


def test_missing_note_is_404(client):
    assert client.get("/notes/999").status_code == 404


def test_empty_title_is_rejected(client):
    assert client.post("/notes", json={"title": ""}).status_code == 422


def test_api_key_required_unless_disabled(secured):
    assert secured.get("/notes").status_code == 401
    assert secured.get("/notes", headers={"X-API-Key": "wrong"}).status_code == 401
    assert secured.get("/notes", headers={"X-API-Key": "s3cret"}).status_code == 200
    assert secured.get("/healthz").status_code == 200


def test_refuses_to_start_without_key_or_disable_auth(tmp_path):
    with pytest.raises(RuntimeError, match="DISABLE_AUTH"):
        create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}"))


def test_settings_from_environment():
    settings = Settings.from_env(
        {"DATABASE_URL": "sqlite:///./ci.sqlite3", "DISABLE_AUTH": "1", "ENV": "ci"}
    )
    assert settings.disable_auth and settings.env == "ci"
    assert settings.database_url == "sqlite:///./ci.sqlite3"
