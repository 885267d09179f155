from __future__ import annotations

import json

import pytest

from noxgrid.cli import HANDLERS, main


def test_matrix_json(make_project, capsys):
    root = make_project()
    assert main(["matrix", "-C", str(root), "--json", "3.11-*"]) == 0
    cells = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in cells] == [
        "3.11-cpu-lean",
        "3.11-gpu-lean",
        "3.11-cpu-full",
        "3.11-gpu-full",
    ]
    assert cells[0]["session"] == "ci-lean-3.11(cpu)"


def test_matrix_table(make_project, capsys):
    assert main(["matrix", "-C", str(make_project())]) == 0
    out = capsys.readouterr().out
    assert "3.9-gpu-full" in out and "12 of 12 cells" in out


def test_config_error_is_one_paragraph_without_traceback(make_project, capsys):
    root = make_project(
        "[tool.noxgrid]\npythons = ['3.11']\n[tool.noxgrid.profile.lean]\n"
        "requirements = ['requirements/lean.in']\n"
    )
    assert main(["matrix", "-C", str(root)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("noxgrid: ") and "Traceback" not in err
    assert "tool.noxgrid.pythons: unknown key" in err and "fix: did you mean 'python'?" in err


def test_debug_flag_shows_the_traceback(make_project, capsys):
    root = make_project("[tool.noxgrid]\n")
    assert main(["--debug", "matrix", "-C", str(root)]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_no_matching_cell(make_project, capsys):
    assert main(["matrix", "-C", str(make_project()), "3.7*"]) == 2
    assert "no cell matches" in capsys.readouterr().err


def test_report_without_results(make_project, capsys):
    assert main(["report", "-C", str(make_project())]) == 0
    assert "no results" in capsys.readouterr().out


@pytest.mark.parametrize("command", [None, *HANDLERS])
def test_help_everywhere(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"] if command else ["--help"])
    assert info.value.code == 0
    assert "usage: noxgrid" in capsys.readouterr().out


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out
