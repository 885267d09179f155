"""Adopting applications as they are, with real uv: a poetry project that is no package
(its dependencies locked from requirements/app.in, its code taken from the tree), and a
git requirement that git cannot fetch (the host named, the network's exit code)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.integration.conftest import locked, noxgrid


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def test_a_poetry_application_locks_its_dependencies_and_runs_from_the_tree(tmp_path):
    root = write(
        tmp_path / "svc",
        {
            "pyproject.toml": """\
                [build-system]
                requires = ["poetry-core>=1.0"]
                build-backend = "poetry.core.masonry.api"

                [tool.poetry]
                name = "ocr-api"
                version = "1.0.0"
                description = "x"
                authors = ["x <x@example.org>"]

                [tool.poetry.dependencies]
                python = ">=3.11,<3.12"
                six = "^1.15"

                [tool.poetry.group.dev.dependencies]
                pytest = ">=7"
            """,
            "app/__init__.py": "",
            "app/main.py": "import six\n\nVALUE = six.PY3\n",
            "tests/test_app.py": "from app.main import VALUE\n\n\ndef test_value():\n"
            "    assert VALUE\n",
        },
    )
    result = noxgrid("init", cwd=root)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "not a package (no `packages` in [tool.poetry] and no ocr_api/" in output
    assert "six>=1.15,<2.0" in (root / "requirements/app.in").read_text()
    pins = locked(root, "3.11-cpu-lean").packages
    assert "six" in pins and "pytest" in pins
    run = noxgrid("run", "3.11-cpu-lean", "--no-docker", "-q", cwd=root)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "1 passed" in output


def test_a_git_requirement_git_cannot_fetch_names_the_host_and_exits_5(tmp_path):
    root = write(
        tmp_path / "svc",
        {
            "pyproject.toml": """\
                [build-system]
                requires = ["setuptools>=61"]
                build-backend = "setuptools.build_meta"

                [project]
                name = "svc"
                version = "0.1.0"
                requires-python = ">=3.11"
                dependencies = ["thing @ git+https://git.noxgrid.invalid/o/thing.git@main"]

                [tool.setuptools]
                packages = ["svc"]

                [tool.noxgrid]
                python = ["3.11"]
                accelerators = ["cpu"]

                [tool.noxgrid.profile.lean]
                requirements = ["requirements/lean.in"]
            """,
            "svc/__init__.py": "",
            "requirements/lean.in": "pytest\n",
        },
    )
    result = noxgrid("lock", cwd=root)
    output = result.stdout + result.stderr
    assert result.returncode == 5, output
    assert "uv could not reach git.noxgrid.invalid (https://git.noxgrid.invalid/o/thing.git/)" in (
        output
    )
    assert "pin a released version instead of `thing @ git+https://git.noxgrid.invalid" in output
