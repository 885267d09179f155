"""What an image carries that it should not is listed with its size and the fix."""

from __future__ import annotations

import json

from noxgrid.model.image import AppTree
from noxgrid.model.waste import intended, waste_findings, waste_problem


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
    assert [w.kind for w in found] == ["pip-cache", "apt-lists", "wheel"]
    assert [w.kind for w in waste_findings(AppTree.parse(output).waste, minimum=1000)] == [
        "pip-cache",
        "apt-lists",
    ]
    assert intended(AppTree.parse(output).waste) == [("its tests for --in-image", 40_000)]
    assert found[0].render() == (
        "pip's download cache (52.0 MB): /root/.cache/pip; fix: pip install --no-cache-dir, "
        "or RUN --mount=type=cache,target=/root/.cache/pip"
    )
    assert "rm -rf /var/lib/apt/lists/*" in found[1].render() and found[1].size == 17_000_000


def test_waste_over_the_limit_fails_with_its_size_paths_and_fix():
    entries = [
        {"kind": "wheel", "path": "/app/wheels/torch-2.0-cp311-none-any.whl", "size": 8_000_000},
        {"kind": "wheel", "path": "/tmp/wheels/numpy-2.0-cp311-none-any.whl", "size": 3_000_000},
        {"kind": "pip-cache", "path": "/root/.cache/pip", "size": 4_000_000},
        {"kind": "app-tests", "path": "/app/tests", "size": 90_000_000},
    ]
    found = waste_findings(entries)
    problem = waste_problem(found, 10_000_000)
    assert problem is not None
    assert problem.startswith("the image carries 15.0 MB of waste, over the 10.0 MB")
    assert "[tool.noxgrid.docker] waste" in problem
    assert "wheel files (11.0 MB): /app/wheels/torch-2.0-cp311-none-any.whl, /tmp/wheels/" in (
        problem
    )
    assert "pip's download cache (4.0 MB): /root/.cache/pip; fix: pip install --no-cache-dir" in (
        problem
    )
    assert 'waste = "note"' in problem
    assert waste_problem(found, 15_000_000) is None, "at the limit is not over it"
    assert waste_problem(found, None) is None, "waste = note: only noted"
    assert waste_problem([], 0) is None
