"""The uv floor noxgrid checks at run time is the one pyproject.toml declares."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from noxgrid.tools.uv import UV_FLOOR, too_old

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_the_floor_is_the_declared_one():
    pyproject = Path(__file__).resolve().parents[3] / "pyproject.toml"
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    (declared,) = [m.group(1) for d in dependencies if (m := re.fullmatch(r"uv>=([0-9.]+)", d))]
    assert tuple(int(part) for part in declared.split(".")) == UV_FLOOR


def test_an_older_uv_is_named_with_the_floor():
    assert too_old("uv 0.6.15 (abc 2025-04-15)") is None
    assert too_old("uv 0.13.9 (x86_64-unknown-linux-gnu)") is None
    assert (
        too_old("uv 0.6.14") == "uv 0.6.14 is older than uv 0.6.15, the lowest noxgrid works with"
    )
    assert too_old("something else") is None
