from __future__ import annotations

import pytest

from noxgrid.model.gpu import deselect_marker, detect_gpu, is_pytest


def test_forced_by_environment():
    assert detect_gpu({"NOXGRID_GPU": "1"}) == (True, "NOXGRID_GPU=1")
    assert detect_gpu({"NOXGRID_GPU": "0"}, nodes=("/",)) == (False, "NOXGRID_GPU=0")


def test_device_nodes(tmp_path):
    node = tmp_path / "nvidiactl"
    assert detect_gpu({}, nodes=(str(node),))[0] is False
    node.touch()
    assert detect_gpu({}, nodes=(str(node),)) == (True, f"{node} exists")


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["pytest"], ["pytest", "-m", "not gpu"]),
        (["pytest", "-n", "auto"], ["pytest", "-n", "auto", "-m", "not gpu"]),
        (["pytest", "-m", "slow or fast"], ["pytest", "-m", "(slow or fast) and not gpu"]),
        (["python", "-m", "pytest", "-x"], ["python", "-m", "pytest", "-x", "-m", "not gpu"]),
        (
            ["python", "-m", "pytest", "-m", "db"],
            ["python", "-m", "pytest", "-m", "(db) and not gpu"],
        ),
        (["./run-tests.sh"], ["./run-tests.sh"]),
    ],
)
def test_deselect_marker(command, expected):
    assert deselect_marker(command, "gpu") == expected


def test_is_pytest():
    assert is_pytest(["/venv/bin/pytest"]) and is_pytest(["python", "-m", "pytest"])
    assert not is_pytest(["tox"]) and not is_pytest([])


def test_marker_declared_in_pyproject_ini_files_or_conftest(tmp_path):
    from noxgrid.model.gpu import marker_declared

    assert not marker_declared(tmp_path, "gpu")
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\nmarkers = ["gpu: CUDA"]\n')
    assert marker_declared(tmp_path, "gpu") and not marker_declared(tmp_path, "slow")
    (tmp_path / "setup.cfg").write_text("[tool:pytest]\nmarkers =\n    slow: takes long\n")
    assert marker_declared(tmp_path, "slow")
    (tmp_path / "conftest.py").write_text(
        'def pytest_configure(config):\n    config.addinivalue_line("markers", "cuda: x")\n'
    )
    assert marker_declared(tmp_path, "cuda")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "conftest.py").write_text('TEXT = """markers = ["tpu: x"]"""\n')
    assert not marker_declared(tmp_path, "tpu"), "a string that looks like config is not config"
