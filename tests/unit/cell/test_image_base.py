"""measure_base's three answers, with a fake engine: the local base where it begins the image,
else the base's manifest read through buildx, else unknown with why."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from noxgrid.cell.image import _sizes, measure_base
from noxgrid.errors import NoxgridError
from noxgrid.model.basesize import BaseSize

IMAGE = {
    "Size": 500,
    "Os": "linux",
    "Architecture": "amd64",
    "RootFS": {"Layers": ["sha256:a", "sha256:b", "sha256:c"]},
}
BASE = {"Size": 130, "RootFS": {"Layers": ["sha256:a", "sha256:b"]}}
CONFIG = {"rootfs": {"diff_ids": ["sha256:a", "sha256:b"]}, "history": [{}, {}]}


class FakeDocker:
    def __init__(self, local: Any, config: Any, buildx: bool = True) -> None:
        self.local, self.config = local, config
        self.client = SimpleNamespace(buildx=buildx)

    def inspect_image(self, tag: str) -> Any:
        if self.local is None:
            raise NoxgridError(f"no such image: {tag}")
        return self.local

    def base_config(self, name: str) -> Any:
        return self.config

    def history_sizes(self, tag: str) -> list[int]:
        return [100, 30, 370]  # oldest first


def test_the_local_base_that_begins_the_image():
    found = measure_base(FakeDocker(BASE, None), "py", "img", IMAGE)  # type: ignore[arg-type]
    assert found.size == 130


def test_a_missing_base_measured_by_its_manifest():
    index = {"linux/amd64": CONFIG}
    found = measure_base(FakeDocker(None, index), "py", "img", IMAGE)  # type: ignore[arg-type]
    assert found.size == 130 and "by its manifest" in found.how


def test_a_moved_or_missing_base_without_a_manifest_is_unknown_and_says_why():
    moved = {"Size": 999, "RootFS": {"Layers": ["sha256:z"]}}
    found = measure_base(FakeDocker(moved, None, buildx=False), "py", "img", IMAGE)  # type: ignore[arg-type]
    assert found.size is None
    assert "not the base this image was built from" in found.problem
    assert "no buildx to ask" in found.problem
    missing = measure_base(FakeDocker(None, None), "py", "img", IMAGE)  # type: ignore[arg-type]
    assert missing.problem == "py is not in the local store, and its manifest could not be read"


def test_the_stage_line_never_shows_the_whole_image_as_the_projects():
    assert _sizes(500_000_000, BaseSize(size=150_000_000), 400_000_000, False) == (
        "500.0 MB = base 150.0 MB + the project's 350.0 MB"
    )
    unknown = BaseSize(size=None, problem="x")
    assert "size-budget NOT measured" in _sizes(500_000_000, unknown, 400_000_000, True)
    assert "whole image is within the size-budget" in _sizes(300_000_000, unknown, 4 * 10**8, False)
    assert "no size-budget" in _sizes(300_000_000, unknown, None, False)
