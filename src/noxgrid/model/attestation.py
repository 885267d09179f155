"""Whether BuildKit can attach an SBOM attestation to the images noxgrid builds, and why not.

Pure: reads what ``docker buildx inspect`` and ``docker info`` said. noxgrid
builds with ``--load`` into the engine, so an attestation (kept in an image
index beside the image) survives only where the engine's image store can hold
an index: the containerd image store. On the classic store the ``docker``
driver refuses attestations ("Attestation is not supported for the docker
driver") and any other driver's ``--load`` fails ("docker exporter does not
currently support exporting manifest lists"): noxgrid then builds without one
and the release says so. Without the buildx plugin (engine 20.10's client
building through DOCKER_BUILDKIT=1) there is no attestation at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

CONTAINERD_STORE = "io.containerd.snapshotter"
FIX = (
    "turn on the engine's containerd image store "
    '("features": {"containerd-snapshotter": true} in /etc/docker/daemon.json)'
)


@dataclass(frozen=True, kw_only=True)
class Attestation:
    """Whether builds get ``--sbom=true``, and the reason, one line."""

    supported: bool
    why: str


def builder_driver(inspect: str) -> tuple[str, str]:
    """(name, driver) of the builder ``docker buildx inspect`` describes ("" when not said)."""
    name = re.search(r"^Name:\s*(\S+)", inspect, re.MULTILINE)
    driver = re.search(r"^Driver:\s*(\S+)", inspect, re.MULTILINE)
    return (name.group(1) if name else "", driver.group(1) if driver else "")


def containerd_store(driver_status: str) -> bool:
    """True when ``docker info``'s DriverStatus (JSON) names the containerd snapshotter."""
    try:
        pairs = json.loads(driver_status or "null") or []
    except ValueError:
        return False
    return any(
        isinstance(pair, list) and CONTAINERD_STORE in " ".join(map(str, pair)) for pair in pairs
    )


def sbom_attestation(*, buildx: bool, inspect: str | None, driver_status: str) -> Attestation:
    """Whether an SBOM attestation can be built and kept, from what docker said.

    ``inspect``: the output of ``docker buildx inspect`` (None when it failed);
    ``driver_status``: ``docker info --format '{{json .DriverStatus}}'``.
    """
    if not buildx:
        return Attestation(
            supported=False,
            why="the docker client has no buildx plugin (BuildKit through DOCKER_BUILDKIT=1 "
            "makes no attestations); fix: install docker-buildx and " + FIX,
        )
    if inspect is None:
        return Attestation(
            supported=False, why="`docker buildx inspect` failed: the builder is not known"
        )
    name, driver = builder_driver(inspect)
    builder = f"the builder {name or '(unnamed)'} (driver {driver or 'not said'})"
    if containerd_store(driver_status):
        return Attestation(
            supported=True,
            why=f"{builder} attaches it, and the engine's containerd image store keeps it",
        )
    if driver == "docker":
        return Attestation(
            supported=False,
            why=f"{builder}: the docker driver does not support attestations on the classic "
            f"image store; fix: {FIX}",
        )
    return Attestation(
        supported=False,
        why=f"{builder} can make one, but `--load` into the engine's classic image store "
        f"cannot hold it; fix: {FIX}",
    )


NOTE = "image SBOM attestation: "


def attestation_note(attestation: Attestation) -> str:
    """The note a cell records when it built its image: what the release reads back."""
    what = "attached" if attestation.supported else "none"
    return f"{NOTE}{what}: {attestation.why}"


@dataclass(frozen=True, kw_only=True)
class ImageAttestation:
    """Whether a cell's image was built with BuildKit's SBOM attestation, and why not."""

    cell: str
    attached: bool
    why: str

    def line(self) -> str:
        what = "with" if self.attached else "without"
        return f"{self.cell}: image built {what} an SBOM attestation: {self.why}"

    def as_dict(self) -> dict[str, object]:
        return {"cell": self.cell, "attestation": self.attached, "why": self.why}


def read_attestation(cell: str, notes: Sequence[str]) -> ImageAttestation:
    """What a cell's notes say of its image's attestation (a cell run by an older
    noxgrid recorded nothing: said so)."""
    for note in notes:
        if note.startswith(NOTE):
            what, _, why = note.removeprefix(NOTE).partition(": ")
            return ImageAttestation(cell=cell, attached=what == "attached", why=why)
    return ImageAttestation(
        cell=cell, attached=False, why="not recorded (the cell ran with an older noxgrid)"
    )
