"""What a cell shows on the screen: stages, their results and what to do. The probes'
JSON and warnings noxgrid made moot stay in the stage logs."""

from __future__ import annotations

import io
import json

from noxgrid.cell.progress import PlainProgress
from noxgrid.cell.run import run_cell
from noxgrid.model.declaration import load_config
from noxgrid.model.matrix import Cell
from noxgrid.model.results import Status
from noxgrid.model.screen import for_screen, sync_reason
from noxgrid.tools.runner import Outcome
from noxgrid.tools.uv import Uv, uv_environment
from tests.conftest import MINIMAL
from tests.unit.cell.test_run import FakeRunner, project, write_locks

__all__ = ["project"]  # the fixture, imported to be used here

UV_WARNING = (
    "warning: The `--pylock` option is experimental and may change without warning. "
    "Pass `--preview-features pylock` to disable this warning.\n"
)
APP_LOADED = '{"ok": true, "kind": "ASGI", "type": "FastAPI"}\n'
APP = MINIMAL + '\n[tool.noxgrid.docker]\ncommand = "uvicorn demo_module:app"\n'


class ChattyRunner(FakeRunner):
    """FakeRunner, with what the real commands also print: uv's preview warning on a
    sync, the application's probe line after the import smoke."""

    def run(self, command, *, sink=None):
        outcome = super().run(command)
        output = outcome.output
        if command.argv[1:3] == ("pip", "sync"):
            output = UV_WARNING + output
        if "--noxgrid-app" in command.argv:
            output += APP_LOADED
        if sink:
            for line in output.splitlines(keepends=True):
                sink(line)
        return Outcome(command=command, returncode=outcome.returncode, duration=0.01, output=output)


def run_shown(root, env, runner):
    screen = io.StringIO()
    result = run_cell(
        load_config(root),
        Cell(python="3.10", accelerator="cpu", profile="lean"),
        runner=runner,
        env=env,
        uv=Uv(runner, binary="uv"),
        progress=PlainProgress(screen, github=False),
    )
    return result, screen.getvalue()


def test_probes_and_moot_warnings_stay_in_the_logs(make_project, project):
    _, env = project
    root = make_project(APP)
    write_locks(root)
    runner = ChattyRunner()
    runner.where = {"demo_module": str(root / "demo_module.py")}
    result, screen = run_shown(root, env, runner)
    assert result.status is Status.PASSED, result.first_error
    # The stages and their results are there...
    assert "install passed" in screen and "import demo_module -> the working tree" in screen
    assert "doctor passed" in screen and "loaded demo_module:app (ASGI" in screen
    # ...the probes' JSON and uv's preview warning are not,
    for probe in ("NOXGRID-IMPORTS", APP_LOADED.strip(), json.dumps(runner.where), "--pylock"):
        assert probe not in screen, probe
    # ...and the stage logs keep every line.
    install = (root / ".noxgrid" / "reports" / "logs" / "3.10-cpu-lean.install.log").read_text()
    assert UV_WARNING in install and json.dumps(runner.where) in install
    app = (root / ".noxgrid" / "reports" / "logs" / "3.10-cpu-lean.doctor-app.log").read_text()
    assert "NOXGRID-IMPORTS" in app and APP_LOADED in app


def test_a_new_venv_is_filled_and_a_drifted_one_named(project):
    root, env = project
    runner = FakeRunner()
    _, screen = run_shown(root, env, runner)
    assert "installing 1 package into the new venv\n" in screen
    assert "differs" not in screen, "filling a new venv is no difference"
    # The venv drifts: its pytest is gone. That is a difference, and says which.
    site = FakeRunner.site(root / ".noxgrid" / "venvs" / "3.10-cpu-lean" / "bin" / "python")
    for path in sorted(site.glob("pytest-*.dist-info/*")):
        path.unlink()
    next(site.glob("pytest-*.dist-info")).rmdir()
    _, screen = run_shown(root, env, runner)
    assert "the venv differs from the lock: missing pytest\n" in screen
    assert "installing" not in screen


def test_only_the_moot_preview_warning_is_left_off_the_screen():
    assert not for_screen(UV_WARNING)
    assert not for_screen("#9 1.02 " + UV_WARNING), "as a Docker build shows it"
    assert for_screen("warning: Failed to hardlink files; falling back to full copy.\n")
    assert for_screen(" + pytest==8.0.0\n") and for_screen("\n")


def test_a_new_venv_is_filled_not_called_different():
    assert sync_reason(27, "missing a, b", empty=True) == "installing 27 packages into the new venv"
    assert sync_reason(1, "missing a", empty=True) == "installing 1 package into the new venv"
    assert sync_reason(27, "missing a", empty=False) == "the venv differs from the lock: missing a"


def test_uv_runs_with_the_pylock_preview_enabled_beside_the_users_features():
    assert uv_environment({})["UV_PREVIEW_FEATURES"] == "pylock"
    mine = uv_environment({"UV_PREVIEW_FEATURES": "json-output, pylock"})
    assert mine["UV_PREVIEW_FEATURES"] == "json-output,pylock"
    assert uv_environment({"UV_PREVIEW_FEATURES": "foo"})["UV_PREVIEW_FEATURES"] == "foo,pylock"


def test_noxgrid_run_on_one_cell_prints_its_table_once(project, monkeypatch, capsys):
    from noxgrid import cli
    from noxgrid.cell import run as pipeline

    root, env = project
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("NOXGRID_PROGRESS", "plain")
    real = pipeline.run_cell

    def fake(config, cell, **kwargs):
        return real(
            config, cell, **{**kwargs, "runner": FakeRunner(), "uv": Uv(FakeRunner(), binary="uv")}
        )

    monkeypatch.setattr(pipeline, "run_cell", fake)
    code = cli.main(["run", "-C", str(root), "--no-docker", "3.10-cpu-lean"])
    out = capsys.readouterr().out
    assert code == 0, out
    header = [line for line in out.splitlines() if line.startswith("cell ") and "status" in line]
    assert len(header) == 1, out
    assert "\n3.10-cpu-lean  passed" in out
