"""Installed files proved against their RECORD hashes: what is hashed, what only stat'ed,
and what a file that differs reads as."""

from __future__ import annotations

import os
from pathlib import Path

from noxgrid.cell.fileproof import prove_files, tamper_failure
from noxgrid.model.installed import file_hash, manifest_of, read_installed
from noxgrid.model.lockfile import Lock, LockedPackage
from noxgrid.model.recordproof import differing_files, stat_digest, to_hash


def dist(site: Path, name: str, files: dict[str, bytes]) -> None:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Name: {name}\nVersion: 1.0\n\n")
    rows = []
    for path, content in files.items():
        target = site / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        rows.append(f"{path},{file_hash(target)},{len(content)}")
    rows.append(f"{info.name}/RECORD,,")
    (info / "RECORD").write_text("\n".join(rows) + "\n")


LOCK = Lock(
    header={},
    packages={
        name: LockedPackage(name=name, version="1.0", hashes=("sha256:00",), via=())
        for name in ("six", "idna")
    },
)


def make(tmp_path: Path) -> tuple[Path, Path]:
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    dist(site, "six", {"six.py": b"print('six')\n"})
    dist(site, "idna", {"idna/__init__.py": b"x = 1\n", "idna/core.py": b"y = 2\n"})
    return tmp_path / "venv", site


def test_a_file_edited_with_the_same_size_is_found_by_its_hash(tmp_path):
    root, site = make(tmp_path)
    (site / "six.py").write_bytes(b"print('SIX')\n")  # same size: the old proof saw nothing
    installed = read_installed(root)
    assert differing_files(installed["six"]) == ["six.py"]
    assert differing_files(installed["idna"]) == []
    proof = prove_files(installed, LOCK, None)
    assert [item.name for item in proof.tampered] == ["six"]
    assert "six" not in proof.stats and "idna" in proof.stats, "an altered one is not recorded"
    message = tamper_failure(proof)
    assert "six 1.0: six.py differs from the hash its RECORD lists" in message
    assert "uv's cache holds an altered copy" in message
    assert "fix: uv cache clean six" in message


def test_a_file_gone_differs(tmp_path):
    root, site = make(tmp_path)
    (site / "idna" / "core.py").unlink()
    assert differing_files(read_installed(root)["idna"]) == ["idna/core.py"]


def test_what_was_hashed_and_did_not_move_is_not_hashed_again(tmp_path):
    root, site = make(tmp_path)
    installed = read_installed(root)
    first = prove_files(installed, LOCK, None)
    assert (first.hashed, first.checked) == (2, 2), "nothing recorded: everything hashed"
    manifest = manifest_of(LOCK, installed, first.stats)["packages"]
    again = prove_files(installed, LOCK, manifest)  # type: ignore[arg-type]
    assert (again.hashed, again.checked) == (0, 2)
    assert again.detail().startswith("0 hashed against their RECORD, 2 unchanged since (stat) in ")
    # a write moves the file's modification time: that one is hashed again, and found
    path = site / "six.py"
    path.write_bytes(b"print('SIX')\n")
    stamp = path.stat().st_mtime_ns + 1_000_000
    os.utime(path, ns=(stamp, stamp))
    stats = {key: stat_digest(installed[key]) for key in LOCK.packages}
    assert to_hash(installed, manifest, stats) == ["six"]  # type: ignore[arg-type]
    third = prove_files(installed, LOCK, manifest)  # type: ignore[arg-type]
    assert third.hashed == 1 and [item.name for item in third.tampered] == ["six"]


def test_a_file_replaced_is_hashed_again_though_its_time_and_size_are_the_same(tmp_path):
    root, site = make(tmp_path)
    installed = read_installed(root)
    manifest = manifest_of(LOCK, installed, prove_files(installed, LOCK, None).stats)
    path = site / "six.py"
    info = path.stat()
    replacement = site / "six.tmp"
    replacement.write_bytes(path.read_bytes())
    os.utime(replacement, ns=(info.st_atime_ns, info.st_mtime_ns))
    replacement.replace(path)  # a new inode: uv linking another copy in
    proof = prove_files(installed, LOCK, manifest["packages"])  # type: ignore[arg-type]
    assert proof.hashed == 1 and not proof.tampered


def test_kept_files_are_not_judged_against_the_others_record(tmp_path):
    root, site = make(tmp_path)
    dist(site, "other", {"idna/core.py": b"z = 33\n"})  # writes idna's file, installed last
    lock = Lock(
        header={},
        packages={
            **LOCK.packages,
            "other": LockedPackage(name="other", version="1.0", hashes=("sha256:0",), via=()),
        },
    )
    installed = read_installed(root)
    assert [t.name for t in prove_files(installed, lock, None).tampered] == ["idna"]
    assert not prove_files(installed, lock, None, keep=["other"]).tampered


def test_bytecode_the_install_compiled_again_is_not_a_tampered_file(tmp_path):
    root = tmp_path / "venv"
    site = root / "lib" / "python3.9" / "site-packages"
    shipped = "numpy/distutils/__pycache__/conv_template.cpython-39.pyc"
    dist(site, "numpy", {"numpy/__init__.py": b"x = 1\n", shipped: b"as the wheel shipped it"})
    numpy = read_installed(root)["numpy"]
    before = stat_digest(numpy)
    (site / shipped).write_bytes(b"compiled again by uv --compile-bytecode")
    assert differing_files(numpy) == []
    assert stat_digest(numpy) == before, "rewritten bytecode does not send it to be hashed"
    (site / "numpy" / "__init__.py").write_bytes(b"x = 2\n")
    assert differing_files(numpy) == ["numpy/__init__.py"], "the source is still proved"
