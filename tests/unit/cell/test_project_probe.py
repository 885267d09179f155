"""Where the project imports from is asked of the venv once per change: a warm re-run
whose install, sys.path inputs and site-packages names are the same keeps the answer
(no process); any of them changed, or a module found gone from the tree, asks again."""

from __future__ import annotations

import json

from noxgrid.cell.project import PROBE_RECORD
from noxgrid.model.results import Status
from tests.unit.cell.test_run import FakeRunner, project, run, stage

__all__ = ["project"]  # the fixture, imported to be used here

CELL = "3.10-cpu-lean"


def _probes(runner: FakeRunner) -> int:
    return sum(
        1
        for c in runner.commands
        if c.argv[1:2] == ("-c",)
        and "find_spec" in c.argv[2]
        and "NOXGRID-IMPORTS" not in c.argv[2]
    )


def _runner(root, place=None) -> FakeRunner:
    runner = FakeRunner()
    runner.where = {"demo": str(place or root / "src" / "demo")}
    return runner


def _tree(root):
    (root / "src" / "demo").mkdir(parents=True, exist_ok=True)
    (root / "src" / "demo" / "__init__.py").write_text("")


def test_a_warm_rerun_keeps_the_answer_and_says_so(project):
    root, env = project
    _tree(root)
    config, runner, first = run(root, env, runner=_runner(root))
    assert _probes(runner) == 1 and first.status is Status.PASSED
    assert "; import demo -> the working tree;" in stage(first, "install").detail
    record = json.loads((config.venvs_dir / CELL / PROBE_RECORD).read_text())
    assert record["found"] == {"demo": str(root / "src" / "demo")}
    _, runner, again = run(root, env, runner=_runner(root))
    assert _probes(runner) == 0 and again.status is Status.PASSED
    assert stage(again, "install").detail.endswith(
        "import demo -> the working tree (as when last asked: same install, same paths)"
    )


def test_a_new_name_in_site_packages_asks_again(project):
    root, env = project
    _tree(root)
    config, _, _ = run(root, env, runner=_runner(root))
    site = FakeRunner.site(config.venvs_dir / CELL / "bin" / "python")
    (site / "stray.pth").write_text("/elsewhere\n")
    _, runner, _ = run(root, env, runner=_runner(root))
    assert _probes(runner) == 1
    _, runner, _ = run(root, env, runner=_runner(root))
    assert _probes(runner) == 0
    (site / "stray.pth").write_text("/somewhere/else\n")  # the same name, rewritten
    _, runner, _ = run(root, env, runner=_runner(root))
    assert _probes(runner) == 1


def test_bytecode_written_by_the_cells_runs_does_not_ask_again(project):
    """The doctor and the suite write .pyc files after the first answer (no bytecode is
    compiled at install): a __pycache__ at the top of site-packages and the venv's own
    bytecode folder move no module, so the next run keeps the answer."""
    root, env = project
    _tree(root)
    config, _, _ = run(root, env, runner=_runner(root))
    venv = config.venvs_dir / CELL
    site = FakeRunner.site(venv / "bin" / "python")
    (site / "__pycache__").mkdir()
    (site / "__pycache__" / "six.cpython-310.pyc").write_bytes(b"\0")
    (venv / "pycache").mkdir()
    _, runner, _ = run(root, env, runner=_runner(root))
    assert _probes(runner) == 0


def test_a_variable_that_moves_sys_path_asks_again(project, monkeypatch):
    root, env = project
    _tree(root)
    run(root, env, runner=_runner(root))
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    _, runner, _ = run(root, env, runner=_runner(root))
    assert _probes(runner) == 1


def test_a_module_gone_from_the_tree_or_new_project_metadata_asks_again(project):
    root, env = project
    _tree(root)
    run(root, env, runner=_runner(root))
    (root / "src" / "demo" / "__init__.py").unlink()
    (root / "src" / "demo").rmdir()
    _, runner, _ = run(root, env, runner=_runner(root))
    assert _probes(runner) == 1
    _tree(root)
    run(root, env, runner=_runner(root))
    with (root / "pyproject.toml").open("a") as stream:
        stream.write("\n# edited\n")
    _, runner, _ = run(root, env, runner=_runner(root))
    assert _probes(runner) == 1


def test_a_foreign_answer_fails_and_is_never_kept(project, tmp_path):
    root, env = project
    _tree(root)
    config, _, _ = run(root, env, runner=_runner(root))
    site = FakeRunner.site(config.venvs_dir / CELL / "bin" / "python")
    (site / "elsewhere.pth").write_text(str(tmp_path / "elsewhere") + "\n")  # asks again
    copy = tmp_path / "elsewhere" / "demo"
    copy.mkdir(parents=True)
    _, runner, result = run(root, env, runner=_runner(root, place=copy))
    assert _probes(runner) == 1
    assert stage(result, "install").status is Status.FAILED
    assert "not the working tree" in stage(result, "install").detail
    assert not (config.venvs_dir / CELL / PROBE_RECORD).exists()
    _, runner, result = run(root, env, runner=_runner(root, place=copy))
    assert _probes(runner) == 1 and result.status is Status.FAILED


def test_a_copy_in_the_venvs_site_packages_is_not_the_working_tree(project):
    # The venvs lie inside the project (.noxgrid/venvs): a copy there is still foreign.
    root, env = project
    _tree(root)
    config, _, _ = run(root, env, runner=_runner(root))
    site = FakeRunner.site(config.venvs_dir / CELL / "bin" / "python")
    (site / "demo").mkdir()
    _, runner, result = run(root, env, runner=_runner(root, place=site / "demo"))
    assert _probes(runner) == 1
    install = stage(result, "install")
    assert install.status is Status.FAILED
    assert f"loads {(site / 'demo').resolve()}, not the working tree" in install.detail
    assert "delete any copy of it from the venv" in install.detail


def test_a_module_the_venv_cannot_locate_fails_and_names_the_error(project, monkeypatch):
    """find_spec raised in the venv: "error: ..." is no place, even where noxgrid runs from
    the project's folder (a relative path would resolve into the tree)."""
    root, env = project
    _tree(root)
    monkeypatch.chdir(root)
    runner = _runner(root)
    runner.where = {"demo": "error: No module named 'demo.core'"}
    _, _, result = run(root, env, runner=runner)
    failed = stage(result, "install")
    assert failed.status is Status.FAILED, failed.detail
    assert "could not tell where demo" in failed.detail
    assert "No module named 'demo.core'" in failed.detail and "fix:" in failed.detail
