"""Green means verified, for real: uv, nox, pytest and PyPI on small projects of their own.

Each test is one way a run used to end green (or half green) without the
thing having been checked; each asserts the exit status, that the message
names the cause and the fix, and that nothing was left half-written.
"""

from __future__ import annotations

import json
import sys
import textwrap
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

from tests.integration.conftest import lock, nox, noxgrid

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

NO_DOCKER = {"NOXGRID_NO_DOCKER": "1", "NOXGRID_GPU": "0"}


def project(tmp_path: Path, pyproject: str, files: dict[str, str]) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text(textwrap.dedent(pyproject))
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    (root / "noxfile.py").write_text("import noxgrid\n\nnoxgrid.sessions()\n")
    return root


SIMPLE = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "simple"
version = "0.1.0"

[tool.setuptools]
py-modules = ["simple"]

[tool.noxgrid]
python = ["3.11"]
accelerators = ["cpu"]
{extra}

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
{profile}
"""


def simple(
    tmp_path: Path, requirements: str = "iniconfig\npytest\n", extra: str = "", profile: str = ""
):
    return project(
        tmp_path,
        SIMPLE.format(extra=extra, profile=profile),
        {
            "requirements/lean.in": requirements,
            "simple.py": "VALUE = 1\n",
            "tests/test_simple.py": "import simple\n\ndef test_value():\n    assert simple.VALUE == 1\n",
        },
    )


# 1. An empty selection is an error, in nox too.
def test_nox_refuses_a_matrix_whose_excludes_remove_every_cell(tmp_path):
    root = simple(tmp_path, extra='exclude = [{ python = "3.11" }]')
    result = nox("-s", "ci-lean", cwd=root)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "every cell of the matrix is excluded" in output
    assert 'exclude[0] { python = "3.11" } removes 3.11-cpu-lean' in output
    assert not (root / ".noxgrid").exists(), "nothing ran"


def test_a_profile_whose_cells_are_all_excluded_fails_its_session(tmp_path):
    root = simple(tmp_path, extra='exclude = [{ profile = "full" }]')
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(
        text + '\n[tool.noxgrid.profile.full]\nrequirements = ["requirements/lean.in"]\n'
    )
    result = nox("-s", "ci-full", cwd=root)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "every cell of profile 'full' is excluded" in output
    assert "removes 3.11-cpu-full" in output


# 2. A hand-edited lock is refused; a venv changed by hand is installed again.
def test_a_hand_edited_lock_is_refused_by_lock_check_and_by_the_cell(tmp_path):
    root = simple(tmp_path)
    lock(root)
    path = root / "requirements" / "locks" / "pylock.py311-cpu-lean.toml"
    before = path.read_text()
    # A package added by hand, as valid PEP 751: only the body digest can tell.
    path.write_text(
        before.replace(
            "[tool.noxgrid]",
            '[[packages]]\nname = "six"\nversion = "1.16.0"\nwheels = [{ url = '
            '"https://files.pythonhosted.org/six-1.16.0-py2.py3-none-any.whl", hashes = '
            '{ sha256 = "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254" } }]'
            "\n\n[tool.noxgrid]",
        )
    )
    check = noxgrid("lock", "--check", cwd=root)
    assert check.returncode == 1, check.stdout + check.stderr
    assert (
        "requirements/locks/pylock.py311-cpu-lean.toml: edited: its text no longer matches"
        in check.stdout
    )
    assert "fix: noxgrid lock 3.11-cpu-lean" in check.stderr
    run = noxgrid("run", "-q", cwd=root, env=NO_DOCKER)
    assert run.returncode == 1
    data = json.loads((root / ".noxgrid/reports/3.11-cpu-lean.json").read_text())
    stages = {s["name"]: s for s in data["stages"]}
    assert stages["lock"]["status"] == "failed" and "edited by hand" in stages["lock"]["detail"]
    assert stages["install"]["status"] == "skipped", "nothing was installed"
    assert not (root / ".noxgrid/venvs/3.11-cpu-lean").exists()
    # The fix the message names restores a lock every check accepts.
    path.write_text(before)
    assert noxgrid("lock", "--check", cwd=root).returncode == 0


def test_a_reused_venv_is_proven_equal_to_the_lock_not_trusted(tmp_path):
    root = simple(tmp_path)
    lock(root)
    first = noxgrid("run", "-q", cwd=root, env=NO_DOCKER)
    assert first.returncode == 0, first.stdout + first.stderr
    second = noxgrid("run", "-q", cwd=root, env=NO_DOCKER)
    data = json.loads((root / ".noxgrid/reports/3.11-cpu-lean.json").read_text())
    install = {s["name"]: s for s in data["stages"]}["install"]["detail"]
    assert second.returncode == 0 and install.startswith("proved equal to requirements/locks")
    assert "import simple -> the working tree" in install
    # A file of an installed package changed by hand: found, and that package installed again.
    site = next((root / ".noxgrid/venvs/3.11-cpu-lean/lib").glob("python*/site-packages"))
    # Saved as editors save (a new file): uv hard-links venv files to its cache, and an
    # in-place write would change the cache that the other tests' venvs link to.
    (site / "iniconfig" / "__init__.py").unlink()
    (site / "iniconfig" / "__init__.py").write_text("raise SystemExit('tampered')\n")
    third = noxgrid("run", "-q", cwd=root, env=NO_DOCKER)
    assert third.returncode == 0, third.stdout + third.stderr
    data = json.loads((root / ".noxgrid/reports/3.11-cpu-lean.json").read_text())
    install = {s["name"]: s for s in data["stages"]}["install"]["detail"]
    assert install.startswith("synced") and "1 installed again" in install
    assert "tampered" not in (site / "iniconfig" / "__init__.py").read_text()


# 3. Unknown sizes stay unknown; a network failure is exit 5 with uv's words.
def test_sizes_the_index_cannot_give_refuse_the_lock_with_exit_5(tmp_path):
    root = simple(tmp_path, profile='size-budget = "100MB"')
    lock(root)  # uv's cache now holds the resolution
    locked = root / "requirements" / "locks" / "pylock.py311-cpu-lean.toml"
    locked.unlink()
    offline = {
        "UV_OFFLINE": "1",  # uv resolves from its cache
        "NOXGRID_CACHE_DIR": str(tmp_path / "empty-cache"),  # no sizes cached
        "HTTPS_PROXY": "http://127.0.0.1:9",  # and the index cannot be asked
        "https_proxy": "http://127.0.0.1:9",
    }
    result = noxgrid("lock", cwd=root, env=offline)
    assert result.returncode == 5, result.stdout + result.stderr
    assert "could not be sized" in result.stdout and "did not answer" in result.stdout
    assert "--allow-unsized" in result.stdout
    assert not locked.exists(), "no lock with made-up sizes"
    allowed = noxgrid("lock", "--allow-unsized", cwd=root, env=offline)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert "the size budget of profile 'lean' was NOT checked" in allowed.stdout
    text = locked.read_text()
    assert 'download-bytes = "unknown"' in text and 'budget = "not checked' in text
    run = noxgrid("run", "-q", cwd=root, env=NO_DOCKER)
    data = json.loads((root / ".noxgrid/reports/3.11-cpu-lean.json").read_text())
    assert any("size budget (100.0 MB) was NOT checked" in note for note in data["notes"])
    assert run.returncode == 0, run.stdout + run.stderr


def test_an_unreachable_index_is_exit_5_with_uvs_own_message(tmp_path):
    root = simple(tmp_path, extra='index-url = "http://127.0.0.1:9/simple"')
    result = noxgrid("lock", cwd=root, env={"UV_HTTP_RETRIES": "0"})
    output = result.stdout + result.stderr
    assert result.returncode == 5, output
    # The address uv named, not only the configured index.
    assert "uv could not reach 127.0.0.1 (http://127.0.0.1:9/simple/" in output
    assert ") for 3.11-cpu-lean; uv said:" in output
    assert "Connection refused" in output or "tcp connect error" in output, "uv's own words"
    # The one fix printed is uv's cause's; nothing else claims fixes above it.
    assert result.stdout.count("fix:") == 1 and "fix: check the network" in result.stdout
    assert not (root / "requirements" / "locks").exists()


# 6. Requirement forms: a direct URL is locked with its hash; an index option is refused.
def test_a_direct_url_requirement_is_locked_with_its_hash_and_size(tmp_path):
    url = (
        "https://files.pythonhosted.org/packages/76/c6/"
        "c88e154df9c4e1a2a66ccf0005a88dfb2650c1dffb6f5ce603dfbd452ce3/idna-3.10-py3-none-any.whl"
    )
    root = simple(tmp_path, requirements=f"idna @ {url}\npytest\n")
    result = noxgrid("lock", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    text = (root / "requirements" / "locks" / "pylock.py311-cpu-lean.toml").read_text()
    idna = next(p for p in tomllib.loads(text)["packages"] if p["name"] == "idna")
    assert idna["archive"]["url"] == url
    assert idna["archive"]["hashes"]["sha256"].startswith("946d195a")
    assert 'unsized = "none"' in text


def test_an_index_option_in_a_requirement_file_is_refused_not_overridden(tmp_path):
    root = simple(
        tmp_path, requirements="--extra-index-url https://elsewhere.example/simple\nsix\n"
    )
    result = noxgrid("lock", cwd=root)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "requirements/lean.in:1" in output and "may not choose the index" in output
    assert "extra-index-urls" in output
    assert not (root / "requirements" / "locks").exists()


# 7. A configured docker client is used or the run fails.
def test_a_bad_noxgrid_docker_is_exit_6_before_any_cell_runs(tiny):
    text = (tiny / "pyproject.toml").read_text()
    (tiny / "pyproject.toml").write_text(text + '\n[tool.noxgrid.docker]\nimage = "tiny"\n')
    lock(tiny)
    for argv in (["image", "3.11-cpu-lean"], ["run", "3.11-cpu-lean"], ["release"]):
        result = noxgrid(*argv, cwd=tiny, env={"NOXGRID_DOCKER": "/nowhere/docker"})
        assert result.returncode == 6, argv
        assert "noxgrid: NOXGRID_DOCKER=/nowhere/docker: no such program" in result.stderr
        assert "fix: point NOXGRID_DOCKER at a docker client" in result.stderr
    assert not (tiny / ".noxgrid" / "reports").exists(), "no cell ran"
    skipped = noxgrid(
        "run", "--no-docker", "3.11-cpu-lean", cwd=tiny, env={"NOXGRID_DOCKER": "/nowhere/docker"}
    )
    assert skipped.returncode == 0, "--no-docker needs no engine"


# 10. A name that is not a cell's selects nothing.
def test_a_session_name_that_only_looks_like_a_cell_runs_nothing(tiny):
    result = nox("-s", "ci-lean-3.1(cpu)", cwd=tiny)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "'ci-lean-3.1(cpu)' is not the name of a cell session" in output
    assert "ci-lean-3.10(cpu)" in output, "the cells are listed"
    assert not (tiny / ".noxgrid" / "reports").exists(), "no cell ran"


# 11. A project whose extras name itself is never locked, and the suite tests the working tree.
SELFREF = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "selfref"
version = "0.1.0"

[project.optional-dependencies]
tests = ["selfref[extra]", "pytest"]
extra = ["iniconfig"]

[tool.setuptools]
py-modules = ["selfref"]

[tool.noxgrid]
python = ["3.11"]
accelerators = ["cpu"]

[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
extras = ["tests"]
"""


