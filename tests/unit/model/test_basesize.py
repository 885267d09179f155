"""The image budget's base, read from the image's own layers: the local base only where it
is the one the image was built from, else by the base's manifest, else unknown and said."""

from __future__ import annotations

from noxgrid.model.basesize import (
    BaseSize,
    from_config,
    from_local,
    history_sizes,
    is_prefix,
    platform_config,
    unmeasured_budget,
)

IMAGE = {"Size": 500, "RootFS": {"Layers": ["sha256:a", "sha256:b", "sha256:c", "sha256:d"]}}
BASE = {"Size": 130, "RootFS": {"Layers": ["sha256:a", "sha256:b"]}}
# The base's config, as its manifest gives it: 3 history entries (one made no layer).
CONFIG = {
    "rootfs": {"type": "layers", "diff_ids": ["sha256:a", "sha256:b"]},
    "history": [{"created_by": "ADD rootfs"}, {"empty_layer": True}, {"created_by": "RUN apt"}],
}
# The image's history, newest first, as `docker history --format {{.Size}} --human=false`.
HISTORY = "0\n300\n70\n0\n100\n0\n30\n"


def test_the_local_base_counts_only_when_its_layers_begin_the_image():
    assert from_local(IMAGE, BASE, "python:3.11") == BaseSize(
        size=130, how="the base in the local store"
    )
    moved = {"Size": 140, "RootFS": {"Layers": ["sha256:x", "sha256:b"]}}
    found = from_local(IMAGE, moved, "python:3.11")
    assert found.size is None and "tag was pulled or built again" in found.problem
    assert not is_prefix([], ["sha256:a"]) and not is_prefix(["a", "b"], ["a"])


def test_a_base_not_in_the_store_is_measured_in_the_image_by_its_manifest():
    sizes = history_sizes(HISTORY)
    assert sizes == [30, 0, 100, 0, 70, 300, 0]
    found = from_config(IMAGE, sizes, CONFIG, "python:3.11")
    assert found.size == 130, "the first three entries: 30 + 0 + 100"
    assert "first 2 layers" in found.how
    other = {**CONFIG, "rootfs": {"diff_ids": ["sha256:z"]}}
    assert from_config(IMAGE, sizes, other, "python:3.11").size is None
    assert from_config(IMAGE, sizes, {**CONFIG, "history": []}, "b").size is None


def test_an_index_gives_the_config_of_the_images_platform():
    index = {"linux/arm64": {"rootfs": {"diff_ids": ["x"]}}, "linux/amd64": CONFIG}
    assert platform_config(index, "linux", "amd64") is CONFIG
    assert platform_config(CONFIG, "linux", "amd64") is CONFIG
    assert platform_config(None, "linux", "amd64") is None
    assert platform_config({"linux/s390x": CONFIG}, "linux", "amd64") is None


def test_an_unknown_base_never_turns_the_budget_into_the_whole_image():
    unknown = BaseSize(size=None, problem="python:3.11 is not in the local store")
    said = unmeasured_budget(500_000_000, 400_000_000, unknown, "python:3.11")
    assert said is not None
    assert "could NOT be measured: python:3.11 is not in the local store" in said
    assert "docker pull python:3.11" in said
    # Within the budget as a whole: within it whatever the base is.
    assert unmeasured_budget(300_000_000, 400_000_000, unknown, "python:3.11") is None
    assert unmeasured_budget(500_000_000, None, unknown, "python:3.11") is None
    known = BaseSize(size=200_000_000)
    assert unmeasured_budget(500_000_000, 400_000_000, known, "python:3.11") is None
