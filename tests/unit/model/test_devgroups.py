from __future__ import annotations

import sys

import pytest
from packaging.requirements import Requirement

from noxgrid.model.devgroups import dev_groups, poetry_requirement, poetry_specifier

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ("^1.2.3", ">=1.2.3,<2.0.0"),
        ("^0.2.3", ">=0.2.3,<0.3.0"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("^1", ">=1,<2"),
        ("~1.2.3", ">=1.2.3,<1.3.0"),
        ("~1", ">=1,<2"),
        ("*", ""),
        ("1.2.*", "==1.2.*"),
        ("1.15.0", "==1.15.0"),
        (">= 1.2, < 1.5", ">=1.2,<1.5"),
        ("~=1.2", "~=1.2"),
        ("1.0 || 2.0", None),
    ],
)
def test_poetry_constraints_in_pep_440(constraint, expected):
    assert poetry_specifier(constraint) == expected


def test_poetry_tables_lists_and_sources():
    assert poetry_requirement("pytest", {"version": "^7", "extras": ["x"], "python": "^3.9"}) == [
        'pytest[x]>=7,<8; python_full_version >= "3.9" and python_full_version < "4.0"'
    ]
    assert poetry_requirement("lib", {"path": "../lib", "develop": True}) is None
    assert poetry_requirement("numpy", [{"version": "<2", "python": "<3.9"}, "^2"]) == [
        'numpy<2; python_full_version < "3.9"',
        "numpy>=2,<3",
    ]


DOCUMENT = """
[dependency-groups]
test = ["pytest>=8", {include-group = "lint"}]
lint = ["ruff"]

[tool.poetry.dependencies]
python = "^3.9"
scikit-learn = "1.3.2"

[tool.poetry.group.dev.dependencies]
pytest = "^7.4"
httpx = {version = "~0.25", extras = ["http2"]}
shared = {path = "libs/shared", develop = true}

[tool.poetry.dev-dependencies]
black = "*"

[tool.pdm.dev-dependencies]
test = ["pytest-cov", "-e file:///${PROJECT_ROOT}/sub#egg=sub"]

[tool.uv]
dev-dependencies = ["pytest-mock"]
"""


def test_every_tools_groups():
    groups = dev_groups(tomllib.loads(DOCUMENT))
    found = [(g.table, g.name, g.requirements, g.untranslated, g.pep735) for g in groups]
    assert found == [
        ("[dependency-groups]", "test", ("pytest>=8",), (), True),
        ("[dependency-groups]", "lint", ("ruff",), (), True),
        (
            "[tool.poetry.group.dev.dependencies]",
            "dev",
            ("pytest>=7.4,<8.0", "httpx[http2]>=0.25,<0.26"),
            ("shared = {'path': 'libs/shared', 'develop': True}",),
            False,
        ),
        ("[tool.poetry.dev-dependencies]", "dev", ("black",), (), False),
        (
            "[tool.pdm.dev-dependencies]",
            "test",
            ("pytest-cov",),
            ("-e file:///${PROJECT_ROOT}/sub#egg=sub",),
            False,
        ),
        ("[tool.uv] dev-dependencies", "dev", ("pytest-mock",), (), False),
    ]
    assert groups[0].includes == ("lint",)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            {"git": "https://github.com/o/r.git", "branch": "main"},
            "r @ git+https://github.com/o/r.git@main",
        ),
        (
            {"git": "https://github.com/o/r.git", "rev": "abc123", "subdirectory": "pkg"},
            "r @ git+https://github.com/o/r.git@abc123#subdirectory=pkg",
        ),
        ({"git": "git@github.com:o/r.git", "tag": "v1"}, "r @ git+ssh://git@github.com/o/r.git@v1"),
        (
            {"git": "https://h/r.git", "extras": ["torch"], "markers": "sys_platform == 'linux'"},
            "r[torch] @ git+https://h/r.git ; sys_platform == 'linux'",
        ),
        ({"url": "https://h/r-1.0.tar.gz"}, "r @ https://h/r-1.0.tar.gz"),
    ],
)
def test_poetry_git_and_url_sources_as_direct_references(value, expected):
    (line,) = poetry_requirement("r", value)
    assert line == expected
    Requirement(line)  # valid PEP 508
