"""Distributions that write the same files on purpose (an exclusive allowance): the venv's
proof takes keep's files as keep's, and the doctor tells whose copy is on disk."""

from __future__ import annotations

from pathlib import Path

from noxgrid.model.installed import file_hash, manifest_of, not_kept, prove, read_installed
from noxgrid.model.lockfile import Lock, LockedPackage


def dist(site: Path, name: str, files: dict[str, bytes]) -> None:
    """A dist-info whose RECORD lists ``files`` with their hashes and sizes as given."""
    info = site / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Name: {name}\nVersion: 1.0\n\n")
    rows = []
    for path, content in files.items():
        target = site / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        rows.append(f"{path},{file_hash(target)},{len(content)}")
    (info / "RECORD").write_text("\n".join(rows) + "\n")


def venv(tmp_path: Path) -> tuple[Path, Path]:
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    dist(site, "opencv-python", {"cv2/__init__.py": b"headless", "cv2/data.xml": b"x"})
    # contrib installed last: its copy of the shared file is on disk (another size).
    dist(site, "opencv-contrib-python", {"cv2/__init__.py": b"contrib!!", "cv2/extra.py": b"e"})
    return tmp_path / "venv", site


LOCK = Lock(
    header={},
    packages={
        name: LockedPackage(name=name, version="1.0", hashes=("sha256:00",), via=())
        for name in ("opencv-python", "opencv-contrib-python")
    },
)


def test_the_proof_takes_keeps_files_as_keeps(tmp_path):
    root, _ = venv(tmp_path)
    installed = read_installed(root)
    manifest = manifest_of(LOCK, installed)["packages"]
    assert prove(LOCK, installed, manifest).changed == ("opencv-python",), "as before"
    assert prove(LOCK, installed, manifest, keep=["opencv-contrib-python"]).equal


def test_the_doctor_proves_the_shared_files_are_keeps(tmp_path):
    root, site = venv(tmp_path)
    assert not_kept(read_installed(root), "opencv-contrib-python", ["opencv-python"]) == []
    (site / "cv2" / "__init__.py").write_bytes(b"headless")  # the other one won this time
    assert not_kept(read_installed(root), "opencv-contrib-python", ["opencv-python"]) == [
        ("cv2/__init__.py", "opencv-python")
    ]
