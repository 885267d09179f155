"""Configuration: defaults, and one test per class of bad declaration."""

from __future__ import annotations

import pytest

from noxgrid.errors import ConfigError
from noxgrid.model.config import CPU_FORBID_DEFAULT, parse_duration, parse_size
from noxgrid.model.declaration import load_config


def error_for(make_project, pyproject: str, files=None) -> str:
    root = make_project(pyproject, files)
    with pytest.raises(ConfigError) as info:
        load_config(root)
    text = str(info.value)
    assert str(root / "pyproject.toml") in text, "the message names the file"
    assert "fix:" in text, "the message says how to fix it"
    assert "\n" not in text.split("\n  fix:")[0] or "Traceback" not in text
    return text


def test_minimal_declaration_gets_defaults(make_project):
    config = load_config(make_project())
    assert config.pythons == ("3.9", "3.10", "3.11")
    assert config.accelerator_names == ("cpu", "gpu")
    assert config.profile_names == ("lean", "full")
    cpu, gpu = config.accelerators["cpu"], config.accelerators["gpu"]
    assert not cpu.needs_gpu and gpu.needs_gpu
    assert cpu.forbid == CPU_FORBID_DEFAULT and cpu.torch_backend is None
    assert config.platform == "x86_64-manylinux_2_28"
    assert config.locks_dir == config.root / "requirements" / "locks"
    assert gpu.run_args == ("--gpus", "all")
    assert config.suite.command == ("pytest",)
    assert config.suite.gpu_marker == "gpu"
    assert config.reports_dir == config.root / ".noxgrid" / "reports"
    assert config.project_name == "demo"
    assert config.profiles["full"].requirements[1].name == "full.in"


def test_load_from_a_subfolder_finds_the_pyproject(make_project):
    root = make_project()
    sub = root / "src" / "demo"
    sub.mkdir(parents=True)
    assert load_config(sub).root == root


def test_full_declaration(make_project):
    config = load_config(
        make_project("""
        [project]
        name = "svc"
        [tool.noxgrid]
        python = ["3.10", "3.11"]
        accelerators = ["cpu"]
        profiles = ["lean"]
        exclude = [{ python = "3.10", profile = "lean" }]
        include = [{ python = "3.12", accelerator = "cpu", profile = "lean" }]
        interpreters = { "3.12" = "/opt/py312/bin/python3.12" }
        [tool.noxgrid.profile.lean]
        requirements = ["requirements/lean.in"]
        extras = ["test"]
        apt = ["curl"]
        size-budget = "600MB"
        [tool.noxgrid.accelerator.cpu]
        base-image = "registry.internal/python:{python}-slim"
        forbid = ["nvidia-*"]
        replace = { onnxruntime = "onnxruntime-openvino" }
        runs-on = ["self-hosted", "linux"]
        [tool.noxgrid.suite]
        command = ["pytest", "-n", "auto"]
        env = { ENV = "ci" }
        timeout = "20m"
        [tool.noxgrid.docker]
        image = "ghcr.io/acme/svc"
        health = { path = "/ready", port = 8080, timeout = "90s" }
        env = { DISABLE_AUTH = "1" }
    """)
    )
    assert config.profiles["lean"].size_budget == 600_000_000
    assert config.profiles["lean"].extras == ("test",)
    assert config.accelerators["cpu"].replace == (("onnxruntime", "onnxruntime-openvino"),)
    assert config.accelerators["cpu"].runs_on == ("self-hosted", "linux")
    assert config.suite.timeout == 1200.0
    assert config.suite.env == (("ENV", "ci"),)
    assert config.docker.health.port == 8080 and config.docker.health.timeout == 90.0
    assert str(config.interpreters["3.12"]) == "/opt/py312/bin/python3.12"
    assert config.exclude == ({"python": "3.10", "profile": "lean"},)


def test_no_tool_table(make_project):
    text = error_for(make_project, "[project]\nname = 'x'\n")
    assert "no [tool.noxgrid] table" in text


def test_invalid_toml_names_the_line(make_project):
    text = error_for(make_project, "[tool.noxgrid\npython = 1\n")
    assert "not valid TOML" in text and "line 1" in text


def test_unknown_key_suggests_the_right_one(make_project):
    text = error_for(
        make_project,
        """
        [tool.noxgrid]
        pythons = ["3.11"]
        [tool.noxgrid.profile.lean]
        requirements = ["requirements/lean.in"]
    """,
    )
    assert "tool.noxgrid.pythons: unknown key" in text
    assert "did you mean 'python'?" in text


def test_unknown_key_in_a_profile(make_project):
    text = error_for(
        make_project,
        """
        [tool.noxgrid.profile.lean]
        requirements = ["requirements/lean.in"]
        size_budget = "1GB"
    """,
    )
    assert "tool.noxgrid.profile.lean.size_budget: unknown key" in text
    assert "did you mean 'size-budget'?" in text


