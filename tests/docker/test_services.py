"""Two requirement-file services adopted by one `noxgrid init`: images built and smoke-tested.

The Docker variant of tests/integration/test_services.py: each service's image
is built from the template without installing a project (INSTALL_PROJECT=0),
its application (read from the code) answers on its health route (read from
the code), and the suite also runs inside the image from /app.
"""

from __future__ import annotations

from tests.integration.conftest import noxgrid
from tests.integration.test_services import adopt, stages, two_services


def test_two_services_build_start_and_answer_on_their_health_routes(tmp_path, docker_env):
    root = two_services(tmp_path / "repo")
    env = {**docker_env, "NOXGRID_GPU": "0"}
    adopt(root, env=env)
    for service, path in (("backend", "/healthz"), ("workers", "/ready")):
        ran = noxgrid("run", "-C", service, cwd=root, env=env)
        assert ran.returncode == 0, (ran.stdout + ran.stderr)[-3000:]
        cell = stages(root / service, "3.11-cpu-lean")
        assert cell["image"]["status"] == "passed", cell["image"]
        assert cell["image"]["detail"].startswith(f"{service}:3.11-cpu-lean from ")
        assert cell["smoke"]["status"] == "passed", cell["smoke"]
        assert f"{path} answered 200" in cell["smoke"]["detail"]
        assert cell["suite"]["status"] == "passed"
    inside = noxgrid("image", "3.11-cpu-lean", "--in-image", "-C", "backend", cwd=root, env=env)
    output = inside.stdout + inside.stderr
    assert inside.returncode == 0, output[-3000:]
    assert "suite in the image: 2 passed" in output
