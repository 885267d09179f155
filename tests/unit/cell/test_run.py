"""The cell pipeline, driven through a fake runner: order, skips, reuse, GPU deselection."""

from __future__ import annotations

import io
import json
import sysconfig
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from noxgrid.cell.run import run_cell
from noxgrid.model.declaration import load_config
from noxgrid.model.inputs import inputs_digest
from noxgrid.model.installed import file_hash
from noxgrid.model.lockfile import lock_path, lock_title, parse_lock, seal
from noxgrid.model.matrix import Cell, expand
from noxgrid.model.pylock import render_pylock
from noxgrid.model.results import Status, first_line
from noxgrid.tools.runner import Command, Outcome, Runner
from noxgrid.tools.uv import Uv


class FakeRunner(Runner):
    """Plays uv and pytest: makes venv files, answers with canned exit codes."""

    def __init__(
        self,
        *,
        fail_on: str | None = None,
        suite_output: str = "3 passed in 0.1s\n",
        import_error: str | None = None,
        native: bytes | None = None,
        loads: bool | None = None,
    ):
        super().__init__()
        self.import_error = import_error
        self.native = native  # an ELF file the install leaves at vendored/_native.so
        self.loads = loads  # the smoke's NOXGRID-LOADED line: none, empty, or every .so
        self.commands: list[Command] = []
        self.fail_on = fail_on
        self.suite_output = suite_output
        self.where: dict[str, str] = {}

    @staticmethod
    def site(python: Path) -> Path:
        venv = python.parent.parent
        version = (venv / "pyvenv.cfg").read_text().split("version_info = ")[1].rsplit(".", 1)[0]
        return venv / "lib" / f"python{version}" / "site-packages"

    def _install(self, argv):
        """What uv would leave in the venv: a dist-info per package, with RECORD and a file."""
        from noxgrid.model.lockfile import parse_lock

        site = self.site(Path(argv[argv.index("--python") + 1]))
        site.mkdir(parents=True, exist_ok=True)
        if argv[2] == "sync":
            for old in site.glob("*.dist-info"):
                for child in old.iterdir():
                    child.unlink()
                old.rmdir()
            for package in parse_lock(Path(argv[-1]).read_text()).packages.values():
                dist(site, package.name, package.version)
                if package.name == "pytest":  # its console script, as a wheel installs it
                    (site.parents[2] / "bin" / "pytest").write_text("#!/bin/sh\n")
            if self.native is not None:
                (site / "vendored").mkdir(exist_ok=True)
                (site / "vendored" / "_native.so").write_bytes(self.native)
        elif "-e" in argv:
            root = argv[argv.index("-e") + 1].split("[")[0]
            info = dist(site, "demo", "0.1.0")
            (info / "direct_url.json").write_text(
                json.dumps({"url": f"file://{root}", "dir_info": {"editable": True}})
            )

    def run(self, command, *, sink=None):
        self.commands.append(command)
        argv = command.argv
        output, code = "", 0
        kind = "suite"
        if argv[1:2] == ("venv",):
            kind = "venv"
            venv = Path(argv[-1])
            (venv / "bin").mkdir(parents=True, exist_ok=True)
            (venv / "bin" / "python").write_text("")
            python = argv[argv.index("--python") + 1]
            version = python.rsplit("python", 1)[-1]
            (venv / "pyvenv.cfg").write_text(f"home = /x\nversion_info = {version}.4\n")
        elif argv[1:3] in (("pip", "install"), ("pip", "sync")):
            kind = "install"
            output = "Installed 3 packages\n"
            if self.fail_on not in ("install", "sync"):
                self._install(argv)
        elif argv[1:2] == ("-c",) and "find_spec" in argv[2] and "NOXGRID-IMPORTS" not in argv[2]:
            kind = "where"
            output = json.dumps(self.where) + "\n"
        elif argv[1:2] == ("-c",):
            kind = "imports"
            output = (
                'NOXGRID-IMPORTS [{"distribution": "pytest", "module": "pytest", "error": null}]\n'
            )
            if self.import_error:
                output = output.replace("null", json.dumps(self.import_error))
            if self.loads is not None:
                site = self.site(Path(argv[0])).resolve()
                files = sorted(str(path) for path in site.rglob("*.so")) if self.loads else []
                output += f"NOXGRID-LOADED {json.dumps(files)}\n"
        else:
            output = self.suite_output
        if self.fail_on == kind or (self.fail_on == "sync" and argv[1:3] == ("pip", "sync")):
            code, output = 1, "boom: it broke\n"
        if sink:
            for line in output.splitlines(keepends=True):
                sink(line)
        return Outcome(command=command, returncode=code, duration=0.01, output=output)


