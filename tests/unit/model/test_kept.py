"""An exclusive group in an image: the Dockerfile must install keep last, and the proof that
the files the group shares are keep's, read from an image's file system."""

from __future__ import annotations

import hashlib
import io
import tarfile

from noxgrid.model.kept import (
    TarFiles,
    dist_records,
    keep_last_problem,
    not_kept_failure,
    prove_in_image,
    record_hash,
    record_rows,
    shared_paths,
    whose,
)

SITE = "/opt/venv/lib/python3.11/site-packages"
KEEP, OTHER = "opencv-contrib-python-headless", "opencv-python-headless"


def h(content: bytes) -> str:
    return record_hash(hashlib.sha256(content).digest())


def record(files: dict[str, bytes]) -> str:
    rows = [f"{path},{h(content)},{len(content)}" for path, content in files.items()]
    return "\n".join([*rows, "cv2/__pycache__/x.cpython-311.pyc,,", "RECORD,,"]) + "\n"


CONTRIB = {"cv2/__init__.py": b"same", "cv2/cv2.abi3.so": b"contrib", "cv2/xfeatures.py": b"x"}
HEADLESS = {"cv2/__init__.py": b"same", "cv2/cv2.abi3.so": b"headless", "cv2/data.xml": b"d"}


class Image:
    """A synthetic image file system: path -> content."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    def text(self, path: str) -> str | None:
        data = self.files.get(path)
        return None if data is None else data.decode()

    def record_hash(self, path: str) -> str | None:
        data = self.files.get(path)
        return None if data is None else h(data)


def image(on_disk: dict[str, bytes]) -> Image:
    files = {
        f"{SITE}/opencv_contrib_python_headless-4.10.0.84.dist-info/RECORD": record(
            CONTRIB
        ).encode(),
        f"{SITE}/opencv_python_headless-4.10.0.84.dist-info/RECORD": record(HEADLESS).encode(),
        # pip of the base image's own Python: another site-packages folder, not judged
        "/usr/local/lib/python3.11/site-packages/pip-24.0.dist-info/RECORD": b"pip/x.py,,\n",
    }
    files.update({f"{SITE}/{path}": content for path, content in on_disk.items()})
    return Image(files)


def test_a_record_names_its_files_hashes():
    rows = record_rows(record(CONTRIB))
    assert rows["cv2/cv2.abi3.so"] == h(b"contrib") and rows["RECORD"] == ""


def test_only_what_both_records_hash_is_shared_and_bytecode_is_left_out():
    ours, theirs = record_rows(record(CONTRIB)), record_rows(record(HEADLESS))
    assert shared_paths(ours, {OTHER: theirs}) == ["cv2/__init__.py", "cv2/cv2.abi3.so"]


def test_whose_names_the_member_whose_copy_is_on_disk():
    ours, theirs = record_rows(record(CONTRIB)), {OTHER: record_rows(record(HEADLESS))}
    kept = {"cv2/__init__.py": h(b"same"), "cv2/cv2.abi3.so": h(b"contrib")}
    assert whose(ours, theirs, kept) == []
    lost = {**kept, "cv2/cv2.abi3.so": h(b"headless")}
    assert whose(ours, theirs, lost) == [("cv2/cv2.abi3.so", OTHER)]
    odd = {**kept, "cv2/cv2.abi3.so": h(b"patched"), "cv2/__init__.py": None}
    assert whose(ours, theirs, odd) == [
        ("cv2/__init__.py", ""),
        ("cv2/cv2.abi3.so", "another copy"),
    ]


def test_records_are_found_by_site_folder_and_distribution():
    found = dist_records(image({}).files)
    assert set(found) == {SITE, "/usr/local/lib/python3.11/site-packages"}
    assert set(found[SITE]) == {KEEP, OTHER}
    nested = f"{SITE}/vendored/inner-1.0.dist-info/RECORD"
    assert dist_records([nested]) == {}, "a RECORD below a package is no distribution's"


def test_the_image_proof_passes_when_keeps_files_won_and_names_the_other_when_not():
    won = image({**HEADLESS, **CONTRIB})
    assert prove_in_image(won.files, won, KEEP, [OTHER]) == (True, [])
    lost = image({**CONTRIB, **HEADLESS})
    assert prove_in_image(lost.files, lost, KEEP, [OTHER]) == (
        True,
        [("cv2/cv2.abi3.so", OTHER)],
    )
    alone = Image({k: v for k, v in won.files.items() if "opencv_python_headless" not in k})
    assert prove_in_image(alone.files, alone, KEEP, [OTHER]) == (False, [])


def test_the_failure_reads_as_the_venvs():
    text = not_kept_failure(KEEP, [OTHER], [("cv2/cv2.abi3.so", OTHER)], "do this")
    assert text == (
        f"1 file(s) that {KEEP} shares with {OTHER} are not {KEEP}'s, though the exclusive "
        f"allowance keeps it: cv2/cv2.abi3.so is {OTHER}'s copy; fix: do this"
    )
    gone = not_kept_failure(KEEP, [OTHER], [("cv2/a.py", ""), ("cv2/b.py", OTHER)], "x")
    assert "are not opencv-contrib-python-headless's" in gone and ": cv2/a.py is gone; " in gone


def test_an_exported_image_is_read_the_same_way(tmp_path):
    archive = tmp_path / "image.tar"
    won = image({**HEADLESS, **CONTRIB})
    with tarfile.open(archive, "w") as tar:
        for path, content in won.files.items():
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        folder = tarfile.TarInfo(f"{SITE}/cv2".lstrip("/"))
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
        link = tarfile.TarInfo(f"{SITE}/cv2/linked.so".lstrip("/"))
        link.type = tarfile.LNKTYPE
        link.linkname = f"{SITE}/cv2/cv2.abi3.so".lstrip("/")
        tar.addfile(link)
    with tarfile.open(archive, "r:") as tar:
        files = TarFiles(tar)
        assert prove_in_image(list(files.members), files, KEEP, [OTHER]) == (True, [])
        assert files.record_hash(f"{SITE}/cv2/linked.so") == h(b"contrib"), "a hard link"
        assert files.record_hash(f"{SITE}/cv2") is None, "a folder"


def test_a_dockerfile_without_keep_last_is_refused_with_the_fix():
    assert keep_last_problem("FROM x\n", "docker/Dockerfile", []) is None, "nothing to keep"
    assert keep_last_problem('FROM x\nARG KEEP_LAST=""\n', "docker/Dockerfile", [KEEP]) is None
    problem = keep_last_problem("FROM x\nARG KEEP_LASTING\n", "docker/Dockerfile", [KEEP])
    assert problem is not None
    assert problem.startswith(f"the cell allows an exclusive group on purpose, keeping {KEEP}")
    assert "docker/Dockerfile has no `ARG KEEP_LAST`" in problem
    assert "fix: " in problem and '--reinstall-package "$keep" /tmp/pylock.toml' in problem
