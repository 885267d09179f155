"""Locks are PEP 751 files: written from uv's export with noxgrid's additions, read back
by noxgrid and by ``packaging``; their digests hold; older .txt locks still read."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import pytest
from packaging.pylock import Pylock, is_valid_pylock_path

from noxgrid.model.lockfile import (
    lock_name,
    lock_title,
    parse_lock,
    pin_changes,
    preferences,
    seal,
)
from noxgrid.model.matrix import Cell
from noxgrid.model.pylock import lock_copy_problem, render_pylock, toml_value

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CELL = Cell(python="3.11", accelerator="cpu", profile="full")
UTC = datetime.timezone.utc

# What `uv pip compile --format pylock.toml` exports, as tomllib reads it.
EXPORTED = {
    "lock-version": "1.0",
    "created-by": "uv",
    "packages": [
        {
            "name": "torch",
            "version": "2.5.1",
            "wheels": [
                {
                    "url": "https://files.example/torch-2.5.1-cp311-cp311-linux_x86_64.whl",
                    "upload-time": datetime.datetime(2024, 10, 29, 17, 0, 0, tzinfo=UTC),
                    "size": 900,
                    "hashes": {"sha256": "bbbb"},
                },
                {
                    "url": "https://files.example/torch-2.5.1-cp311-none-macosx_11_0_arm64.whl",
                    "size": 800,
                    "hashes": {"sha256": "cccc"},
                },
            ],
        },
        {
            "name": "Sentence_Transformers",
            "version": "3.3.1",
            "sdist": {
                "url": "https://files.example/sentence_transformers-3.3.1.tar.gz",
                "size": 20,
                "hashes": {"sha256": "aaaa"},
            },
        },
        {
            "name": "tool",
            "archive": {
                "url": "https://host.example/tool-1.0-py3-none-any.whl",
                "hashes": {"sha256": "eeee"},
            },
        },
    ],
}

HEADER = [
    ("noxgrid", "1.0"),
    ("inputs-sha256", "abc123"),
    ("installed-bytes", "1234"),
    ("largest", "torch==2.5.1=900"),
]


def written() -> str:
    return seal(
        render_pylock(
            title=lock_title(CELL),
            python=CELL.python,
            exported=EXPORTED,
            indexes={"torch": "https://download.example/whl/cpu"},
            via={
                "torch": ("sentence-transformers", "-r requirements/full.in"),
                "sentence-transformers": ("-r requirements/full.in",),
            },
            header=HEADER,
        )
    )


def test_a_lock_is_pep_751_and_packaging_reads_it(tmp_path: Path):
    text = written()
    path = tmp_path / lock_name(CELL)
    assert path.name == "pylock.py311-cpu-full.toml" and is_valid_pylock_path(path)
    path.write_text(text)
    document = tomllib.loads(path.read_text())
    lock = Pylock.from_dict(document)  # validates the whole file against PEP 751
    assert [p.name for p in lock.packages] == ["torch", "sentence-transformers", "tool"]
    torch = lock.packages[0]
    assert str(torch.version) == "2.5.1" and torch.index == "https://download.example/whl/cpu"
    assert torch.wheels is not None and torch.wheels[0].size == 900
    assert torch.wheels[0].upload_time == datetime.datetime(2024, 10, 29, 17, tzinfo=UTC)
    assert lock.packages[2].archive is not None
    assert str(lock.requires_python) == "==3.11.*" and lock.created_by == "noxgrid"
    assert document["tool"]["noxgrid"]["inputs-sha256"] == "abc123"


def test_noxgrid_reads_back_what_it_wrote():
    lock = parse_lock(written())
    assert lock.body_state == "sealed" and lock.digest == "abc123"
    assert lock.header_bytes("installed-bytes") == 1234
    torch = lock.packages["torch"]
    assert torch.hashes == ("sha256:bbbb", "sha256:cccc") and torch.index == (
        "https://download.example/whl/cpu"
    )
    assert lock.chain("torch") == ["torch", "requirements/full.in"]
    tool = lock.packages["tool"]
    assert tool.url == "https://host.example/tool-1.0-py3-none-any.whl"
    assert tool.version == "1.0" and tool.hashes == ("sha256:eeee",)
    assert preferences(lock).splitlines() == [
        "torch==2.5.1",
        "sentence-transformers==3.3.1",
        "tool @ https://host.example/tool-1.0-py3-none-any.whl",
    ]


@pytest.mark.parametrize(
    "edit",
    [
        lambda text: text.replace('version = "2.5.1"', 'version = "2.5.2"'),
        lambda text: text.replace('"bbbb"', '"ffff"'),
        lambda text: text.replace(
            "[tool.noxgrid]", '[[packages]]\nname = "evil"\n\n[tool.noxgrid]'
        ),
        lambda text: text + "evil==1.0 \\\n    --hash=sha256:9999\n",  # no longer TOML
    ],
)
def test_any_edit_by_hand_breaks_the_seal(edit):
    assert parse_lock(edit(written())).body_state == "edited"


def test_a_lock_without_its_digest_is_unsealed_even_when_it_is_not_toml():
    text = "\n".join(line for line in written().splitlines() if "body-sha256" not in line)
    assert parse_lock(text).body_state == "unsealed"
    assert parse_lock(text + "\n[[broken").body_state == "unsealed"


def test_an_older_txt_lock_is_still_read():
    legacy = seal(
        "# inputs-sha256: abc123\n\ntorch==2.5.1 \\\n    --hash=sha256:bbbb\n    # via -r a.in\n"
    )
    lock = parse_lock(legacy)
    assert lock.body_state == "sealed" and lock.packages["torch"].version == "2.5.1"
    assert pin_changes(lock, parse_lock(written())) == [
        "sentence-transformers (new) -> 3.3.1",
        "tool (new) -> 1.0",
    ]
    assert pin_changes(parse_lock(written()), lock) == [
        "sentence-transformers 3.3.1 -> (gone)",
        "tool 1.0 -> (gone)",
    ]


def test_toml_values_round_trip():
    value = {
        "text": 'quote " backslash \\ tab \t é',
        "n": 3,
        "flag": True,
        "when": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "list": ["a", {"b c": 1}],
    }
    assert tomllib.loads(f"v = {toml_value(value)}")["v"] == value


def test_a_dockerfile_must_copy_the_lock_under_a_pylock_name():
    ok = "COPY ${LOCK} /tmp/pylock.toml\nRUN uv pip sync /tmp/pylock.toml\n"
    assert lock_copy_problem(ok, "Dockerfile") is None
    assert lock_copy_problem("COPY $LOCK /srv/pylock.app.toml\n", "Dockerfile") is None
    old = "FROM x\nARG LOCK\nCOPY ${LOCK} /tmp/requirements.lock\n"
    problem = lock_copy_problem(old, "docker/Dockerfile")
    assert problem is not None and problem.startswith("docker/Dockerfile:3 copies the lock")
    assert "COPY ${LOCK} /tmp/pylock.toml" in problem


def test_the_header_alone_reads_as_the_full_parse_does():
    from noxgrid.model.lockfile import parse_lock_header

    text = written()
    light, full = parse_lock_header(text), parse_lock(text)
    assert light.header == full.header and light.body_state == "sealed"
    assert light.packages == {}
    assert parse_lock_header(text.replace('"bbbb"', '"ffff"')).body_state == "edited"