def dist(site: Path, name: str, version: str) -> Path:
    module = site / f"{name}_module.py"
    module.write_text(f"# {name}\n")
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n")
    size = module.stat().st_size
    digest = file_hash(module)  # as uv writes it: the file's own hash
    (info / "RECORD").write_text(f"{module.name},{digest},{size}\n{info.name}/RECORD,,\n")
    return info


LOCK_BODY = """
pytest==8.0.0 \\
    --hash=sha256:aaaa
    # via -r requirements/lean.in
"""


def write_locks(root, installed=20_000_000, body=LOCK_BODY):
    config = load_config(root)
    for cell in expand(config):
        digest, _ = inputs_digest(config, cell)
        header = [
            ("inputs-sha256", digest),
            ("download-bytes", "5000000"),
            ("installed-bytes", str(installed)),
            ("largest", "pytest==8.0.0=1500000"),
        ]
        path = lock_path(config, cell)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(seal(pylock_text(cell, body, header)))


def pylock_text(cell, body, header):
    """A PEP 751 lock of ``body`` (pins in uv's requirements form), as noxgrid writes one."""
    packages = parse_lock(body).packages
    exported = {
        "packages": [
            {
                "name": p.name,
                "version": p.version,
                "wheels": [
                    {
                        "url": f"https://files.example/{p.name}-{p.version}-py3-none-any.whl",
                        "hashes": {h.split(":")[0]: h.split(":")[1] for h in p.hashes},
                    }
                ],
            }
            for p in packages.values()
        ]
    }
    return render_pylock(
        title=lock_title(cell),
        python=cell.python,
        exported=exported,
        indexes={},
        via={key: p.via for key, p in packages.items()},
        header=header,
    )


@pytest.fixture
def project(make_project, tmp_path):
    root = make_project()
    write_locks(root)
    bin_dir = tmp_path / "pythons"
    bin_dir.mkdir()
    for version in ("3.9", "3.10", "3.11"):
        exe = bin_dir / f"python{version}"
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)
    return root, {
        "PATH": str(bin_dir),
        "PYENV_ROOT": str(tmp_path / "none"),
        "UV_PYTHON_INSTALL_DIR": str(tmp_path / "none"),
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
        "NOXGRID_GPU": "0",
    }


def run(root, env, cell_id="3.10-cpu-lean", runner=None):
    config = load_config(root)
    python, accelerator, profile = cell_id.split("-")
    runner = runner or FakeRunner()
    result = run_cell(
        config,
        Cell(python=python, accelerator=accelerator, profile=profile),
        runner=runner,
        env=env,
        uv=Uv(runner, binary="uv"),
    )
    return config, runner, result


