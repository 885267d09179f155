"""The size of an image's base, read from the image's own layers. Pure.

The image budget is what the project adds on top of its base, so the base's
size must be the one the image was built from. A base in the local store is
that one only when its layers are the image's first ones (a tag pulled again
since the build is another image). A base that is not in the local store (a
BuildKit builder other than the engine, such as the docker-container one
setup-buildx-action creates, keeps it to itself) is measured in the image: its
config (from its manifest) says how many history entries and which layers are
the base's, and the image's own history gives their sizes as unpacked here.
Where neither is known the base size is unknown, and the caller says that the
budget could not be measured: it is never silently the whole image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class BaseSize:
    """The base's size in the image (None: unknown), how it was read, or why not."""

    size: int | None
    how: str = ""
    problem: str = ""


def image_layers(inspect: Mapping[str, Any]) -> list[str]:
    """The layer digests (diff ids) of ``docker image inspect``'s RootFS, base first."""
    return [str(layer) for layer in ((inspect.get("RootFS") or {}).get("Layers") or [])]


def is_prefix(base: Sequence[str], image: Sequence[str]) -> bool:
    """True when the base's layers are the image's first ones (and there is one at least)."""
    return bool(base) and len(base) <= len(image) and list(image[: len(base)]) == list(base)


def from_local(image: Mapping[str, Any], base: Mapping[str, Any], name: str) -> BaseSize:
    """The base as the local store has it, if it is the one ``image`` was built from."""
    if not is_prefix(image_layers(base), image_layers(image)):
        return BaseSize(
            size=None,
            problem=f"the local {name} is not the base this image was built from (its "
            "layers are not the image's first ones: the tag was pulled or built again since)",
        )
    return BaseSize(size=int(base.get("Size", 0)), how="the base in the local store")


def history_sizes(output: str) -> list[int]:
    """``docker history --format '{{.Size}}' --human=false`` (newest first) as sizes, oldest
    first: one per history entry, an entry that made no layer 0."""
    sizes = []
    for line in output.split():
        sizes.append(int(line) if line.isdigit() else 0)
    return sizes[::-1]


def platform_config(document: Any, os_name: str, architecture: str) -> Mapping[str, Any] | None:
    """The image config of one platform from ``imagetools inspect --format '{{json .Image}}'``
    (a config, or a map of platform to config for an index)."""
    if not isinstance(document, Mapping):
        return None
    if "rootfs" in document:
        return document
    wanted = f"{os_name}/{architecture}"
    for platform, config in document.items():
        if str(platform).split("/")[:2] == wanted.split("/")[:2] and isinstance(config, Mapping):
            return config
    return None


def from_config(
    image: Mapping[str, Any], sizes: Sequence[int], config: Mapping[str, Any], name: str
) -> BaseSize:
    """The base measured in the image: its config's history entries are the image's first
    ones (``sizes``: the image's history, oldest first), its diff ids the first layers."""
    diff_ids = [str(d) for d in ((config.get("rootfs") or {}).get("diff_ids") or [])]
    entries = len(config.get("history") or [])
    if not is_prefix(diff_ids, image_layers(image)):
        return BaseSize(
            size=None,
            problem=f"the manifest of {name} names other layers than the image's first ones "
            "(the tag moved since the build)",
        )
    if not entries or entries > len(sizes):
        return BaseSize(size=None, problem=f"the config of {name} has no usable history")
    return BaseSize(
        size=sum(sizes[:entries]),
        how=f"the image's first {len(diff_ids)} layers, the base's by its manifest",
    )


def unmeasured_budget(size: int, budget: int | None, base: BaseSize, name: str) -> str | None:
    """Why the size budget cannot be judged (None: it can): the base's size is unknown and
    the whole image is over the budget, which says nothing of what the project adds. (A
    whole image within the budget is within it whatever the base is.)"""
    if budget is None or base.size is not None or size <= budget:
        return None
    return (
        f"the size budget ({budget / 1e6:.1f} MB, what the project adds on top of its base) "
        f"could NOT be measured: {base.problem}; the whole image is {size / 1e6:.1f} MB; "
        f"fix: make the base readable here (`docker pull {name}`, or build with the engine's "
        "own builder: `docker buildx use default`), then run the image stage again"
    )
