"""init adds `.noxgrid/` to a project's own .dockerignore, so venvs stay out of images."""

from __future__ import annotations

from noxgrid.init.ignores import dockerignore_fate, dockerignore_text, ignores_state
from noxgrid.init.plan import plan_init, scaffold_files
from noxgrid.render.dockerfile import default_dockerignore


def test_which_dockerignores_keep_noxgrids_folder_out():
    assert ignores_state(".noxgrid\n")
    assert ignores_state("/.noxgrid/\n")
    assert ignores_state("./.noxgrid\n")
    assert ignores_state("**/.noxgrid\n")
    assert ignores_state(".nox*\n")
    assert ignores_state("*\n!mlserver\n"), "an allow-list keeps everything else out"
    assert not ignores_state(""), "an empty file keeps nothing out"
    assert not ignores_state("*.pyc\n.tox\nbuild/\n")
    assert not ignores_state(".noxgrid/reports\n"), "the reports alone are not the venvs"
    assert not ignores_state("# .noxgrid\n"), "a comment is no pattern"
    assert not ignores_state(".noxgrid\n!.noxgrid\n"), "the last pattern naming it wins"
    assert not ignores_state("*\n!.noxgrid\n")


def test_an_existing_dockerignore_gets_noxgrids_folder_added_and_nothing_else(tmp_path):
    path = tmp_path / ".dockerignore"
    assert dockerignore_text(path) is None, "no file: init offers its default one"
    path.write_text("*.pyc\n.tox")
    text = dockerignore_text(path)
    assert text is not None
    assert text.startswith("*.pyc\n.tox\n# noxgrid's")
    assert text.endswith("\n.noxgrid/\n")
    assert ignores_state(text)
    path.write_text(text)
    assert dockerignore_text(path) is None, "added once"


def test_the_dockerignores_fate(tmp_path):
    path = tmp_path / ".dockerignore"
    assert dockerignore_fate(path, force=False) == ("written", default_dockerignore())
    assert ignores_state(default_dockerignore()), "noxgrid's default keeps it out"
    path.write_text("*.pyc\n")
    action, text = dockerignore_fate(path, force=False)
    assert action.startswith(".noxgrid/ added")
    assert (
        text
        == "*.pyc\n# noxgrid's venvs, reports and caches stay out of images (noxgrid init)\n.noxgrid/\n"
    )
    assert dockerignore_fate(path, force=True) == ("replaced", default_dockerignore())
    path.write_text(".noxgrid/\n")
    assert dockerignore_fate(path, force=False) == ("kept (exists; --force replaces it)", None)


def test_init_lists_the_dockerignore_it_edits_among_the_files_it_writes(tmp_path):
    (tmp_path / ".dockerignore").write_text("*.pyc\n")
    plan = plan_init({"name": "svc"}, tmp_path, available=lambda version: version == "3.11")
    fates, files = scaffold_files(
        tmp_path, plan, force=False, pyproject_text='[project]\nname = "svc"\n', workflow_path=None
    )
    actions = {fate.path: fate.action for fate in fates}
    assert actions[".dockerignore"].startswith(".noxgrid/ added")
    assert files[tmp_path / ".dockerignore"].endswith("\n.noxgrid/\n")
    assert (tmp_path / ".dockerignore").read_text() == "*.pyc\n", "scaffold_files writes nothing"