def test_stages_run_in_order_and_the_report_is_written(project):
    root, env = project
    config, runner, result = run(root, env)
    assert [s.name for s in result.stages] == [
        "interpreter",
        "lock",
        "venv",
        "install",
        "doctor",
        "image",
        "smoke",
        "suite",
    ]
    assert result.status is Status.PASSED
    assert stage(result, "image").status is Status.SKIPPED
    assert (
        stage(result, "image").detail == "skipped: no image declared ([tool.noxgrid.docker] image)"
    )
    argvs = [c.argv for c in runner.commands]
    assert argvs[0][:2] == ("uv", "venv") and "--clear" in argvs[0]
    assert argvs[1][:3] == ("uv", "pip", "sync") and "--require-hashes" in argvs[1]
    assert argvs[1][-1].endswith("requirements/locks/pylock.py310-cpu-lean.toml")
    assert "--compile-bytecode" not in argvs[1], "the cell's processes write what they import"
    assert argvs[1][argvs[1].index("--only-binary") + 1] == ":all:", "no source builds"
    assert argvs[2][:3] == ("uv", "pip", "install") and "--no-deps" in argvs[2]
    assert "-e" in argvs[2] and "--exact" not in argvs[2]
    assert (
        argvs[3][1] == "-c" and "find_spec" in argvs[3][2] and "NOXGRID-IMPORTS" not in argvs[3][2]
    ), "where the project imports from"
    assert argvs[4][1] == "-c" and argvs[4][-1] == "pytest", "import smoke of the direct deps"
    assert Path(argvs[5][0]).name == "pytest"
    assert runner.commands[5].env["NOXGRID_CELL"] == "3.10-cpu-lean"
    for probe in (runner.commands[4], runner.commands[5]):  # the import smoke, the suite
        assert "PYTHONPYCACHEPREFIX" not in probe.env, "by default: beside the sources"
        assert "PYTHONDONTWRITEBYTECODE" not in probe.env
    assert runner.commands[0].env["UV_PYTHON_DOWNLOADS"] == "never"
    data = json.loads((config.reports_dir / "3.10-cpu-lean.json").read_text())
    assert (
        data["status"] == "passed"
        and {s["name"]: s for s in data["stages"]}["suite"]["detail"] == "3 passed in 0.1s"
    )
    assert data["size_estimate"] == 20_000_000
    suite = ET.parse(config.reports_dir / "3.10-cpu-lean.xml").getroot().find("testsuite")
    assert suite.get("name") == "3.10-cpu-lean" and suite.get("tests") == "8"
    assert suite.get("skipped") == "2"
    assert (
        config.reports_dir / "logs" / "3.10-cpu-lean.suite.log"
    ).read_text() == "3 passed in 0.1s\n"


def test_gpu_tests_deselected_with_the_reason(project):
    root, env = project
    _, runner, result = run(root, env, "3.11-gpu-lean")
    suite_argv = runner.commands[-1].argv
    assert suite_argv[1:3] == ("-m", "not gpu")
    assert any("no GPU on this machine: NOXGRID_GPU=0" in note for note in result.notes)
    _, runner, result = run(root, env, "3.11-cpu-lean")
    assert any("cpu cell" in note for note in result.notes)


def test_gpu_tests_run_where_a_gpu_is_present(project):
    root, env = project
    _, runner, result = run(root, {**env, "NOXGRID_GPU": "1"}, "3.11-gpu-lean")
    assert "-m" not in runner.commands[-1].argv and not result.notes


def stage(result, name):
    return next(s for s in result.stages if s.name == name)


def test_second_run_proves_the_venv_equal_to_the_lock_without_uv(project):
    root, env = project
    run(root, env)
    _, runner, result = run(root, env)
    assert not [c for c in runner.commands if c.argv[0] == "uv"], "no venv, no sync, no install"
    assert stage(result, "install").detail.startswith(
        "proved equal to requirements/locks/pylock.py310-cpu-lean.toml: 1 packages, versions, hashes"
    )
    write_locks(root, body=LOCK_BODY + "requests==2.0.0 \\\n    --hash=sha256:bbbb\n")
    _, runner, result = run(root, env)
    assert runner.commands[0].argv[1:3] == ("pip", "sync")
    assert stage(result, "install").detail.startswith("synced")
    assert (
        "missing requests" in (root / ".noxgrid/reports/logs/3.10-cpu-lean.install.log").read_text()
    )