def test_wrong_type(make_project):
    text = error_for(
        make_project,
        """
        [tool.noxgrid.profile.lean]
        requirements = "requirements/lean.in"
    """,
    )
    assert (
        "tool.noxgrid.profile.lean.requirements: expected a list of strings, got a string" in text
    )
    assert 'write requirements = ["..."]' in text


def test_unquoted_version_is_explained(make_project):
    text = error_for(
        make_project,
        """
        [tool.noxgrid]
        python = [3.9, 3.10]
        [tool.noxgrid.profile.lean]
        requirements = ["requirements/lean.in"]
    """,
    )
    assert "tool.noxgrid.python" in text and "quote every version" in text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("python = []", "tool.noxgrid.python: the axis is empty"),
        ("accelerators = []", "tool.noxgrid.accelerators: the axis is empty"),
        ("profiles = []", "tool.noxgrid.profiles: the axis is empty"),
    ],
)
def test_empty_axes(make_project, line, expected):
    text = error_for(
        make_project,
        f"""
        [tool.noxgrid]
        {line}
        [tool.noxgrid.profile.lean]
        requirements = ["requirements/lean.in"]
    """,
    )
    assert expected in text


def test_axis_value_without_its_table(make_project):
    text = error_for(
        make_project,
        """
        [tool.noxgrid]
        profiles = ["lean", "ful"]
        [tool.noxgrid.profile.lean]
        requirements = ["requirements/lean.in"]
    """,
    )
    assert "'ful' has no [tool.noxgrid.profile.ful] table" in text


def test_exclude_naming_a_value_on_no_axis(make_project):
    text = error_for(
        make_project,
        """
        [tool.noxgrid]
        python = ["3.10", "3.11"]
        exclude = [{ python = "3.9", accelerator = "gpu" }]
        [tool.noxgrid.profile.lean]
        requirements = ["requirements/lean.in"]
    """,
    )
    assert "tool.noxgrid.exclude[0].python: '3.9' is not a value of the python axis" in text
    assert "use one of: 3.10, 3.11" in text


def test_exclude_naming_an_unknown_axis(make_project):
    text = error_for(
        make_project,
        """
        [tool.noxgrid]
        exclude = [{ os = "windows" }]
        [tool.noxgrid.profile.lean]
        requirements = ["requirements/lean.in"]
    """,
    )
    assert "exclude[0].os: 'os' is not an axis" in text


def test_include_needs_every_axis(make_project):
    text = error_for(
        make_project,
        """
        [tool.noxgrid]
        include = [{ python = "3.12" }]
        [tool.noxgrid.profile.lean]
        requirements = ["requirements/lean.in"]
    """,
    )
    assert "include[0]: an included cell needs every axis; missing: accelerator, profile" in text


def test_no_profile_at_all(make_project):
    text = error_for(make_project, "[tool.noxgrid]\npython = ['3.11']\n")
    assert "tool.noxgrid.profile: no profile is declared" in text
    assert "[tool.noxgrid.profile.lean]" in text


def test_profile_without_requirements(make_project):
    text = error_for(
        make_project,
        """
        [tool.noxgrid.profile.lean]
        apt = ["curl"]
    """,
    )
    assert (
        "tool.noxgrid.profile.lean.requirements: profile 'lean' asks for nothing: no requirement files, extras or groups"
        in text
    )
    assert 'requirements = ["requirements/lean.in"]' in text


def test_missing_requirements_file(make_project):
    text = error_for(
        make_project,
        """
        [tool.noxgrid.profile.lean]
        requirements = ["requirements/lean.in", "requirements/tests.in"]
    """,
    )
    assert "tool.noxgrid.profile.lean.requirements[1]" in text
    assert "requirement file 'requirements/tests.in' does not exist" in text


def test_bad_size_budget(make_project):
    text = error_for(
        make_project,
        """
        [tool.noxgrid.profile.lean]
        requirements = ["requirements/lean.in"]
        size-budget = "lots"
    """,
    )
    assert "size-budget: 'lots' is not a size" in text and '"600MB"' in text


def test_bad_health_port(make_project):
    text = error_for(
        make_project,
        """
        [tool.noxgrid.profile.lean]
        requirements = ["requirements/lean.in"]
        [tool.noxgrid.docker]
        health = { port = 70000 }
    """,
    )
    assert "tool.noxgrid.docker.health.port: 70000 is not a TCP port" in text


def test_bad_duration(make_project):
    text = error_for(
        make_project,
        """
        [tool.noxgrid.profile.lean]
        requirements = ["requirements/lean.in"]
        [tool.noxgrid.suite]
        timeout = "soon"
    """,
    )
    assert "tool.noxgrid.suite.timeout: 'soon' is not a duration" in text


def test_empty_suite_command(make_project):
    text = error_for(
        make_project,
        """
        [tool.noxgrid.profile.lean]
        requirements = ["requirements/lean.in"]
        [tool.noxgrid.suite]
        command = []
    """,
    )
    assert "tool.noxgrid.suite.command: the suite command is empty" in text


