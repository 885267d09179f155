from __future__ import annotations

import pytest

from noxgrid.errors import SelectionError
from noxgrid.model.declaration import load_config
from noxgrid.model.matrix import Cell, expand


def test_cell_id_and_session_name():
    cell = Cell(python="3.10", accelerator="cpu", profile="lean")
    assert cell.id == "3.10-cpu-lean"
    assert cell.session == "ci-lean-3.10(cpu)"
    assert cell.as_dict()["session"] == "ci-lean-3.10(cpu)"


def test_cell_is_frozen_and_keyword_only():
    cell = Cell(python="3.10", accelerator="cpu", profile="lean")
    with pytest.raises(AttributeError):
        cell.python = "3.11"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Cell("3.10", "cpu", "lean")  # type: ignore[misc]


def test_full_product(make_project):
    matrix = expand(load_config(make_project()))
    assert len(matrix) == 12
    assert matrix.ids()[:3] == ["3.9-cpu-lean", "3.9-gpu-lean", "3.10-cpu-lean"]


def test_exclude_and_include(make_project):
    matrix = expand(
        load_config(
            make_project("""
        [tool.noxgrid]
        exclude = [{ python = "3.9", accelerator = "gpu" }, { profile = "full", accelerator = "cpu" }]
        include = [{ python = "3.12", accelerator = "cpu", profile = "lean" }]
        [tool.noxgrid.profile.lean]
        requirements = ["requirements/lean.in"]
        [tool.noxgrid.profile.full]
        requirements = ["requirements/full.in"]
    """)
        )
    )
    ids = matrix.ids()
    assert "3.9-gpu-lean" not in ids and "3.9-gpu-full" not in ids
    assert not any(i.endswith("-cpu-full") for i in ids)
    assert ids[-1] == "3.12-cpu-lean"
    assert len(ids) == 12 - 2 - 3 + 1


def test_include_of_an_existing_cell_is_not_duplicated(make_project):
    matrix = expand(
        load_config(
            make_project("""
        [tool.noxgrid]
        include = [{ python = "3.11", accelerator = "cpu", profile = "lean" }]
        [tool.noxgrid.profile.lean]
        requirements = ["requirements/lean.in"]
    """)
        )
    )
    assert matrix.ids().count("3.11-cpu-lean") == 1


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        (["3.10-cpu-lean"], ["3.10-cpu-lean"]),
        (["*-gpu-full"], ["3.9-gpu-full", "3.10-gpu-full", "3.11-gpu-full"]),
        (["3.1?-cpu-*"], ["3.10-cpu-lean", "3.11-cpu-lean", "3.10-cpu-full", "3.11-cpu-full"]),
        (
            ["lean"],
            [
                "3.9-cpu-lean",
                "3.9-gpu-lean",
                "3.10-cpu-lean",
                "3.10-gpu-lean",
                "3.11-cpu-lean",
                "3.11-gpu-lean",
            ],
        ),
        (
            ["3.9", "ci-full-3.11(gpu)"],
            ["3.9-cpu-lean", "3.9-gpu-lean", "3.9-cpu-full", "3.9-gpu-full", "3.11-gpu-full"],
        ),
    ],
)
def test_select(make_project, patterns, expected):
    matrix = expand(load_config(make_project()))
    assert matrix.select(patterns).ids() == expected


def test_select_nothing_lists_the_ids(make_project):
    matrix = expand(load_config(make_project()))
    with pytest.raises(SelectionError) as info:
        matrix.select(["3.12*"])
    assert "no cell matches '3.12*'" in str(info.value)
    assert "3.9-cpu-lean" in str(info.value)


def test_pythons_sorted_by_version(make_project):
    matrix = expand(load_config(make_project()))
    assert matrix.pythons() == ["3.9", "3.10", "3.11"]
