"""Files noxgrid needs committed that a .gitignore line ignores: read from git's words."""

from __future__ import annotations

from noxgrid.model.gitignored import Ignored, ignored_finding, parse_check_ignore

OUTPUT = (
    ".gitignore:2:requirements*\trequirements/app.in\n"
    ".gitignore:2:requirements*\trequirements/locks/pylock.py311-cpu-lean.toml\n"
    "sub/.gitignore:1:*.lock\tsub/x.lock\n"
    ".gitignore:5:!keep.toml\tkeep.toml\n"
    "garbage without a tab\n"
)


def test_git_check_ignore_verbose_is_read_negations_left_out():
    found = parse_check_ignore(OUTPUT)
    assert [(i.path, i.where, i.pattern) for i in found] == [
        ("requirements/app.in", ".gitignore:2", "requirements*"),
        ("requirements/locks/pylock.py311-cpu-lean.toml", ".gitignore:2", "requirements*"),
        ("sub/x.lock", "sub/.gitignore:1", "*.lock"),
    ]
    assert parse_check_ignore("") == []


def test_the_negation_reincludes_the_ignored_folder_or_the_file():
    assert Ignored("requirements/locks/a.toml", ".gitignore", 2, "requirements*").unignore() == (
        "!/requirements/"
    )
    assert Ignored("requirements/locks/a.toml", ".gitignore", 1, "locks/").unignore() == (
        "!/requirements/locks/"
    )
    assert Ignored("requirements/locks/a.toml", ".gitignore", 1, "*.toml").unignore() == (
        "!/requirements/locks/a.toml"
    )
    assert Ignored("pylock.toml", ".gitignore", 1, "*.toml").unignore() == "!/pylock.toml"


def test_one_finding_names_the_files_the_line_and_the_fix():
    assert ignored_finding([]) is None
    finding = ignored_finding(parse_check_ignore(OUTPUT)[:2])
    assert finding is not None
    assert finding["kind"] == "gitignored" and finding["where"] == ".gitignore:2"
    assert (
        "requirements/app.in, requirements/locks/pylock.py311-cpu-lean.toml are ignored"
        in (finding["message"])
    )
    assert "(.gitignore:2 (`requirements*`))" in finding["message"]
    assert "add: !/requirements/ (or narrow the pattern)" in finding["fix"]
    assert finding["places"].count("requirements/") == 2
    one = ignored_finding(parse_check_ignore(OUTPUT)[2:3])
    assert one is not None and "sub/x.lock is ignored" in one["message"]
    assert "in sub/.gitignore, after the line that ignores it, add: !/x.lock" in one["fix"]


def test_check_asks_git_about_every_file_it_needs_committed(make_project, monkeypatch):
    from noxgrid.check import findings
    from noxgrid.model.declaration import load_config
    from noxgrid.model.matrix import expand

    root = make_project(
        '[tool.noxgrid]\npython = ["3.11"]\naccelerators = ["cpu"]\n'
        '[tool.noxgrid.profile.lean]\nrequirements = ["requirements/lean.in"]\n',
        {"requirements/lean.in": "numpy\n"},
    )
    asked = []

    def fake(where, paths):
        asked.extend(p.relative_to(where.resolve()).as_posix() for p in paths)
        return ".gitignore:1:*.toml\trequirements/locks/pylock.py311-cpu-lean.toml\n"

    monkeypatch.setattr(findings, "check_ignore", fake)
    config = load_config(root)
    finding = findings.gitignored_finding(config, expand(config))
    assert "pyproject.toml" in asked and "requirements/lean.in" in asked
    assert "requirements/locks/pylock.py311-cpu-lean.toml" in asked
    assert "docker/Dockerfile" in asked and ".github/workflows/ci.yml" in asked
    assert finding is not None and "pylock.py311-cpu-lean.toml is ignored" in finding["message"]
    assert "add: !/requirements/locks/pylock.py311-cpu-lean.toml" in finding["fix"]
