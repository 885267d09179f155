"""`noxgrid init` on projects as they are: setup.py alone, setup.cfg, flit; then their cells.

The metadata comes from each project's own build backend (PEP 517, in uv's
isolated environment), so a project without a [project] table is adopted like
one with it, and its dynamic dependencies reach its lock.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from tests.integration.conftest import locked, nox, noxgrid, unpacked_sdist

NO_DOCKER = {"NOXGRID_NO_DOCKER": "1", "NOXGRID_GPU": "0"}


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def cell(root: Path, cell_id: str) -> dict[str, dict]:
    data = json.loads((root / ".noxgrid" / "reports" / f"{cell_id}.json").read_text())
    return {stage["name"]: stage for stage in data["stages"]}


def test_a_setup_py_project_without_pyproject_is_adopted_and_runs_green(tmp_path):
    root = write(
        tmp_path / "legacy",
        {
            "setup.py": """
                from setuptools import setup
                setup(
                    name="legacy-app",
                    version="1.0",
                    py_modules=["legacy_app"],
                    python_requires=">=3.9",
                    install_requires=["six"],
                    extras_require={"test": ["pytest"]},
                    classifiers=["Programming Language :: Python :: 3.11"],
                )
            """,
            "legacy_app.py": "import six\n\nVALUE = six.PY3\n",
            "tests/test_app.py": "import legacy_app\n\n\ndef test_value():\n    assert legacy_app.VALUE\n",
        },
    )
    result = noxgrid("init", cwd=root)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "reading the project's metadata from its build backend (PEP 517)" in output
    assert "python axis from the classifiers: 3.11" in output
    assert "lean profile: the project with its 'test' extra" in output
    pins = locked(root, "3.11-cpu-lean").packages
    assert {"six", "pytest"} <= set(pins), "the dynamic dependencies reached the lock"
    assert not any("legacy" in name or p.url for name, p in pins.items()), "not the project"
    run = nox("-s", "ci-lean", "--", "--no-docker", cwd=root, env=NO_DOCKER)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    stages = cell(root, "3.11-cpu-lean")
    assert "import legacy_app -> the working tree" in stages["install"]["detail"]
    assert stages["suite"]["detail"].startswith("1 passed")


def test_a_flit_project_is_adopted_from_its_backend(tmp_path):
    root = write(
        tmp_path / "flitty",
        {
            "pyproject.toml": """
                [build-system]
                requires = ["flit_core>=3.4"]
                build-backend = "flit_core.buildapi"

                [project]
                name = "flitty"
                dynamic = ["version", "description"]
                requires-python = ">=3.10"
                dependencies = ["iniconfig"]
                classifiers = ["Programming Language :: Python :: 3.11"]

                [project.optional-dependencies]
                test = ["pytest"]
            """,
            "flitty.py": '"""Flitty."""\n\n__version__ = "1.0"\n',
            "tests/test_flitty.py": "import flitty\n\n\ndef test_version():\n    assert flitty.__version__\n",
        },
    )
    result = noxgrid("init", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    run = nox("-s", "ci-lean", "--", "--no-docker", cwd=root, env=NO_DOCKER)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    assert cell(root, "3.11-cpu-lean")["suite"]["detail"].startswith("1 passed")


# python-dateutil 2.9.0: setup.cfg metadata, its tests, its requirements-dev.txt.
DATEUTIL_SHA256 = "78e73e19c63f5b20ffa567001531680d939dc042bf7850431877645523c66709"


def test_a_setup_cfg_project_is_adopted_and_its_suite_runs(tmp_path):
    root = unpacked_sdist("python-dateutil", "2.9.0", tmp_path, sha256=DATEUTIL_SHA256)
    result = noxgrid("init", cwd=root)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "lean profile: the project's own requirements-dev.txt" in output
    assert "six" in locked(root, "3.11-cpu-lean").packages, "setup.cfg's install_requires"
    run = nox("-s", "ci-lean-3.11(cpu)", "--", "--no-docker", cwd=root, env=NO_DOCKER)
    stages = cell(root, "3.11-cpu-lean")
    assert stages["install"]["status"] == "passed", stages["install"]["detail"]
    assert "import dateutil -> the working tree" in stages["install"]["detail"]
    suite = stages["suite"]
    assert suite["status"] in ("passed", "failed")
    if suite["status"] == "failed":  # its own tests against today's pytest: said as such
        assert run.returncode != 0
        assert "test" in suite["detail"].splitlines()[0] and "pytest:" in suite["detail"]


def test_the_projects_ci_options_reach_the_suite_and_tool_extras_stay_out_of_full(tmp_path):
    root = write(
        tmp_path / "carried",
        {
            "pyproject.toml": """
                [build-system]
                requires = ["setuptools>=68"]
                build-backend = "setuptools.build_meta"

                [project]
                name = "carried"
                version = "1.0"
                requires-python = ">=3.11"
                classifiers = ["Programming Language :: Python :: 3.11"]

                [project.optional-dependencies]
                dev = ["pytest", "pytest-timeout"]
                bench = ["pytest-benchmark"]
                extra = ["six"]

                [tool.setuptools]
                py-modules = ["carried"]

                [tool.pytest.ini_options]
                markers = ["slow: takes long"]
            """,
            "tox.ini": """
                [testenv]
                extras = dev
                commands = pytest --cov=carried -m "not slow" {posargs}
            """,
            "carried.py": "VALUE = 1\n",
            "tests/test_carried.py": """
                import pytest

                import carried


                def test_value():
                    assert carried.VALUE == 1


                @pytest.mark.slow
                def test_slow():
                    raise AssertionError("the project's own CI never runs this")
            """,
        },
    )
    result = noxgrid("init", cwd=root)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "lean profile: the project with its 'dev' extra" in output
    assert "the extras bench hold only test, benchmark or lint tools" in output
    assert "full profile: the lean one plus the extras extra" in output
    assert (
        "suite command: pytest -m 'not slow', the options the project's own CI passes "
        "(tox.ini:4)" in output
    )
    assert "pytest-timeout" in locked(root, "3.11-cpu-lean").packages
    assert "pytest-benchmark" not in locked(root, "3.11-cpu-full").packages
    run = nox("-s", "ci-lean", "--", "--no-docker", cwd=root, env=NO_DOCKER)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    assert cell(root, "3.11-cpu-lean")["suite"]["detail"].startswith("1 passed, 1 deselected")


def test_extras_a_requirement_file_asks_of_a_setup_py_project_reach_the_lock(tmp_path):
    # requests' requirements-dev.txt starts with `-e .[socks]`; only setup.py knows socks.
    root = write(
        tmp_path / "selfref",
        {
            "setup.py": """
                from setuptools import setup
                setup(
                    name="selfref-app",
                    version="1.0",
                    py_modules=["selfref_app"],
                    python_requires=">=3.11",
                    extras_require={"compat": ["six"]},
                    classifiers=["Programming Language :: Python :: 3.11"],
                )
            """,
            "requirements-dev.txt": "-e .[compat]\npytest\n",
            "selfref_app.py": "VALUE = 1\n",
            "tests/test_app.py": "import six\n\n\ndef test_six():\n    assert six.PY3\n",
        },
    )
    result = noxgrid("init", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    pins = locked(root, "3.11-cpu-lean").packages
    assert "six" in pins, "the compat extra, known only to setup.py, reached the lock"
    assert not any("selfref" in name for name in pins), "never the project itself"
    # A nameless self-reference once became "None[compat]": PyPI's package `none`.
    assert "none" not in pins and "sphinx" not in pins
    run = nox("-s", "ci-lean", "--", "--no-docker", cwd=root, env=NO_DOCKER)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    assert cell(root, "3.11-cpu-lean")["suite"]["detail"].startswith("1 passed")
