"""`noxgrid init` on a service shaped like SeldonIO/MLServer: its suite is a named tox
environment and it has its own .dockerignore; then its cell runs green."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.integration.conftest import noxgrid

FILES = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "servy"
        version = "0.1.0"
        requires-python = ">=3.11,<3.12"
        dependencies = ["six"]

        [tool.setuptools]
        packages = ["servy"]
    """,
    "servy/__init__.py": "import six\n\nVALUE = six.PY3\n",
    "tox.ini": """
        [tox]
        envlist =
            servy
            lint

        [testenv]
        allowlist_externals = poetry

        [testenv:lint]
        deps = flake8
        commands = flake8 servy

        [testenv:servy]
        deps =
            pytest
        commands =
            python -m pytest {posargs} \\
                {toxinidir}/tests \\
                --ignore={toxinidir}/tests/network
    """,
    # As MLServer's: `./pytest_cache` keeps no `.pytest_cache` out, nothing names .noxgrid.
    ".dockerignore": "./pytest_cache\n.tox\n",
    "tests/test_value.py": "import servy\n\n\ndef test_value():\n    assert servy.VALUE\n",
    "tests/network/test_remote.py": "def test_needs_the_network():\n    raise AssertionError\n",
}


def test_a_named_tox_env_and_an_own_dockerignore_are_adopted(tmp_path):
    root = tmp_path / "servy"
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    result = noxgrid("init", cwd=root, env={"NOXGRID_GPU": "0"})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "suite command: pytest --ignore=tests/network" in output
    assert "(tox.ini:18)" in output, "the line the named environment's command begins on"
    assert ".dockerignore" in output and ".noxgrid/, .pytest_cache/ added" in output
    ignore = (root / ".dockerignore").read_text()
    assert ignore.startswith("./pytest_cache\n.tox\n") and ignore.endswith(
        "\n.noxgrid/\n.pytest_cache/\n"
    )
    lean = (root / "requirements" / "lean.in").read_text()
    assert "pytest" in lean and "flake8" not in lean, "the named environment's deps"
    run = noxgrid(
        "run", "--no-docker", cwd=root, env={"NOXGRID_NO_DOCKER": "1", "NOXGRID_GPU": "0"}
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    assert "1 passed" in run.stdout
    assert (root / ".noxgrid").is_dir() and (root / ".pytest_cache").is_dir()
    assert _kept_out(root, ".noxgrid") and _kept_out(root, ".pytest_cache")


def _kept_out(root: Path, name: str) -> bool:
    from noxgrid.init.ignores import ignores

    return ignores((root / ".dockerignore").read_text(), name)
