"""init adds to a project's own .dockerignore what noxgrid's runs leave in its root
(`.noxgrid/` venvs and reports, pytest's `.pytest_cache/`), so none of it reaches images."""

from __future__ import annotations

from noxgrid.init.ignores import (
    LEFT_BY_RUNS,
    dockerignore_fate,
    dockerignore_text,
    ignores,
    missing,
)
from noxgrid.init.plan import plan_init, scaffold_files
from noxgrid.render.dockerfile import default_dockerignore

COMMENT = "# what noxgrid's runs leave here stays out of images (noxgrid init)\n"
ADDED = ".noxgrid/, .pytest_cache/ added (what noxgrid's runs leave stays out of the image)"


def test_which_dockerignores_keep_noxgrids_folder_out():
    assert ignores(".noxgrid\n")
    assert ignores("/.noxgrid/\n")
    assert ignores("./.noxgrid\n")
    assert ignores("**/.noxgrid\n")
    assert ignores(".nox*\n")
    assert ignores("*\n!mlserver\n"), "an allow-list keeps everything else out"
    assert not ignores(""), "an empty file keeps nothing out"
    assert not ignores("*.pyc\n.tox\nbuild/\n")
    assert not ignores(".noxgrid/reports\n"), "the reports alone are not the venvs"
    assert not ignores("# .noxgrid\n"), "a comment is no pattern"
    assert not ignores(".noxgrid\n!.noxgrid\n"), "the last pattern naming it wins"
    assert not ignores("*\n!.noxgrid\n")


def test_what_is_missing_is_what_noxgrids_runs_leave():
    assert LEFT_BY_RUNS == (".noxgrid", ".pytest_cache")
    # As SeldonIO/MLServer's: `./pytest_cache` names no `.pytest_cache`.
    assert missing("./pytest_cache\n.tox\n") == [".noxgrid", ".pytest_cache"]
    assert missing(".pytest_cache/\n") == [".noxgrid"]
    assert missing("**/.pytest_cache\n.noxgrid\n") == []


def test_an_existing_dockerignore_gets_what_it_lacks_added_and_nothing_else(tmp_path):
    path = tmp_path / ".dockerignore"
    assert dockerignore_text(path) is None, "no file: init offers its default one"
    path.write_text("*.pyc\n.tox")
    text = dockerignore_text(path)
    assert text == f"*.pyc\n.tox\n{COMMENT}.noxgrid/\n.pytest_cache/\n"
    assert missing(text) == []
    path.write_text(text)
    assert dockerignore_text(path) is None, "added once"
    path.write_text(".pytest_cache\n")
    assert dockerignore_text(path) == f".pytest_cache\n{COMMENT}.noxgrid/\n"


def test_the_dockerignores_fate(tmp_path):
    path = tmp_path / ".dockerignore"
    assert dockerignore_fate(path, force=False) == ("written", default_dockerignore())
    assert missing(default_dockerignore()) == [], "noxgrid's default keeps them out"
    path.write_text("*.pyc\n")
    assert dockerignore_fate(path, force=False) == (
        ADDED,
        f"*.pyc\n{COMMENT}.noxgrid/\n.pytest_cache/\n",
    )
    assert dockerignore_fate(path, force=True) == ("replaced", default_dockerignore())
    path.write_text(".noxgrid/\n.pytest_cache\n")
    assert dockerignore_fate(path, force=False) == ("kept (exists; --force replaces it)", None)


def test_init_lists_the_dockerignore_it_edits_among_the_files_it_writes(tmp_path):
    (tmp_path / ".dockerignore").write_text("*.pyc\n")
    plan = plan_init({"name": "svc"}, tmp_path, available=lambda version: version == "3.11")
    fates, files = scaffold_files(
        tmp_path, plan, force=False, pyproject_text='[project]\nname = "svc"\n', workflow_path=None
    )
    actions = {fate.path: fate.action for fate in fates}
    assert actions[".dockerignore"] == ADDED
    assert files[tmp_path / ".dockerignore"].endswith("\n.noxgrid/\n.pytest_cache/\n")
    assert (tmp_path / ".dockerignore").read_text() == "*.pyc\n", "scaffold_files writes nothing"
