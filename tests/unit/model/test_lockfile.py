from __future__ import annotations

import pytest

from noxgrid.model.declaration import load_config
from noxgrid.model.freshness import check_locks, refresh_command
from noxgrid.model.inputs import inputs_digest, requirement_files, rewrite_requirements
from noxgrid.model.lockfile import parse_lock
from noxgrid.model.matrix import Cell, expand
from noxgrid.model.resolution import compile_args

LOCK = """\
# Lock of cell 3.11-cpu-full, written by noxgrid: do not edit by hand.
# Refresh: noxgrid lock 3.11-cpu-full
# inputs-sha256: abc123
# installed-bytes: 1234
# largest: torch==2.5.1=900, numpy==2.1.0=50

nvidia-cublas-cu12==12.4.5.8 \\
    --hash=sha256:0f8aa1706812e00b9f19dfe0cdb3999b092ccb8ca168c0db5b8ea712456fd9b3
    # via torch
sentence-transformers==3.3.1 \\
    --hash=sha256:aaaa
    # via -r requirements/full.in
torch==2.5.1 \\
    --hash=sha256:bbbb \\
    --hash=sha256:cccc
    # via
    #   sentence-transformers
    #   -r requirements/full.in
triton==3.1.0 \\
    --hash=sha256:dddd
    # via torch
"""


def test_parse_lock_header_and_packages():
    lock = parse_lock(LOCK)
    assert lock.digest == "abc123" and lock.header_bytes("installed-bytes") == 1234
    assert lock.largest() == [("torch==2.5.1", 900), ("numpy==2.1.0", 50)]
    assert set(lock.packages) == {"nvidia-cublas-cu12", "sentence-transformers", "torch", "triton"}
    torch = lock.packages["torch"]
    assert torch.version == "2.5.1" and torch.hashes == ("sha256:bbbb", "sha256:cccc")
    assert torch.via == ("sentence-transformers", "-r requirements/full.in")


def test_chain_is_the_shortest_path_to_a_requirement_file():
    lock = parse_lock(LOCK)
    assert lock.chain("triton") == ["triton", "torch", "requirements/full.in"]
    assert lock.chain("sentence-transformers") == ["sentence-transformers", "requirements/full.in"]
    assert lock.chain("not-there") == ["not-there"]


def test_rewrite_requirements_keeps_specifiers_markers_and_comments():
    text = "onnxruntime>=1.17; python_version >= '3.9'  # inference\nnumpy\n-r base.in\n"
    out = rewrite_requirements(text, {"onnxruntime": "onnxruntime-gpu"})
    assert out.splitlines() == [
        'onnxruntime-gpu>=1.17; python_version >= "3.9"  # inference',
        "numpy",
        "-r base.in",
    ]
    assert rewrite_requirements(text, {}) == text


def test_included_files_count_as_inputs(make_project):
    root = make_project(
        files={
            "requirements/lean.in": "-r base.in\npytest\n",
            "requirements/base.in": "-c ../constraints.txt\nhttpx\n",
            "constraints.txt": "httpx<1\n",
            "requirements/full.in": "numpy\n",
        }
    )
    config = load_config(root)
    files = requirement_files(config.profiles["lean"].requirements)
    assert [f.name for f in files] == ["lean.in", "base.in", "constraints.txt"]
    cell = Cell(python="3.11", accelerator="cpu", profile="lean")
    before, names = inputs_digest(config, cell)
    assert names == ["requirements/lean.in", "requirements/base.in", "constraints.txt"]
    (root / "constraints.txt").write_text("httpx<0.28\n")
    assert inputs_digest(config, cell)[0] != before


def test_digest_depends_on_python_and_accelerator_rules(make_project):
    config = load_config(make_project())
    digests = {inputs_digest(config, cell)[0] for cell in expand(config).select(["lean"])}
    assert len(digests) == 6, "every lean cell has its own inputs"


def test_check_locks_names_only_the_cells_whose_inputs_changed(make_project):
    root = make_project()
    config = load_config(root)
    from tests.unit.cell.test_run import write_locks

    write_locks(root)
    assert {s.state for s in check_locks(config, list(expand(config)))} == {"fresh"}
    (root / "requirements" / "full.in").write_text("numpy\nscipy\n")
    states = check_locks(config, list(expand(config)))
    stale = [s.cell.id for s in states if s.state == "stale"]
    assert stale == [
        "3.9-cpu-full",
        "3.9-gpu-full",
        "3.10-cpu-full",
        "3.10-gpu-full",
        "3.11-cpu-full",
        "3.11-gpu-full",
    ]
    assert refresh_command([s.cell for s in states if s.state == "stale"]).startswith(
        "noxgrid lock 3.9-cpu-full 3.9-gpu-full"
    )


