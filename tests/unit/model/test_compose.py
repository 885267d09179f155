"""The compose file: services built from folders, their health route and port."""

from __future__ import annotations

from noxgrid.model.compose import compose_file, read_compose, service_for

COMPOSE = """\
services:
  api:
    build:
      context: ./services/api
      dockerfile: Dockerfile.prod
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost:8080/api/health"]
    ports:
      - "9000:8080"
  worker:
    build: worker
    ports: ["127.0.0.1:5001:5000/tcp"]
  web:
    build: .
    healthcheck:
      test: wget -q --spider http://localhost/ready || exit 1
  queue:
    image: redis:7
  templated:
    build: ./templated
    healthcheck:
      test: curl -f http://localhost:$${PORT}/health
    expose: [7002]
  long:
    build: ./long
    ports:
      - target: 7000
        published: 80
    expose: ["7001"]
"""


def test_services_that_build_from_folders_with_their_values(tmp_path):
    (tmp_path / "docker-compose.yml").write_text(COMPOSE)
    assert compose_file(tmp_path) == tmp_path / "docker-compose.yml"
    services = {s.name: s for s in read_compose(tmp_path)}
    assert sorted(services) == ["api", "long", "templated", "web", "worker"], "queue builds nothing"
    api = services["api"]
    assert api.context == "services/api"
    assert (api.dockerfile.value, api.dockerfile.where) == (
        "Dockerfile.prod",
        "docker-compose.yml:5",
    )
    assert (api.health_path.value, api.health_path.where) == ("/api/health", "docker-compose.yml:7")
    assert api.port.value == "8080", "the healthcheck's port, inside the container"
    worker = services["worker"]
    assert (worker.context, worker.health_path, worker.port.value) == ("worker", None, "5000")
    assert worker.port.where == "docker-compose.yml:12"
    web = services["web"]
    assert (web.context, web.health_path.value, web.port.value) == (".", "/ready", "80")
    assert services["long"].port.value == "7000"
    templated = services["templated"]
    assert (templated.health_path, templated.port.value) == (None, "7002"), "no URL read"
    assert service_for(list(services.values()), "services/api/") is api
    assert service_for(list(services.values()), "nothing") is None


def test_no_compose_file_or_an_unreadable_one_is_nothing(tmp_path):
    assert compose_file(tmp_path) is None
    assert read_compose(tmp_path) == []
    (tmp_path / "compose.yaml").write_text("just text\n")
    assert read_compose(tmp_path) == []
