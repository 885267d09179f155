"""``[tool.noxgrid.check]`` is read and validated like every table (model.sections)."""

from __future__ import annotations

from noxgrid.model.declaration import load_config
from tests.conftest import MINIMAL
from tests.unit.model.test_config import error_for


def test_check_ignore_is_read(make_project):
    root = make_project(MINIMAL + '\n[tool.noxgrid.check]\nignore = ["scripts/*", "publish.yml"]\n')
    assert load_config(root).check.ignore == ("scripts/*", "publish.yml")
    assert load_config(make_project()).check.ignore == ()


def test_check_ignore_problems_are_named_with_the_fix(make_project):
    text = error_for(
        make_project,
        MINIMAL + '\n[tool.noxgrid.check]\nignore = ["/etc/x", "../other"]\nignnore = 1\n',
    )
    assert "tool.noxgrid.check.ignore[0]: '/etc/x' is not a glob inside the project" in text
    assert "tool.noxgrid.check.ignore[1]" in text
    assert "tool.noxgrid.check.ignnore: unknown key" in text
    text = error_for(make_project, MINIMAL + "\n[tool.noxgrid.check]\nignore = 'scripts'\n")
    assert "tool.noxgrid.check.ignore: expected" in text