def test_a_venv_changed_by_hand_is_installed_again_not_trusted(project):
    root, env = project
    config, runner, _ = run(root, env)
    site = FakeRunner.site(config.venvs_dir / "3.10-cpu-lean" / "bin" / "python")
    (site / "pytest_module.py").write_text("# patched by hand, longer than before\n")
    dist(site, "intruder", "1.0")
    _, runner, result = run(root, env)
    sync = next(c.argv for c in runner.commands if c.argv[1:3] == ("pip", "sync"))
    assert sync[sync.index("--reinstall-package") + 1] == "pytest"
    log = (root / ".noxgrid/reports/logs/3.10-cpu-lean.install.log").read_text()
    assert "not in the lock intruder" in log and "pytest: 1 file(s) changed or gone" in log
    assert result.status is Status.PASSED


def test_a_lock_whose_hashes_changed_reinstalls_that_package(project):
    root, env = project
    run(root, env)
    write_locks(root, body=LOCK_BODY.replace("aaaa", "ffff"))
    _, runner, _ = run(root, env)
    sync = next(c.argv for c in runner.commands if c.argv[1:3] == ("pip", "sync"))
    assert "--reinstall-package" in sync
    assert (
        "the lock's hashes changed"
        in (root / ".noxgrid/reports/logs/3.10-cpu-lean.install.log").read_text()
    )


def test_a_hand_edited_lock_is_refused_before_anything_is_installed(project):
    root, env = project
    config = load_config(root)
    path = lock_path(config, Cell(python="3.10", accelerator="cpu", profile="lean"))
    path.write_text(path.read_text() + "evil==1.0 \\\n    --hash=sha256:9999\n")
    _, runner, result = run(root, env)
    detail = stage(result, "lock").detail
    assert "edited by hand" in detail and "fix: noxgrid lock 3.10-cpu-lean" in detail
    assert runner.commands == []


def test_importing_the_project_from_elsewhere_fails_the_install(project):
    root, env = project
    runner = FakeRunner()
    runner.where = {"demo": "/usr/lib/python3/site-packages/demo"}
    _, _, result = run(root, env, runner=runner)
    detail = stage(result, "install").detail
    assert detail.startswith("importing demo in the venv loads /usr/lib/python3/site-packages/demo")
    assert "not the working tree" in detail


def test_a_failed_install_skips_the_suite_and_fails_the_cell(project):
    root, env = project
    _, runner, result = run(root, env, runner=FakeRunner(fail_on="install"))
    assert result.status is Status.FAILED
    assert [s.status for s in result.stages] == [
        Status.PASSED,
        Status.PASSED,
        Status.PASSED,
        Status.FAILED,
        Status.SKIPPED,
        Status.SKIPPED,
        Status.SKIPPED,
        Status.SKIPPED,
    ]
    assert "boom: it broke" in stage(result, "install").detail
    assert result.first_error.startswith("install: uv exited with 1")
    assert len(runner.commands) == 2


def test_a_failing_suite_names_pytest_summary(project):
    root, env = project
    runner = FakeRunner(fail_on="suite", suite_output="")
    _, _, result = run(root, env, runner=runner)
    assert stage(result, "suite").status is Status.FAILED
    assert stage(result, "suite").detail.startswith(
        "the suite exited with 1; pytest: boom: it broke"
    )


def test_missing_interpreter_fails_the_first_stage(project):
    root, env = project
    _, runner, result = run(root, {**env, "PATH": ""}, "3.9-cpu-lean")
    assert stage(result, "interpreter").status is Status.FAILED
    assert "no Python 3.9 interpreter found" in stage(result, "interpreter").detail
    assert runner.commands == []


def test_a_second_run_of_the_same_cell_waits_for_the_first(project):
    import fcntl
    import threading

    root, env = project
    config = load_config(root)
    lock_path = config.venvs_dir / ".3.10-cpu-lean.lock"
    lock_path.parent.mkdir(parents=True)
    outcome = {}
    with lock_path.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        worker = threading.Thread(target=lambda: outcome.update(result=run(root, env)[2]))
        worker.start()
        worker.join(timeout=0.3)
        assert worker.is_alive(), "the second run must wait while the cell is locked"
        fcntl.flock(held, fcntl.LOCK_UN)
    worker.join(timeout=10)
    result = outcome["result"]
    assert result.status is Status.PASSED
    assert any("another run of 3.10-cpu-lean holds" in note for note in result.notes)


