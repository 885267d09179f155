"""The release writes each cell's bill of materials, lists it in its JSON and links it."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

from cyclonedx.validation.json import JsonStrictValidator

from noxgrid.commands.release_report import write_release
from noxgrid.commands.release_sbom import write_boms
from noxgrid.model.attestation import ImageAttestation
from noxgrid.model.declaration import load_config
from noxgrid.model.matrix import Cell
from noxgrid.model.results import CellResult, Release, StageResult, Status
from noxgrid.model.sbom import SCHEMA

SERVICE = Path(__file__).resolve().parents[3] / "examples" / "service"


def passed(cell_id: str) -> CellResult:
    python, accelerator, profile = cell_id.split("-")
    return CellResult(
        cell=Cell(python=python, accelerator=accelerator, profile=profile),
        stages=(StageResult(name="suite", status=Status.PASSED, duration=1.0),),
        started_at="2026-12-01T10:00:00+00:00",
        duration=1.0,
    )


def project(tmp_path: Path) -> Path:
    """The reference service's declaration and locks, copied."""
    shutil.copy(SERVICE / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(SERVICE / "requirements", tmp_path / "requirements")
    return tmp_path


def test_each_cell_gets_a_valid_bom_of_its_lock_with_every_hash(tmp_path):
    config = load_config(project(tmp_path))
    site = config.venvs_dir / "3.11-cpu-lean" / "lib" / "python3.11" / "site-packages"
    (site / "fastapi-1.dist-info").mkdir(parents=True)
    (site / "fastapi-1.dist-info" / "METADATA").write_text(
        "Name: fastapi\nLicense-Expression: MIT\n"
    )
    out = tmp_path / "release"
    boms = write_boms(config, [passed("3.11-cpu-lean"), passed("3.9-cpu-lean")], out)
    assert [bom.file for bom in boms] == [
        "sbom/3.11-cpu-lean.cdx.json",
        "sbom/3.9-cpu-lean.cdx.json",
    ]
    text = (out / "sbom" / "3.11-cpu-lean.cdx.json").read_text()
    assert JsonStrictValidator(SCHEMA).validate_str(text) is None
    data = json.loads(text)
    lock = (tmp_path / "requirements" / "locks" / "pylock.py311-cpu-lean.toml").read_text()
    names = {c["name"] for c in data["components"]}
    assert names == {line.split('"')[1] for line in lock.splitlines() if line.startswith("name = ")}
    assert all(c["hashes"][0]["content"] in lock for c in data["components"])
    licensed = {c["name"]: c["licenses"] for c in data["components"] if "licenses" in c}
    assert licensed == {"fastapi": [{"license": {"id": "MIT"}}]}
    first = boms[0]
    assert first.packages == len(names) == first.hashed and first.licensed == 1
    assert "their metadata states none, or the venv does not hold them" in first.line()
    # No venv on this machine for 3.9: its licences are not known, and the line says why.
    assert boms[1].licensed == 0 and "was not there to read" in boms[1].line()


def test_a_cell_without_a_lock_has_no_bom_and_the_release_says_why(tmp_path):
    config = load_config(project(tmp_path))
    (tmp_path / "requirements" / "locks" / "pylock.py311-cpu-lean.toml").unlink()
    (bom,) = write_boms(config, [passed("3.11-cpu-lean")], tmp_path / "out")
    assert bom.file is None
    assert bom.line() == (
        "3.11-cpu-lean: no bill of materials: pylock.py311-cpu-lean.toml is missing (noxgrid lock)"
    )


def test_the_release_lists_and_links_each_bom_and_says_which_images_are_attested(tmp_path):
    config = load_config(project(tmp_path))
    results = [passed("3.11-cpu-lean")]
    out = tmp_path / "release"
    boms = write_boms(config, results, out)
    images = [ImageAttestation(cell="3.11-cpu-lean", attached=False, why="buildx is not there")]
    release = Release(results=tuple(results), expected=tuple(r.cell for r in results))
    paths = write_release(release, out, title="t", env={}, boms=boms, images=images)
    document = json.loads(paths["json"].read_text())
    assert document["sbom"][0]["file"] == "sbom/3.11-cpu-lean.cdx.json"
    assert document["sbom"][0]["format"] == "CycloneDX 1.6 JSON"
    assert document["image_sbom"] == [
        {"cell": "3.11-cpu-lean", "attestation": False, "why": "buildx is not there"}
    ]
    page = paths["html"].read_text()
    HTMLParser().feed(page)
    assert page.count('href="sbom/3.11-cpu-lean.cdx.json"') == 2, "in the grid and the list"
    assert "image built without an SBOM attestation: buildx is not there" in page
    markdown = paths["md"].read_text()
    assert "### Bills of materials (CycloneDX)" in markdown
    assert "3.11-cpu-lean: sbom/3.11-cpu-lean.cdx.json:" in markdown


def test_the_release_reads_each_images_attestation_from_its_cells_note():
    from dataclasses import replace

    from noxgrid.commands.release_sbom import image_attestations
    from noxgrid.model.attestation import Attestation, attestation_note

    built = StageResult(name="image", status=Status.PASSED, duration=3.0)
    skipped = StageResult(name="image", status=Status.SKIPPED, duration=0.0)
    note = attestation_note(Attestation(supported=False, why="the docker client has no buildx"))
    with_note = replace(passed("3.11-cpu-lean"), stages=(built,), notes=(note,))
    older = replace(passed("3.10-cpu-lean"), stages=(built,))
    no_image = replace(passed("3.9-cpu-lean"), stages=(skipped,))
    found = image_attestations([with_note, older, no_image])
    assert [image.line() for image in found] == [
        "3.11-cpu-lean: image built without an SBOM attestation: the docker client has no buildx",
        "3.10-cpu-lean: image built without an SBOM attestation: not recorded (the cell ran "
        "with an older noxgrid)",
    ]
    attached = attestation_note(Attestation(supported=True, why="the store keeps it"))
    (image,) = image_attestations([replace(with_note, notes=(attached,))])
    assert image.attached and image.why == "the store keeps it"


def test_a_lock_the_library_cannot_describe_costs_its_bom_not_the_report(tmp_path):
    config = load_config(project(tmp_path))
    lock = tmp_path / "requirements" / "locks" / "pylock.py311-cpu-lean.toml"
    lock.write_text('lock-version = "1.0"\n\n[[packages]]\nname = ""\nversion = "1"\n')
    (bom,) = write_boms(config, [passed("3.11-cpu-lean")], tmp_path / "out")
    assert bom.file is None
    assert bom.line().startswith(
        "3.11-cpu-lean: no bill of materials: pylock.py311-cpu-lean.toml: cannot be described: "
    )
