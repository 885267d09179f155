from __future__ import annotations

import pytest

from noxgrid.model.lockfile import parse_lock
from noxgrid.model.sizes import (
    PYC_PER_PY_BYTE,
    VENV_BASE_BYTES,
    DistFile,
    IndexUnavailable,
    PackageSize,
    SizeEstimate,
    installed_bytes,
    platform_tags,
    select_file,
)
from noxgrid.tools.index import PackageIndex


def dist(filename, sha="x", size=100):
    return DistFile(filename=filename, url=f"https://files.test/{filename}", size=size, sha256=sha)


FILES = [
    dist("numpy-2.1.0.tar.gz", "s0"),
    dist("numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "s1"),
    dist("numpy-2.1.0-cp311-cp311-musllinux_1_2_x86_64.whl", "s2"),
    dist("numpy-2.1.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "s3"),
    dist("numpy-2.1.0-cp311-cp311-manylinux_2_28_aarch64.whl", "s4"),
    dist("numpy-2.1.0-cp311-cp311-win_amd64.whl", "s5"),
]


def test_select_the_wheel_for_the_cell():
    tags = platform_tags("3.11", "x86_64-manylinux_2_28")
    assert select_file(FILES, tags).sha256 == "s1"
    assert select_file(FILES, platform_tags("3.10", "x86_64-manylinux_2_28")).sha256 == "s3"
    assert select_file(FILES, platform_tags("3.11", "aarch64-manylinux_2_28")).sha256 == "s4"


def test_select_prefers_the_newest_manylinux_and_abi3_after_exact():
    files = [
        dist("a-1-cp39-abi3-manylinux_2_17_x86_64.whl", "abi3"),
        dist("a-1-cp311-cp311-manylinux_2_28_x86_64.whl", "exact"),
        dist("a-1-py3-none-any.whl", "pure"),
    ]
    tags = platform_tags("3.11", "x86_64-manylinux_2_28")
    assert select_file(files, tags).sha256 == "exact"
    assert select_file(files[:1] + files[2:], tags).sha256 == "abi3"
    assert select_file(files[2:], tags).sha256 == "pure"


def test_select_is_limited_to_the_locks_hashes_and_falls_back_to_the_sdist():
    tags = platform_tags("3.11", "x86_64-manylinux_2_28")
    assert select_file(FILES, tags, hashes=["sha256:s0"]).sha256 == "s0"
    assert select_file(FILES, tags, hashes=["sha256:nope"]) is None


def test_a_glibc_too_old_for_the_wheel_finds_nothing():
    files = [dist("b-1-cp311-cp311-manylinux_2_34_x86_64.whl")]
    assert select_file(files, platform_tags("3.11", "x86_64-manylinux_2_28")) is None


def test_unknown_platform_is_a_clear_error():
    with pytest.raises(IndexUnavailable, match="cannot size wheels for platform 'windows'"):
        platform_tags("3.11", "windows")


def test_installed_bytes_adds_the_compiled_bytecode_of_the_python_version():
    assert installed_bytes(6100, 1000, "3.9") == 6100 + int(1000 * PYC_PER_PY_BYTE[(3, 9)])
    assert installed_bytes(6100, 1000, "3.11") == 6100 + int(1000 * PYC_PER_PY_BYTE[(3, 11)])
    assert installed_bytes(6100, 1000, "3.13") == installed_bytes(6100, 1000, "3.11")


def test_estimate_totals_and_largest():
    estimate = SizeEstimate(
        packages=(
            PackageSize(
                name="a", version="1", filename="a.whl", download=10, installed=30, exact=True
            ),
            PackageSize(
                name="b", version="2", filename="b.whl", download=5, installed=50, exact=True
            ),
        ),
        unknown=(),
    )
    assert estimate.download == 15 and estimate.installed == VENV_BASE_BYTES + 80
    assert estimate.largest(1) == [("b==2", 50)]


class OfflineIndex(PackageIndex):
    """The index with its network answers replaced: files per release, sizes per wheel."""

    def __init__(self, tmp_path, files, contents):
        super().__init__("https://index.test/simple", cache=tmp_path)
        self.files, self.contents = files, contents

    def release_files(self, name, version):
        return self.files.get(name, [])

    def wheel_contents_size(self, file):
        return self.contents.get(file.sha256)


def test_estimate_a_lock(tmp_path):
    lock = parse_lock(
        "numpy==2.1.0 \\\n    --hash=sha256:s1\n    # via -r a.in\n"
        "ghost==1.0 \\\n    --hash=sha256:zz\n    # via -r a.in\n"
        "oldpkg==0.1 \\\n    --hash=sha256:s9\n    # via -r a.in\n"
    )
    index = OfflineIndex(
        tmp_path,
        {"numpy": FILES, "oldpkg": [dist("oldpkg-0.1.tar.gz", "s9", 1000)]},
        {"s1": (40_000, 0)},
    )
    estimate = index.estimate(lock, "3.11", "x86_64-manylinux_2_28")
    assert estimate.unknown == ("ghost==1.0",)
    sizes = {p.name: p for p in estimate.packages}
    assert sizes["numpy"].installed == 40_000 and sizes["numpy"].exact
    assert sizes["oldpkg"].installed == 2500 and not sizes["oldpkg"].exact, "sdist: estimated"