def test_only_this_runs_logs_are_linked(project):
    root, env = project
    run(root, env)
    _, _, result = run(root, env)
    by_name = {s.name: s for s in result.stages}
    assert by_name["venv"].log is None, "the venv was reused: no log this time"
    assert by_name["install"].log.endswith("3.10-cpu-lean.install.log")


def test_an_os_error_fails_the_stage_not_the_run(project, monkeypatch):
    root, env = project

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("noxgrid.cell.install.install_stamp", full_disk)
    _, _, result = run(root, env)
    assert stage(result, "install").status is Status.FAILED
    assert "No space left on device" in stage(result, "install").detail


def test_missing_lock_stops_the_cell_with_the_command(project):
    root, env = project
    config = load_config(root)
    lock_path(config, Cell(python="3.10", accelerator="cpu", profile="lean")).unlink()
    _, runner, result = run(root, env)
    assert stage(result, "lock").status is Status.FAILED
    assert "fix: noxgrid lock 3.10-cpu-lean" in stage(result, "lock").detail
    assert runner.commands == [], "nothing is installed without a lock"


def test_stale_lock_stops_the_cell_with_the_refresh_command(project):
    root, env = project
    (root / "requirements" / "lean.in").write_text("pytest\nhttpx\n")
    _, runner, result = run(root, env)
    assert "is stale" in stage(result, "lock").detail
    assert stage(result, "lock").detail.endswith("fix: noxgrid lock 3.10-cpu-lean")
    assert runner.commands == []


def test_policy_is_checked_before_anything_is_installed(project):
    root, env = project
    write_locks(
        root,
        body=LOCK_BODY
        + """
opencv-python==4.10.0.84 \\
    --hash=sha256:cccc
    # via -r requirements/lean.in
opencv-python-headless==4.10.0.84 \\
    --hash=sha256:dddd
    # via albumentations
albumentations==1.4.0 \\
    --hash=sha256:eeee
    # via -r requirements/lean.in
""",
    )
    _, runner, result = run(root, env)
    detail = stage(result, "lock").detail
    assert "refused before anything is installed" in detail
    assert "opencv-python <- requirements/lean.in" in detail
    assert "opencv-python-headless <- albumentations <- requirements/lean.in" in detail
    assert runner.commands == []


def test_budget_breach_lists_the_largest_and_installs_nothing(make_project, tmp_path):
    root = make_project(MINIMAL_WITH_BUDGET)
    write_locks(root, installed=900_000_000)
    env = {
        "PATH": "",
        "NOXGRID_PYTHON_3_10": str(fake_python(tmp_path, "3.10")),
        "NOXGRID_GPU": "0",
    }
    _, runner, result = run(root, env)
    detail = stage(result, "lock").detail
    assert "[budget]" in detail and "900.0 MB, over the 500.0 MB budget" in detail
    assert "pytest==8.0.0" in detail
    assert runner.commands == []


def test_preflight_refuses_an_install_the_disk_cannot_hold(project, monkeypatch):
    import shutil as shutil_module
    from collections import namedtuple

    root, env = project
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil_module, "disk_usage", lambda path: usage(10**9, 10**9, 10_000_000))
    _, runner, result = run(root, {**env, "UV_CACHE_DIR": str(root / "uvcache")})
    detail = stage(result, "install").detail
    assert detail.startswith("not enough free space for 3.10-cpu-lean: about 49.5 MB is needed")
    assert "10.0 MB free" in detail and "uv's cache" in detail
    assert [c.argv[1] for c in runner.commands] == ["venv"], "nothing was downloaded"


MINIMAL_WITH_BUDGET = """
[project]
name = "demo"
version = "0.1.0"

[tool.noxgrid]
python = ["3.10"]
accelerators = ["cpu"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
size-budget = "500MB"
"""