def test_self_referring_extras_never_lock_the_project_and_runs_test_the_tree(tmp_path):
    root = project(
        tmp_path,
        SELFREF,
        {
            "requirements/lean.in": "-e .[tests]\n",
            "selfref.py": "WHERE = 'tree'\n",
            "tests/test_self.py": (
                "import pathlib, selfref, iniconfig\n\n"
                "def test_tree():\n"
                "    assert pathlib.Path(selfref.__file__).parent == pathlib.Path.cwd()\n"
            ),
        },
    )
    lock(root)
    text = (root / "requirements" / "locks" / "pylock.py311-cpu-lean.toml").read_text()
    names = {p["name"] for p in tomllib.loads(text)["packages"]}
    assert "selfref" not in names and {"iniconfig", "pytest"} <= names
    for _ in range(2):  # the second run verifies the venv: the project must stay the tree's
        run = noxgrid("run", "-q", cwd=root, env=NO_DOCKER)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr
        data = json.loads((root / ".noxgrid/reports/3.11-cpu-lean.json").read_text())
        install = {s["name"]: s for s in data["stages"]}["install"]["detail"]
        assert "import selfref -> the working tree" in install


# 12. Reports stay valid whatever the suite prints.
def test_colour_codes_and_invalid_utf8_leave_every_report_valid(tmp_path):
    root = simple(tmp_path, requirements="pytest\n")
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(
        text + '\n[tool.pytest.ini_options]\naddopts = "--color=yes -ra"\n'
    )
    (root / "tests" / "test_noise.py").write_text(
        "import sys\n\n"
        "def test_noise():\n"
        "    sys.stdout.buffer.write(b'\\xff\\xfe\\x00\\x1b[31mred\\x07\\x0b\\n')\n"
        "    sys.stdout.flush()\n"
        "    assert False, 'bad \\x1b[1m<&>|'\n"
    )
    lock(root)
    run = noxgrid("run", "-q", cwd=root, env=NO_DOCKER)
    assert run.returncode == 1
    out = tmp_path / "report"
    merged = noxgrid(
        "report", "--out", str(out), "--expect", "3.11-cpu-lean", cwd=root, env=NO_DOCKER
    )
    assert merged.returncode == 1, merged.stdout + merged.stderr
    for name in ("release.xml", "release.json", "release.md", "release.html"):
        raw = (out / name).read_bytes()
        raw.decode("utf-8")  # valid UTF-8 in every file
        assert b"\x1b" not in raw and b"\x00" not in raw, name
    ET.fromstring((out / "release.xml").read_bytes())
    ET.fromstring((root / ".noxgrid/reports/3.11-cpu-lean.xml").read_bytes())
    document = json.loads((out / "release.json").read_text())
    assert "test_noise" in document["problems"][0]["why"]
    HTMLParser().feed((out / "release.html").read_text())


