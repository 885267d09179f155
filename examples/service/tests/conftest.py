import pytest
from fastapi.testclient import TestClient

from refservice.app import create_app
from refservice.settings import Settings


@pytest.fixture
def client(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'test.sqlite3'}", disable_auth=True)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def secured(tmp_path):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'auth.sqlite3'}",
        api_key="s3cret",  # pragma: allowlist secret
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client
