"""The image stage reads the build context for secrets before it builds, and hands the
files it read clean to the /app scan (not read twice)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from noxgrid.cell.image import _scan_context
from noxgrid.errors import StageFailure
from noxgrid.model.secrets import text_key

GITHUB = "ghp_" + "a1B2c3D4e5" * 3 + "F6g7H8"


def state_for(root):
    notes: list[str] = []
    config = SimpleNamespace(root=root, cache_dir=root / ".noxgrid" / "cache")
    return SimpleNamespace(config=config, note=notes.append), notes


def test_a_secret_in_the_build_context_fails_before_the_build(tmp_path):
    (tmp_path / ".dockerignore").write_text(".git\n")
    (tmp_path / "app.py").write_text("VALUE = 1\n")
    (tmp_path / "token.txt").write_text(GITHUB + "\n")
    state, _ = state_for(tmp_path)
    with pytest.raises(StageFailure) as failed:
        _scan_context(state, tmp_path / ".dockerignore")
    text = str(failed.value)
    assert "the build context (what .dockerignore lets in) holds 1 secret(s)" in text
    assert "token.txt:1 (GitHub Token)" in text and GITHUB not in text


def test_a_clean_context_says_what_it_read_and_returns_it(tmp_path):
    (tmp_path / ".dockerignore").write_text("token.txt\n")
    (tmp_path / "app.py").write_text("VALUE = 1\n")
    (tmp_path / "token.txt").write_text(GITHUB + "\n")  # kept out: never in the image
    state, notes = state_for(tmp_path)
    clean = _scan_context(state, tmp_path / ".dockerignore")
    assert clean == {
        text_key("app.py", b"VALUE = 1\n"),
        text_key(".dockerignore", b"token.txt\n"),
    }
    assert notes and notes[0].startswith("the build context's 2 file(s) hold no secret")


def test_a_rebuild_reads_only_what_changed_and_still_finds_a_new_secret(tmp_path, monkeypatch):
    import noxgrid.cell.image as image

    (tmp_path / ".dockerignore").write_text(".noxgrid\n")
    (tmp_path / "app.py").write_text("VALUE = 1\n")
    (tmp_path / "other.py").write_text("OTHER = 2\n")
    state, notes = state_for(tmp_path)
    first = _scan_context(state, tmp_path / ".dockerignore")
    assert "detect-secrets read 3, 0 read clean before" in notes[-1], notes
    (tmp_path / "app.py").write_text("VALUE = 3\n")
    assert len(_scan_context(state, tmp_path / ".dockerignore")) == len(first)
    assert "detect-secrets read 1, 2 read clean before, unchanged" in notes[-1], notes
    (tmp_path / "other.py").write_text(f"TOKEN = '{GITHUB}'\n")
    with pytest.raises(StageFailure) as failed:
        _scan_context(state, tmp_path / ".dockerignore")
    assert "other.py:1 (GitHub Token)" in str(failed.value), "a changed file is read again"
    (tmp_path / "other.py").write_text("OTHER = 2\n")
    _scan_context(state, tmp_path / ".dockerignore")
    monkeypatch.setattr(image, "_scanner", lambda: "detect-secrets 99, noxgrid 9")
    _scan_context(state, tmp_path / ".dockerignore")
    assert "detect-secrets read 3, 0 read clean before" in notes[-1], "another scanner reads all"


AWS = "AKIA" + "IOSFODNN7EXAMPLE"


def test_a_file_read_clean_in_a_swagger_folder_is_read_again_where_it_moves(tmp_path):
    """detect-secrets skips a path naming swagger: its verdict there says nothing of the
    same bytes elsewhere, in a later run (the kept verdicts) or in /app."""
    (tmp_path / ".dockerignore").write_text(".noxgrid\n")
    (tmp_path / "docs" / "swagger").mkdir(parents=True)
    (tmp_path / "app").mkdir()
    text = f'aws_key = "{AWS}"\n'
    (tmp_path / "docs" / "swagger" / "conf.py").write_text(text)
    state, _ = state_for(tmp_path)
    clean = _scan_context(state, tmp_path / ".dockerignore")
    assert text_key("docs/swagger/conf.py", text.encode()) in clean
    assert text_key("app/conf.py", text.encode()) not in clean, "/app's app/conf.py is read"
    (tmp_path / "docs" / "swagger" / "conf.py").rename(tmp_path / "app" / "conf.py")
    with pytest.raises(StageFailure) as failed:
        _scan_context(state, tmp_path / ".dockerignore")
    assert "app/conf.py:1 (AWS Access Key)" in str(failed.value)
