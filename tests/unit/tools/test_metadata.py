from __future__ import annotations

import os

from noxgrid.tools.metadata import egg_info_kept


def test_the_source_trees_egg_info_is_left_as_it_was(tmp_path):
    tracked = tmp_path / "src" / "demo.egg-info"
    tracked.mkdir(parents=True)
    (tracked / "PKG-INFO").write_text("Version: 1.0\n")
    (tracked / "SOURCES.txt").write_text("a.py\n")
    os.utime(tracked / "PKG-INFO", ns=(10**18, 10**18))
    with egg_info_kept(tmp_path):
        # What setuptools does while it prepares metadata in the tree.
        (tracked / "PKG-INFO").write_text("Version: 1.1.dev3\n")
        (tracked / "SOURCES.txt").unlink()
        (tracked / "top_level.txt").write_text("demo\n")
        (tmp_path / "other.egg-info").mkdir()
        (tmp_path / "other.egg-info" / "PKG-INFO").write_text("x")
    assert (tracked / "PKG-INFO").read_text() == "Version: 1.0\n"
    assert (tracked / "PKG-INFO").stat().st_mtime_ns == 10**18
    assert (tracked / "SOURCES.txt").read_text() == "a.py\n"
    assert not (tracked / "top_level.txt").exists()
    assert not (tmp_path / "other.egg-info").exists()
