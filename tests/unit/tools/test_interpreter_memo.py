"""What a process had to be asked about an interpreter is remembered by the identity of
the program, and asked again when the program changes."""

from __future__ import annotations

import os

from noxgrid.tools import interpreters


def test_a_probed_version_is_remembered_until_the_program_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("NOXGRID_CACHE_DIR", str(tmp_path / "cache"))
    python = tmp_path / "python3.11"
    python.write_text("a build\n")
    asked = []
    answers = {"a build\n": (3, 11, 4), "another build\n": (3, 11, 9)}

    def probe(path):
        asked.append(path)
        return answers[open(path).read()]

    monkeypatch.setattr(interpreters, "_probe", probe)
    assert interpreters.probe_version(python) == (3, 11, 4)
    assert (tmp_path / "cache" / "interpreters.json").is_file()
    # Remembered: asked once for two lookups (a later process reads the file).
    assert interpreters.probe_version(python) == (3, 11, 4)
    assert len(asked) == 1
    # Replaced by another build: asked again.
    python.write_text("another build\n")
    os.utime(python, ns=(1, 1))
    assert interpreters.probe_version(python) == (3, 11, 9)
    assert len(asked) == 2
