"""Local packages in the install stage: installed --no-deps after the lock, proved by
their content digest on the next run, installed again when their source changes."""

from __future__ import annotations

import json
from pathlib import Path

from noxgrid.model.declaration import load_config
from noxgrid.model.inputs import inputs_digest
from noxgrid.model.matrix import Cell
from noxgrid.model.results import Status
from tests.unit.cell.test_run import FakeRunner, dist, project, run, stage, write_locks

__all__ = ["project"]  # the fixture, imported to be used here

LOCAL = """
[project]
name = "demo"
version = "0.1.0"

[tool.noxgrid]
python = ["3.10"]
accelerators = ["cpu"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
local-packages = ["./sub_package"]
"""


class LocalRunner(FakeRunner):
    """Also plays ``uv pip install --no-deps <folder>``: a dist-info pointing at the folder."""

    def _install(self, argv):
        super()._install(argv)
        if argv[2] == "install" and "-e" not in argv and Path(argv[-1]).is_dir():
            site = self.site(Path(argv[argv.index("--python") + 1]))
            info = dist(site, "subpkg", "0.2.0")
            (info / "direct_url.json").write_text(
                json.dumps({"url": f"file://{argv[-1]}", "dir_info": {}})
            )


def with_local(project, make_project, dependencies='["six"]'):
    root, env = project
    make_project(LOCAL)
    sub = root / "sub_package"
    (sub / "subpkg").mkdir(parents=True)
    (sub / "pyproject.toml").write_text(
        f'[project]\nname = "subpkg"\nversion = "0.2.0"\ndependencies = {dependencies}\n'
    )
    (sub / "subpkg" / "__init__.py").write_text("X = 1\n")
    write_locks(root)
    return root, env, sub


def local_installs(runner):
    return [
        c.argv for c in runner.commands if c.argv[1:3] == ("pip", "install") and "-e" not in c.argv
    ]


def test_a_local_package_is_installed_without_deps_after_the_lock_and_reported(
    project, make_project
):
    root, env, sub = with_local(project, make_project)
    config, runner, result = run(root, env, runner=LocalRunner())
    assert result.status is Status.PASSED, result.first_error
    (argv,) = local_installs(runner)
    assert "--no-deps" in argv and argv[-1] == str(sub.resolve())
    assert "--reinstall-package" not in argv, "nothing to replace on a first install"
    (package,) = result.local_packages
    assert (package.path, package.name, package.version, package.action) == (
        "sub_package",
        "subpkg",
        "0.2.0",
        "installed",
    )
    assert len(package.digest) == 64
    assert any(
        "declares six, which the lock of 3.10-cpu-lean does not hold" in n for n in result.notes
    ), "its dependencies are not installed: said, with the fix"
    data = json.loads((config.reports_dir / "3.10-cpu-lean.json").read_text())
    assert data["local_packages"][0]["digest"] == package.digest
    assert "sub_package (installed)" in stage(result, "install").detail


def test_an_unchanged_local_package_is_kept_and_an_edit_installs_it_again(project, make_project):
    root, env, sub = with_local(project, make_project, dependencies="[]")
    run(root, env, runner=LocalRunner())
    _, runner, result = run(root, env, runner=LocalRunner())
    assert local_installs(runner) == [], "proved by its digest: no uv call"
    assert not any(c.argv[1:3] == ("pip", "sync") for c in runner.commands), (
        "the lock's proof ignores the local package (not in the lock, not an extra)"
    )
    assert result.local_packages[0].action == "kept" and not result.notes
    before = result.local_packages[0].digest
    (sub / "subpkg" / "__init__.py").write_text("X = 2\n")
    _, runner, result = run(root, env, runner=LocalRunner())
    (argv,) = local_installs(runner)
    assert argv[argv.index("--reinstall-package") + 1] == "subpkg"
    assert result.local_packages[0].action == "installed"
    assert result.local_packages[0].digest != before
    assert stage(result, "lock").status is Status.PASSED, "an edit does not stale the lock"


def test_declaring_a_local_package_stales_the_lock_its_content_does_not(project, make_project):
    root, _env, sub = with_local(project, make_project)
    cell = Cell(python="3.10", accelerator="cpu", profile="lean")
    digest, _ = inputs_digest(load_config(root), cell)
    (sub / "subpkg" / "__init__.py").write_text("X = 3\n")
    assert inputs_digest(load_config(root), cell)[0] == digest
    (root / "pyproject.toml").write_text(LOCAL.replace('local-packages = ["./sub_package"]', ""))
    assert inputs_digest(load_config(root), cell)[0] != digest
