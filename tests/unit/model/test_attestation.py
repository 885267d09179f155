"""An image gets BuildKit's SBOM attestation where the builder and the image store keep it."""

from __future__ import annotations

import pytest

from noxgrid.model.attestation import builder_driver, containerd_store, sbom_attestation

DOCKER_DRIVER = "Name:   default\nDriver: docker\n\nNodes:\nName:      default\n"
CONTAINER = "Name:          builder\nDriver:        docker-container\nLast Activity: now\n"
CLASSIC = '[["Backing Filesystem","extfs"],["Supports d_type","true"]]'
CONTAINERD = '[["driver-type","io.containerd.snapshotter.v1"]]'


def test_the_builder_and_its_driver_are_read_from_buildx_inspect():
    assert builder_driver(DOCKER_DRIVER) == ("default", "docker")
    assert builder_driver(CONTAINER) == ("builder", "docker-container")
    assert builder_driver("") == ("", "")


@pytest.mark.parametrize(
    ("status", "expected"), [(CLASSIC, False), (CONTAINERD, True), ("", False), ("{x", False)]
)
def test_the_containerd_image_store_is_read_from_the_driver_status(status, expected):
    assert containerd_store(status) is expected


def test_without_buildx_there_is_no_attestation_and_the_reason_says_so():
    verdict = sbom_attestation(buildx=False, inspect=None, driver_status="")
    assert not verdict.supported
    assert verdict.why.startswith("the docker client has no buildx plugin")
    assert "fix: install docker-buildx" in verdict.why


def test_the_docker_driver_on_the_classic_store_has_none():
    verdict = sbom_attestation(buildx=True, inspect=DOCKER_DRIVER, driver_status=CLASSIC)
    assert not verdict.supported
    assert "the builder default (driver docker): the docker driver does not support" in verdict.why
    assert "containerd-snapshotter" in verdict.why


def test_another_driver_loading_into_the_classic_store_has_none():
    verdict = sbom_attestation(buildx=True, inspect=CONTAINER, driver_status=CLASSIC)
    assert not verdict.supported
    assert "`--load` into the engine's classic image store cannot hold it" in verdict.why


@pytest.mark.parametrize("inspect", [DOCKER_DRIVER, CONTAINER])
def test_the_containerd_store_keeps_it_whatever_the_driver(inspect):
    verdict = sbom_attestation(buildx=True, inspect=inspect, driver_status=CONTAINERD)
    assert verdict.supported and "containerd image store keeps it" in verdict.why


def test_a_failed_inspect_is_said():
    verdict = sbom_attestation(buildx=True, inspect=None, driver_status=CONTAINERD)
    assert not verdict.supported and "`docker buildx inspect` failed" in verdict.why
