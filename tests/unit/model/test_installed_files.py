"""Every file a RECORD lists is there at its size (one stat per file, the path resolved
by the system), and a folder's size counts each file once, links not followed."""

from __future__ import annotations

import os

from noxgrid.files import directory_size
from noxgrid.model.installed import Installed


def _venv(tmp_path):
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    dist_info = site / "tool-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (site / "tool").mkdir()
    (site / "tool" / "__init__.py").write_text("x = 1\n")
    (site / "tool" / "data.txt").write_text("abc")
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir()
    (bin_dir / "tool").write_text("#!python\n")
    rows = [
        "tool/__init__.py,sha256=a,6",
        "tool/data.txt,sha256=b,3",
        "../../../bin/tool,sha256=c,9",
        "tool/gone.py,sha256=d,4",
        "tool-1.0.dist-info/RECORD,,",
    ]
    (dist_info / "RECORD").write_text("\n".join(rows) + "\n")
    return site, Installed(name="tool", version="1.0", dist_info=dist_info, record_sha256="")


def test_a_file_gone_or_of_another_size_is_named_and_a_script_outside_site_is_found(tmp_path):
    site, dist = _venv(tmp_path)
    assert dist.missing_files() == ["tool/gone.py"]
    (site / "tool" / "data.txt").write_text("abcd")
    (tmp_path / "venv" / "bin" / "tool").unlink()
    assert dist.missing_files() == ["tool/data.txt", "../../../bin/tool", "tool/gone.py"]
    # paths another distribution holds on purpose are not judged here
    assert dist.missing_files({"tool/data.txt", "tool/gone.py"}) == ["../../../bin/tool"]


def test_a_linked_file_counts_at_the_size_of_what_it_points_to(tmp_path):
    site, dist = _venv(tmp_path)
    real = tmp_path / "elsewhere.txt"
    real.write_text("xyz")
    (site / "tool" / "data.txt").unlink()
    os.symlink(real, site / "tool" / "data.txt")
    assert dist.missing_files() == ["tool/gone.py"]
    os.symlink(tmp_path / "nowhere", site / "tool" / "gone.py")
    assert dist.missing_files() == ["tool/gone.py"]  # a dangling link is a missing file


def test_a_folders_size_counts_files_and_links_themselves_not_what_they_point_to(tmp_path):
    folder = tmp_path / "venv"
    (folder / "lib" / "sub").mkdir(parents=True)
    (folder / "lib" / "a.bin").write_bytes(b"x" * 100)
    (folder / "lib" / "sub" / "b.bin").write_bytes(b"y" * 20)
    big = tmp_path / "big.bin"
    big.write_bytes(b"z" * 5000)
    os.symlink(big, folder / "lib" / "link.bin")
    os.symlink(folder / "lib", folder / "lib64")  # a linked folder: not walked again
    link_size = os.lstat(folder / "lib" / "link.bin").st_size
    assert directory_size(folder) == 100 + 20 + link_size