def test_compile_args_carry_the_cell_and_the_accelerator(make_project):
    config = load_config(
        make_project("""
        [tool.noxgrid]
        platform = "aarch64-manylinux_2_28"
        [tool.noxgrid.profile.lean]
        requirements = ["requirements/lean.in"]
        [tool.noxgrid.accelerator.cpu]
        torch-backend = "cpu"
        [tool.noxgrid.accelerator.gpu]
        torch-backend = "cu126"
        extra-index-urls = ["https://mirror.internal/simple"]
    """)
    )
    cpu = compile_args(
        config,
        Cell(python="3.10", accelerator="cpu", profile="lean"),
        ["requirements/lean.in"],
        "out.txt",
    )
    assert cpu[:3] == ["pip", "compile", "requirements/lean.in"]
    for flag, value in [
        ("--python-version", "3.10"),
        ("--python-platform", "aarch64-manylinux_2_28"),
        ("--torch-backend", "cpu"),
        ("--output-file", "out.txt"),
        ("--annotation-style", "split"),
    ]:
        assert cpu[cpu.index(flag) + 1] == value
    # No index configured: none passed, so uv's own settings (a company mirror) decide.
    assert "--index-url" not in cpu
    assert "--generate-hashes" in cpu
    gpu = compile_args(config, Cell(python="3.10", accelerator="gpu", profile="lean"), [], "o")
    assert gpu[gpu.index("--torch-backend") + 1] == "cu126"
    assert gpu[gpu.index("--extra-index-url") + 1] == "https://mirror.internal/simple"
    plain = load_config(make_project())
    args = compile_args(plain, Cell(python="3.10", accelerator="cpu", profile="lean"), [], "o")
    assert "--torch-backend" not in args, "no torch backend unless declared"


def test_uvs_own_index_settings_are_read_as_uv_reads_them(tmp_path):
    from noxgrid.model.uvsettings import uv_settings

    root = tmp_path / "p"
    root.mkdir()
    assert uv_settings(root, {"XDG_CONFIG_HOME": str(tmp_path / "cfg")}).index is None
    (root / "pyproject.toml").write_text(
        '[tool.uv]\n[[tool.uv.index]]\nurl = "https://mirror.example/simple/"\ndefault = true\n'
    )
    found = uv_settings(root, {"XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    assert found.index == "https://mirror.example/simple" and "tool.uv" in found.source
    (root / "uv.toml").write_text('index-url = "https://other.example/simple"\n')
    assert uv_settings(root, {}).index == "https://other.example/simple", "uv.toml first"
    env = {"UV_INDEX_URL": "http://127.0.0.1:9/simple"}
    assert uv_settings(root, env).source == "UV_INDEX_URL", "the environment wins"


GROUPS = """
[project]
name = "grouped"
version = "1"
dependencies = []

[dependency-groups]
test = ["pytest>=8", {include-group = "typing"}, "grouped[extra]"]
typing = ["mypy"]

[project.optional-dependencies]
extra = ["six"]

[tool.noxgrid]
python = ["3.11"]
accelerators = ["cpu"]

[tool.noxgrid.profile.lean]
groups = ["test"]
"""


def test_a_profile_can_be_made_of_dependency_groups(make_project):
    from noxgrid.errors import ConfigError
    from noxgrid.model.inputs import group_requirements, inputs_digest

    root = make_project(GROUPS, files={})
    config = load_config(root)
    assert config.profiles["lean"].requirements == () and config.profiles["lean"].groups == (
        "test",
    )
    cell = Cell(python="3.11", accelerator="cpu", profile="lean")
    assert group_requirements(config, cell) == ["pytest>=8", "mypy", "six"], (
        "include-group followed, the project's own extra expanded"
    )
    before, _ = inputs_digest(config, cell)
    (root / "pyproject.toml").write_text(GROUPS.replace('"mypy"', '"mypy>=1.10"'))
    assert inputs_digest(load_config(root), cell)[0] != before, "a group edit stales the lock"
    (root / "pyproject.toml").write_text(GROUPS.replace('groups = ["test"]', 'groups = ["docs"]'))
    with pytest.raises(ConfigError, match="no dependency group 'docs'"):
        group_requirements(load_config(root), cell)
    (root / "pyproject.toml").write_text(GROUPS.replace('groups = ["test"]\n', ""))
    with pytest.raises(
        ConfigError, match="asks for nothing: no requirement files, extras or groups"
    ):
        load_config(root)