def fake_python(tmp_path, version):
    exe = tmp_path / "bin" / f"python{version}"
    exe.parent.mkdir(parents=True, exist_ok=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    return exe


def smoke(command):
    return command.argv[1:2] == ("-c",) and "NOXGRID-IMPORTS" in command.argv[2]


def test_import_smoke_is_not_repeated_for_an_unchanged_install(project):
    root, env = project
    _, first, result = run(root, env)
    assert any(smoke(c) for c in first.commands)
    assert not stage(result, "doctor").detail.endswith("same install, same libraries)")
    _, second, result = run(root, env)
    assert not any(smoke(c) for c in second.commands), "smoke reused"
    assert stage(result, "doctor").detail.endswith(
        "(as when last run: same install, same libraries)"
    )
    assert "imported 1 module" in stage(result, "doctor").detail
    write_locks(root, body=LOCK_BODY + "requests==2.0.0 \\\n    --hash=sha256:bbbb\n")
    _, third, _ = run(root, env)
    assert any(smoke(c) for c in third.commands), "a new lock: smoke again"


def test_a_new_install_is_audited_while_its_import_smoke_runs(project, monkeypatch):
    import threading

    import noxgrid.cell.doctor as doctor

    root, env = project
    audited, smoking = threading.Event(), threading.Event()
    overlapped: list[bool] = []
    real = doctor.audit_venv

    def audit_venv(venv):  # notes whether the smoke's process was running meanwhile
        overlapped.append(smoking.wait(5))
        result = real(venv)
        audited.set()
        return result

    class Waiting(FakeRunner):
        def run(self, command, *, sink=None):
            if smoke(command):  # finishes only once the audit has, at the same time
                smoking.set()
                assert audited.wait(10), "the audit waited for the smoke"
            return super().run(command, sink=sink)

    monkeypatch.setattr(doctor, "audit_venv", audit_venv)
    _, runner, result = run(root, env, runner=Waiting())
    assert stage(result, "doctor").status is Status.PASSED
    assert any(smoke(c) for c in runner.commands) and overlapped == [True]
    # An unchanged install: the audit alone, then the kept result.
    audited.clear()
    smoking.clear()
    _, again, result = run(root, env, runner=Waiting())
    assert audited.is_set() and not any(smoke(c) for c in again.commands)
    assert overlapped == [True, False]
    assert stage(result, "doctor").detail.endswith(
        "(as when last run: same install, same libraries)"
    )


def test_a_failed_import_fails_the_doctor_before_the_suite(project):
    root, env = project
    runner = FakeRunner(import_error="ImportError: libGL.so.1: cannot open shared object file")
    _, runner, result = run(root, env, runner=runner)
    doctor = stage(result, "doctor")
    assert doctor.name == "doctor" and doctor.status is Status.FAILED
    assert "import pytest (pytest): ImportError: libGL.so.1" in doctor.detail
    assert "likely missing: the system library libGL.so.1 (Debian package libgl1)" in doctor.detail
    assert stage(result, "suite").status is Status.SKIPPED
    assert not any(Path(c.argv[0]).name == "pytest" for c in runner.commands), "suite never ran"


def test_a_run_that_stops_before_the_doctor_leaves_no_earlier_findings(project):
    from noxgrid.cell.doctor import doctor_path

    root, env = project
    config, _, result = run(root, env)
    path = doctor_path(config, result.cell)
    assert json.loads(path.read_text())["cell"] == "3.10-cpu-lean"
    (config.venvs_dir / "3.10-cpu-lean" / "noxgrid-installed.json").unlink()  # must sync again
    _, _, result = run(root, env, runner=FakeRunner(fail_on="install"))
    assert stage(result, "doctor").status is Status.SKIPPED
    assert not path.exists(), "the last run's findings would pass for this one's"


def test_a_suite_whose_pytest_is_not_in_the_venv_fails_instead_of_running_outside(project):
    root, env = project
    write_locks(root, body=LOCK_BODY.replace("pytest==8.0.0", "iniconfig==2.0.0"))
    _, runner, result = run(root, env)
    suite = stage(result, "suite")
    assert suite.status is Status.FAILED
    assert suite.detail.startswith("pytest is not installed in the cell's venv")
    assert "fix: add pytest to requirements/full.in" in suite.detail or (
        "fix: add pytest to requirements/lean.in" in suite.detail
    )
    assert not any(Path(c.argv[0]).name == "pytest" for c in runner.commands)


def test_a_crash_in_one_cell_is_its_failed_result_and_the_others_finish(project, monkeypatch):
    import dataclasses

    from noxgrid.cell import doctor as doctor_stage
    from noxgrid.cell import run as pipeline

    root, env = project
    config = load_config(root)
    real = doctor_stage.STAGE.run

    def doctor(state):
        if state.cell.python == "3.10":
            raise RuntimeError("a bug in the doctor")
        return real(state)

    monkeypatch.setattr(doctor_stage, "STAGE", dataclasses.replace(doctor_stage.STAGE, run=doctor))
    runner = FakeRunner()
    cells = [Cell(python=v, accelerator="cpu", profile="lean") for v in ("3.9", "3.10", "3.11")]
    monkeypatch.setattr("noxgrid.cell.state.Uv", lambda r: Uv(r, binary="uv"))
    results = pipeline.run_cells(config, cells, jobs=2, runner=runner, env=env)
    assert [r.cell.python for r in results] == ["3.9", "3.10", "3.11"], "matrix order"
    assert [r.status for r in results] == [Status.PASSED, Status.FAILED, Status.PASSED]
    doctor_stage = stage(results[1], "doctor")
    assert doctor_stage.detail.startswith(
        "noxgrid crashed in the doctor stage (RuntimeError: a bug in the doctor)"
    )
    log = Path(doctor_stage.log).read_text()
    assert "Traceback (most recent call last)" in log and "a bug in the doctor" in log


def test_a_crash_outside_the_stages_is_still_a_result(project, monkeypatch):
    from noxgrid.cell import run as pipeline

    root, _env = project
    config = load_config(root)

    def explode(*args, **kwargs):
        raise KeyError("not a stage")

    monkeypatch.setattr(pipeline, "run_cell", explode)
    cells = [Cell(python="3.11", accelerator="cpu", profile="lean")]
    (result,) = pipeline.run_cells(config, cells, runner=FakeRunner())
    assert result.status is Status.FAILED
    assert "noxgrid crashed running 3.11-cpu-lean (KeyError" in result.first_error
    assert (config.reports_dir / "3.11-cpu-lean.json").is_file(), "its report is written"


def test_a_release_with_a_crashing_cell_still_writes_its_report(project, monkeypatch, capsys):
    from noxgrid import cli
    from noxgrid.cell import run as pipeline

    root, env = project
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    real = pipeline.run_cell

    def sometimes(config, cell, **kwargs):
        if cell.id == "3.10-cpu-lean":
            raise RuntimeError("boom")
        return real(
            config, cell, **{**kwargs, "runner": FakeRunner(), "uv": Uv(FakeRunner(), binary="uv")}
        )

    monkeypatch.setattr(pipeline, "run_cell", sometimes)
    monkeypatch.setattr("noxgrid.check.findings.project_files", lambda root: None)  # no git: a walk
    monkeypatch.setattr("noxgrid.check.findings.check_ignore", lambda root, paths: None)
    (root / ".github" / "workflows").mkdir(parents=True)
    code = cli.main(["release", "-C", str(root), "--no-docker", "-j", "2"])
    out = capsys.readouterr()
    assert code == 1, out
    document = json.loads((root / ".noxgrid/reports/release/release.json").read_text())
    problems = {p["cell"]: p for p in document["problems"]}
    assert problems["3.10-cpu-lean"]["status"] == "FAILED"
    assert "noxgrid crashed running 3.10-cpu-lean" in problems["3.10-cpu-lean"]["why"]
    assert len(document["cells"]) == 12, "every other cell finished"


def test_suite_arguments_reach_the_suite_command(project):
    root, env = project
    config = load_config(root)
    runner = FakeRunner()
    run_cell(
        config,
        Cell(python="3.10", accelerator="cpu", profile="lean"),
        runner=runner,
        env=env,
        uv=Uv(runner, binary="uv"),
        suite_args=["-k", "slow", "-x"],
    )
    suite = next(c.argv for c in runner.commands if Path(c.argv[0]).name == "pytest")
    assert suite[1:4] == ("-k", "slow", "-x"), "the user's arguments, then noxgrid's"


def native_module() -> bytes:
    """One of this interpreter's compiled modules, its libc.so.6 renamed to a library no
    system has (libq.so.6)."""
    from noxgrid.model.elf import read_elf

    folder = Path(sysconfig.get_config_var("DESTSHARED") or "")
    for path in sorted(folder.glob("*.so")):
        with path.open("rb") as stream:
            elf = read_elf(stream, str(path))
        if elf is not None and "libc.so.6" in elf.needed:
            data = path.read_bytes().replace(b"libc.so.6\0", b"libq.so.6\0", 1)
            assert "libq.so.6" in (read_elf(io.BytesIO(data), "x") or elf).needed
            return data
    pytest.skip(f"no compiled module in {folder} links libc.so.6")


def test_a_missing_library_fails_the_doctor_only_where_something_imported_needs_it(project):
    root, env = project
    data = native_module()
    _, _, result = run(root, env, runner=FakeRunner(native=data, loads=False))
    doctor = stage(result, "doctor")
    assert doctor.status is Status.PASSED, doctor.detail
    assert "every library found but 1 only optional plugins need" in doctor.detail
    assert any(
        note.startswith("libq.so.6 missing, needed only by vendored/_native.so, which nothing")
        for note in result.notes
    ), result.notes
    # Run again: the smoke's record stands (same install, same libraries) and still decides.
    _, again, result = run(root, env, runner=FakeRunner(native=data, loads=True))
    assert not any(smoke(c) for c in again.commands), "the smoke's last result stands"
    assert stage(result, "doctor").status is Status.PASSED
    _, _, result = run(root, env, "3.11-cpu-lean", runner=FakeRunner(native=data, loads=True))
    assert stage(result, "doctor").status is Status.FAILED
    line = first_line(result.first_error or "")
    assert line == (
        "doctor: libq.so.6 missing (no Debian package known), needed by vendored/_native.so "
        "(an installed package); fix: find the package of libq.so.6: apt-file search libq.so.6"
    ), line
    # No record of what the smoke loaded: today's rule (it fails), saying why.
    _, _, result = run(root, env, "3.9-cpu-lean", runner=FakeRunner(native=data))
    line = first_line(result.first_error or "")
    assert "the import smoke recorded no loaded files" in line and not line.endswith(":")


def test_a_sync_empties_the_venvs_bytecode(project):
    root, env = project
    config, _, _ = run(root, env)
    stale = config.venvs_dir / "3.10-cpu-lean" / "pycache" / "old.cpython-310.pyc"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"of a file uv replaced")
    (config.venvs_dir / "3.10-cpu-lean" / "noxgrid-installed.json").unlink()  # not proved
    _, runner, _ = run(root, env)
    assert any(c.argv[:3] == ("uv", "pip", "sync") for c in runner.commands), "it synced"
    assert not stale.exists(), "bytecode of replaced files would be read by the next import"


def test_where_the_user_writes_no_bytecode_the_cell_writes_it_into_the_venv(project):
    root, env = project
    config, runner, _ = run(root, {**env, "PYTHONDONTWRITEBYTECODE": "1"})
    venv = config.venvs_dir / "3.10-cpu-lean"
    for probe in (runner.commands[4], runner.commands[5]):  # the import smoke, the suite
        assert probe.env["PYTHONPYCACHEPREFIX"] == str(venv / "pycache"), "not the tree"
        assert probe.env["PYTHONDONTWRITEBYTECODE"] == "", "written, for the next run"
