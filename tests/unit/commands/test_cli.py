from __future__ import annotations

import json

import pytest

from noxgrid.cli import COMMANDS, main


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


def test_report_without_results_is_not_a_pass(make_project, capsys):
    assert main(["report", "-C", str(make_project())]) == 1
    assert "no results" in capsys.readouterr().out


EVERYTHING_EXCLUDED = """
[tool.noxgrid]
python = ["3.10", "3.11"]
accelerators = ["cpu"]
exclude = [{ python = "3.10" }, { python = "3.11", accelerator = "cpu" }]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["matrix"],
        ["matrix", "--github"],
        ["matrix", "--json"],
        ["run", "--no-docker"],
        ["release"],
        ["lock", "--check"],
        ["check"],
    ],
)
def test_an_empty_selection_is_an_error_naming_the_excludes(make_project, capsys, argv):
    root = make_project(EVERYTHING_EXCLUDED)
    code = main([argv[0], "-C", str(root), *argv[1:]])
    captured = capsys.readouterr()
    assert code == 2, captured
    assert "include" not in captured.out, "no empty strategy.matrix is printed"
    assert "every cell of the matrix is excluded" in captured.err
    assert 'exclude[0] { python = "3.10" } removes 3.10-cpu-lean' in captured.err
    assert "exclude[1]" in captured.err and "fix: remove or narrow" in captured.err
    assert not (root / ".noxgrid").exists(), "nothing was run or written"


def _report(cell_id, **extra):
    python, accelerator, profile = cell_id.split("-")
    stages = [
        {"name": name, "status": "passed", "duration": 0.1, "detail": "", "log": None}
        for name in ("interpreter", "lock", "venv", "install", "doctor", "image", "smoke", "suite")
    ]
    for name, status in extra.items():
        for stage in stages:
            if stage["name"] == name:
                stage["status"] = status
                stage["detail"] = "skipped: --no-docker" if status == "skipped" else "boom"
    return {
        "cell": {"id": cell_id, "python": python, "accelerator": accelerator, "profile": profile},
        "status": "failed" if "failed" in extra.values() else "passed",
        "started_at": "2026-11-30T10:00:00+00:00",
        "duration": 1.0,
        "stages": stages,
    }


def _artifacts(tmp_path, *reports):
    folder = tmp_path / "artifacts"
    for index, report in enumerate(reports):
        job = folder / f"noxgrid-{index}"
        job.mkdir(parents=True)
        (job / f"{report['cell']['id']}.json").write_text(json.dumps(report))
    return folder


def test_report_from_one_cell_of_twelve_fails_with_eleven_missing(make_project, capsys, tmp_path):
    root = make_project()  # 12 cells
    folder = _artifacts(tmp_path, _report("3.11-cpu-lean"))
    out = tmp_path / "out"
    code = main(["report", "-C", str(root), "--from", str(folder), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    assert "FAILED: 11 of 12 cells missing" in captured.out
    assert "MISSING: 3.9-cpu-lean: no result" in captured.out
    assert "release not verified: 3.9-cpu-lean missing" in captured.err
    document = json.loads((out / "release.json").read_text())
    assert document["status"] == "failed" and len(document["missing"]) == 11
    assert sorted(p.name for p in out.iterdir()) == [
        "release.html",
        "release.json",
        "release.md",
        "release.xml",
    ]


def test_report_with_expect_covers_the_planned_cells_only(make_project, capsys, tmp_path):
    root = make_project()
    folder = _artifacts(tmp_path, _report("3.11-cpu-lean"), _report("3.10-cpu-lean"))
    plan = json.dumps({"include": [{"cell": "3.11-cpu-lean"}, {"cell": "3.10-cpu-lean"}]})
    argv = ["report", "-C", str(root), "--from", str(folder), "--expect", plan]
    assert main(argv) == 0
    assert "PASSED: 2 of 2 cells verified" in capsys.readouterr().out


def test_report_counts_no_docker_cells_as_not_verified(make_project, capsys, tmp_path):
    root = make_project(
        __import__("tests.conftest", fromlist=["MINIMAL"]).MINIMAL
        + '\n[tool.noxgrid.docker]\nimage = "demo"\n'
    )
    folder = _artifacts(tmp_path, _report("3.11-cpu-lean", image="skipped", smoke="skipped"))
    argv = ["report", "-C", str(root), "--from", str(folder), "--expect", "3.11-cpu-lean"]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "NOT VERIFIED: 3.11-cpu-lean: image skipped (skipped: --no-docker)" in out
    assert "FAILED: 1 of 1 cells not verified" in out


def test_every_configuration_error_is_reported_at_once(make_project, capsys):
    root = make_project(
        """
        [tool.noxgrid]
        python = ["3.10", 3.11]
        profiles = ["lean", "full"]
        colour = "blue"

        [tool.noxgrid.profile.lean]
        requirements = ["requirements/lean.in"]
        size-budget = "lots"

        [tool.noxgrid.suite]
        timeout = "forever"
        """
    )
    assert main(["matrix", "-C", str(root)]) == 2
    err = capsys.readouterr().err
    assert "4 problems in the configuration" in err or "5 problems in the configuration" in err
    for expected in (
        "tool.noxgrid.python: the version 3.11 is a number",
        "tool.noxgrid.profiles: 'full' has no [tool.noxgrid.profile.full] table",
        "tool.noxgrid.colour: unknown key",
        "tool.noxgrid.profile.lean.size-budget: 'lots' is not a size",
        "tool.noxgrid.suite.timeout: 'forever' is not a duration",
    ):
        assert expected in err, expected
    assert err.count("fix: ") == 5


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_everywhere(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"] if command else ["--help"])
    assert info.value.code == 0
    assert "usage: noxgrid" in capsys.readouterr().out


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_lock_check_on_a_large_matrix_counts_and_samples_instead_of_listing_all(tmp_path, capsys):
    from noxgrid.cli import main

    accelerators = [f"a{i}" for i in range(6)]
    lines = [
        "[project]",
        'name = "big"',
        'version = "1"',
        "[tool.noxgrid]",
        'python = ["3.9", "3.10", "3.11", "3.12"]',
        "accelerators = [" + ", ".join(f'"{a}"' for a in accelerators) + "]",
        "[tool.noxgrid.profile.lean]",
        'requirements = ["lean.in"]',
    ]
    for name in accelerators:
        lines += [f"[tool.noxgrid.accelerator.{name}]"]
    (tmp_path / "pyproject.toml").write_text("\n".join(lines) + "\n")
    (tmp_path / "lean.in").write_text("six\n")
    code = main(["lock", "--check", "-C", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "24 of 24 locks are not fresh (24 missing): 3.9-a0-lean (missing)" in err
    assert "and 14 more" in err and err.count("(missing)") == 10
    assert "fix: noxgrid lock (an edited lock" in err, "one command, not 24 names"