# 13. Failures name their cause: a package without a wheel, a module the profile lacks.
def test_a_source_only_package_is_flagged_when_locking(tmp_path):
    root = simple(tmp_path, requirements="gmpy==1.17\n")
    result = noxgrid("lock", cwd=root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "[source-build]" in result.stdout
    assert "gmpy==1.17" in result.stdout and "a C compiler" in result.stdout
    assert 'source-builds = ["gmpy"]' in result.stdout
    assert not (root / "requirements" / "locks").exists()


def test_a_missing_runtime_dependency_names_the_module_and_the_line_to_add(tmp_path):
    root = simple(tmp_path, requirements="pytest\n")
    (root / "tests" / "test_yaml.py").write_text("import yaml\n\ndef test_yaml():\n    pass\n")
    lock(root)
    run = noxgrid("run", "-q", cwd=root, env=NO_DOCKER)
    assert run.returncode == 1
    data = json.loads((root / ".noxgrid/reports/3.11-cpu-lean.json").read_text())
    suite = {s["name"]: s for s in data["stages"]}["suite"]["detail"].splitlines()[0]
    assert suite.startswith("the suite could not import 'yaml' (ModuleNotFoundError"), suite
    assert "fix: add PyYAML to requirements/lean.in, then noxgrid lock 3.11-cpu-lean" in suite
