from __future__ import annotations

import pytest

from noxgrid.gpu import deselect_marker, detect_gpu, is_pytest


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
