"""What an image carries that it should not is listed with its size and the fix."""

from __future__ import annotations

import json

from noxgrid.model.image import AppTree
from noxgrid.model.waste import waste_findings


def test_waste_is_grouped_by_kind_largest_first_with_its_fix():
    output = "\n".join(
        json.dumps(entry)
        for entry in [
            {"kind": "pip-cache", "path": "/root/.cache/pip", "size": 52_000_000},
            {"kind": "apt-lists", "path": "/var/lib/apt/lists/a", "size": 9_000_000},
            {"kind": "apt-lists", "path": "/var/lib/apt/lists/b", "size": 8_000_000},
            {"kind": "wheel", "path": "/tmp/x-1.0-py3-none-any.whl", "size": 300},
            {"kind": "app-tests", "path": "/app/tests", "size": 40_000},
            {"kind": "unknown", "path": "/x", "size": 10},
        ]
    )
    found = waste_findings(AppTree.parse("noise\n" + output).waste)
    assert [w.kind for w in found] == ["pip-cache", "apt-lists", "app-tests", "wheel"]
    assert [w.kind for w in waste_findings(AppTree.parse(output).waste, minimum=1000)] == [
        "pip-cache",
        "apt-lists",
        "app-tests",
    ]
    assert found[0].render() == (
        "pip's download cache (52.0 MB): /root/.cache/pip; fix: pip install --no-cache-dir, "
        "or RUN --mount=type=cache,target=/root/.cache/pip"
    )
    assert "rm -rf /var/lib/apt/lists/*" in found[1].render() and found[1].size == 17_000_000
    assert found[2].render().startswith("the project's tests in /app (40.0 kB): /app/tests")
    assert "tests/` to .dockerignore" in found[2].fix
