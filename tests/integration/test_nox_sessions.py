"""nox sees one session per cell, named ci-<profile>-<python>(<accelerator>), and runs them."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from tests.integration.conftest import nox, noxgrid


def test_nox_lists_one_session_per_cell_without_excluded_ones(tiny):
    listed = nox("-l", "--json", "-t", "ci", cwd=tiny)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    every = {entry["session"]: entry for entry in json.loads(listed.stdout)}
    sessions = {name: entry for name, entry in every.items() if "(" in name}
    assert list(sessions) == [
        "ci-lean-3.9(cpu)",
        "ci-lean-3.10(cpu)",
        "ci-lean-3.10(gpu)",
        "ci-lean-3.11(cpu)",
        "ci-lean-3.11(gpu)",
        "ci-full-3.9(cpu)",
        "ci-full-3.10(cpu)",
        "ci-full-3.10(gpu)",
        "ci-full-3.11(cpu)",
        "ci-full-3.11(gpu)",
    ]
    # nox runs the profiles' groups by default (each runs its cells); the per-python
    # groups (ci-lean-3.10), lock and release run when named.
    defaults = json.loads(nox("-l", "--json", cwd=tiny).stdout)
    assert [entry["session"] for entry in defaults] == ["ci-lean", "ci-full"]
    assert sorted(set(every) - set(sessions)) == sorted(
        ["ci-full", "ci-lean"]
        + [f"ci-{p}-{v}" for p in ("full", "lean") for v in ("3.9", "3.10", "3.11")]
    )
    assert every["ci-lean"]["description"].startswith("every cell of profile 'lean' (5:")
    assert sessions["ci-lean-3.10(gpu)"]["python"] == "3.10"
    assert "3.10-gpu-lean" in sessions["ci-lean-3.10(gpu)"]["tags"]
    # The same cells as `noxgrid matrix`: one model, two renderings.
    matrix = json.loads(noxgrid("matrix", "--json", cwd=tiny).stdout)
    assert sorted(cell["session"] for cell in matrix) == sorted(sessions)


def test_nox_runs_every_lean_cell_in_parallel(tiny):
    result = nox("-s", "ci-lean", "-j", "2", "--", cwd=tiny, env={"NOXGRID_GPU": "0"})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # The group runs its cells two at a time in nox's own process; nox's warning that it
    # ignores -j (the group is not one of its parallel sessions) would mislead.
    assert "5 cells, 2 at a time (nox -j), in this process" in output, output
    assert "ignoring --parallel" not in output, output
    reports = tiny / ".noxgrid" / "reports"
    cells = ["3.9-cpu-lean", "3.10-cpu-lean", "3.10-gpu-lean", "3.11-cpu-lean", "3.11-gpu-lean"]
    for cell in cells:
        data = json.loads((reports / f"{cell}.json").read_text())
        assert data["status"] == "passed", data
        assert [s["name"] for s in data["stages"]] == [
            "interpreter",
            "lock",
            "venv",
            "install",
            "doctor",
            "image",
            "smoke",
            "suite",
        ]
        assert (
            data["stages"][-2]["detail"]
            == "skipped: no image declared ([tool.noxgrid.docker] image)"
        )
        assert data["venv_size"] > 1_000_000
        pytest_xml = ET.parse(reports / f"{cell}.pytest.xml").getroot()
        suite = pytest_xml if pytest_xml.tag == "testsuite" else pytest_xml.find("testsuite")
        assert suite.get("tests") == "2" and suite.get("failures") == "0"
        assert any("deselected" in note for note in data["notes"])
    assert "no GPU on this machine" in output
    assert not list(reports.glob(".*.tmp")), "no temporary report left behind"
    # The stored results render as one table.
    report = noxgrid("report", cwd=tiny)
    assert report.returncode == 0 and all(cell in report.stdout for cell in cells)


def test_a_failing_cell_fails_its_session_and_says_where(tiny):
    (tiny / "tests" / "test_broken.py").write_text("def test_broken():\n    assert 1 == 2\n")
    result = nox("-s", "ci-lean-3.11(cpu)", cwd=tiny)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    # The one-line reason: pytest's own count (from its JUnit XML), the test at fault.
    assert (
        "cell 3.11-cpu-lean failed at suite: 1 failed, 2 passed; first: "
        "tests/test_broken.py::test_broken at tests/test_broken.py:1 (assert 1 == 2) [FAILED]"
        in output
    ), output
    assert "pytest: 1 failed, 2 passed" in output
    data = json.loads((tiny / ".noxgrid" / "reports" / "3.11-cpu-lean.json").read_text())
    assert data["status"] == "failed"


def test_bad_config_stops_nox_with_one_paragraph(tiny):
    text = (tiny / "pyproject.toml").read_text().replace('python = ["3.9"', 'pythons = ["3.9"')
    (tiny / "pyproject.toml").write_text(text)
    result = nox("-l", cwd=tiny)
    assert result.returncode == 2
    assert "tool.noxgrid.pythons: unknown key" in result.stderr
    assert "did you mean 'python'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_interpreter_is_named(tiny):
    result = noxgrid(
        "run", "3.11-cpu-lean", cwd=tiny, env={"NOXGRID_PYTHON_3_11": str(tiny / "no-such-python")}
    )
    assert result.returncode == 3  # the table's code, as noxgrid interpreters gives
    assert "NOXGRID_PYTHON_3_11=" in result.stdout and "is not an executable file" in result.stdout
    assert "3.11-cpu-lean (interpreter:" in result.stderr


def test_no_venv_runs_every_cell_of_the_profile_in_one_session(tiny):
    result = nox("--no-venv", "-s", "ci-full", cwd=tiny)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for cell in (
        "3.9-cpu-full",
        "3.10-cpu-full",
        "3.10-gpu-full",
        "3.11-cpu-full",
        "3.11-gpu-full",
    ):
        assert f"[{cell}] OK in" in output


def test_arguments_after_the_double_dash_reach_pytest(tiny):
    result = nox("-s", "ci-lean-3.11(cpu)", "--", "--no-docker", "-k", "test_add", cwd=tiny)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    data = json.loads((tiny / ".noxgrid" / "reports" / "3.11-cpu-lean.json").read_text())
    suite = {s["name"]: s for s in data["stages"]}["suite"]
    assert suite["detail"].startswith("1 passed, 2 deselected"), suite["detail"]
    image = {s["name"]: s for s in data["stages"]}["image"]
    assert image["status"] == "skipped", "--no-docker was noxgrid's, not pytest's"
    run = noxgrid("run", "--no-docker", "3.11-cpu-lean", "--", "-k", "runs_on", cwd=tiny)
    assert run.returncode == 0, run.stdout + run.stderr
    data = json.loads((tiny / ".noxgrid" / "reports" / "3.11-cpu-lean.json").read_text())
    assert {s["name"]: s for s in data["stages"]}["suite"]["detail"].startswith("1 passed")