@pytest.mark.parametrize(
    ("text", "size"),
    [("600MB", 600_000_000), ("3GB", 3_000_000_000), ("1.5 GiB", 1_610_612_736), ("10kb", 10_000)],
)
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize(("text", "seconds"), [("60s", 60.0), ("2m", 120.0), ("500ms", 0.5)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


def test_config_is_frozen(make_project):
    config = load_config(make_project())
    with pytest.raises(AttributeError):
        config.pythons = ("3.12",)  # type: ignore[misc]


def test_declaring_one_accelerator_keeps_the_other_default(make_project):
    config = load_config(
        make_project("""
        [tool.noxgrid.profile.lean]
        requirements = ["requirements/lean.in"]
        [tool.noxgrid.accelerator.cpu]
        runs-on = "ubuntu-24.04"
        [tool.noxgrid.accelerator.rocm]
        runs-on = ["self-hosted", "rocm"]
    """)
    )
    assert config.accelerator_names == ("cpu", "gpu", "rocm")
    assert config.accelerators["cpu"].runs_on == ("ubuntu-24.04",)
    assert config.accelerators["rocm"].needs_gpu


LOCAL = """
[project]
name = "demo"
[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
local-packages = LOCAL
"""


def test_local_packages_are_folders_of_python_projects_inside_the_project(make_project):
    files = {
        "requirements/lean.in": "pytest\n",
        "sub_package/pyproject.toml": "[project]\nname = 'sub'\n",
        "legacy/setup.py": "",
    }
    root = make_project(LOCAL.replace("LOCAL", '["./sub_package", "legacy"]'), files)
    profile = load_config(root).profiles["lean"]
    assert profile.local_packages == ((root / "sub_package").resolve(), (root / "legacy").resolve())
    assert load_config(make_project()).profiles["lean"].local_packages == ()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ('["../outside"]', "is outside the project folder"),
        ('["docs"]', "not a Python project"),
        ('["missing"]', "no such folder"),
        ('["."]', "it is the project itself"),
        ('["sub", "./sub"]', "is listed twice"),
    ],
)
def test_a_bad_local_package_names_the_key_and_the_fix(make_project, value, problem):
    files = {
        "requirements/lean.in": "pytest\n",
        "docs/index.md": "",
        "sub/setup.py": "",
    }
    text = error_for(make_project, LOCAL.replace("LOCAL", value), files)
    assert "tool.noxgrid.profile.lean.local-packages[" in text
    assert problem in text
    assert "holds a pyproject.toml or setup.py" in text or "list it once" in text


SETUP = """
[project]
name = "demo"
[tool.noxgrid.profile.lean]
requirements = ["requirements/lean.in"]
[tool.noxgrid.suite]
setup = SETUP
"""


def test_setup_steps_are_argv_lists_or_strings_split_without_a_shell(make_project):
    root = make_project(
        SETUP.replace("SETUP", '[["cp", ".env.example", ".env"], "python gen.py --name \'a b\'"]')
    )
    assert load_config(root).suite.setup == (
        ("cp", ".env.example", ".env"),
        ("python", "gen.py", "--name", "a b"),
    )
    assert load_config(make_project()).suite.setup == ()


@pytest.mark.parametrize(
    ("value", "key", "problem"),
    [
        ('"cp a b"', "setup", "expected a list of commands, got a string"),
        ('["cp a b && pytest"]', "setup[0]", "uses shell syntax (&&)"),
        ('["gen > out.txt"]', "setup[0]", "uses shell syntax (>)"),
        ('[["ok"], []]', "setup[1]", "the step is empty"),
        ('[["ok", 1]]', "setup[0]", "expected an argv list or a string, got a list"),
        ('["it\'s"]', "setup[0]", "cannot split"),
    ],
)
def test_a_bad_setup_step_names_the_key_and_the_fix(make_project, value, key, problem):
    text = error_for(make_project, SETUP.replace("SETUP", value))
    assert f"tool.noxgrid.suite.{key}" in text and problem in text


def test_the_waste_limit_is_a_size_or_note(make_project):
    assert load_config(make_project()).docker.waste == 10_000_000, "a small default"
    base = '[tool.noxgrid.profile.lean]\nrequirements = ["requirements/lean.in"]\n'
    config = load_config(make_project(base + '[tool.noxgrid.docker]\nwaste = "25MB"\n'))
    assert config.docker.waste == 25_000_000
    config = load_config(make_project(base + '[tool.noxgrid.docker]\nwaste = "note"\n'))
    assert config.docker.waste is None
    text = error_for(make_project, base + '[tool.noxgrid.docker]\nwaste = "some"\n')
    assert "tool.noxgrid.docker.waste: 'some' is neither a size nor \"note\"" in text
    assert '"10MB"' in text and '"note"' in text
