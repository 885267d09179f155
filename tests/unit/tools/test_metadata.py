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


def test_overlapping_holders_restore_once_when_the_last_one_leaves(tmp_path):
    # Cells lock and install in parallel from one tree: one cell leaving must not restore
    # the tree under another's build, and the tree must end as it began.
    tracked = tmp_path / "demo.egg-info"
    tracked.mkdir()
    (tracked / "PKG-INFO").write_text("Version: 1.0\n")
    first, second = egg_info_kept(tmp_path), egg_info_kept(tmp_path)
    first.__enter__()
    (tracked / "PKG-INFO").write_text("Version: 1.1\n")  # the first cell's build
    second.__enter__()
    first.__exit__(None, None, None)
    assert (tracked / "PKG-INFO").read_text() == "Version: 1.1\n", "the second still builds"
    (tmp_path / "new.egg-info").mkdir()
    second.__exit__(None, None, None)
    assert (tracked / "PKG-INFO").read_text() == "Version: 1.0\n"
    assert not (tmp_path / "new.egg-info").exists()
    with egg_info_kept(tmp_path):  # and it holds again afterwards
        (tracked / "PKG-INFO").write_text("Version: 2\n")
    assert (tracked / "PKG-INFO").read_text() == "Version: 1.0\n"
