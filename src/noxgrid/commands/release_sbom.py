"""The release's bills of materials: one CycloneDX file per cell, from the cell's lock.

Written into ``<report folder>/sbom/<cell>.cdx.json`` (atomically); the
licences come from the cell's venv where it is on this machine (a release
run here; a merged report of CI artifacts has the locks but not the venvs).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from noxgrid.errors import LockUnreadable

if TYPE_CHECKING:
    from noxgrid.model.attestation import ImageAttestation
    from noxgrid.model.config import Config
    from noxgrid.model.matrix import Cell
    from noxgrid.model.results import CellResult
    from noxgrid.model.sbom import CellBom

FOLDER = "sbom"


def write_boms(config: Config, results: Sequence[CellResult], folder: Path) -> list[CellBom]:
    """Write the bill of materials of each cell that has a result; what was written."""
    return [write_bom(config, result.cell, folder) for result in results]


def write_bom(config: Config, cell: Cell, folder: Path) -> CellBom:
    """Write one cell's bill of materials from its lock, or say why there is none."""
    from cyclonedx.exception import CycloneDxException

    from noxgrid.files import atomic_write
    from noxgrid.model.licences import read_licences
    from noxgrid.model.lockfile import lock_path
    from noxgrid.model.sbom import (
        CellBom,
        Subject,
        bom_json,
        build_bom,
        cell_bom,
        read_materials,
        sbom_name,
    )

    lock = lock_path(config, cell)
    try:
        header, materials = read_materials(lock.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return CellBom(cell=cell.id, file=None, why=f"{lock.name} is missing (noxgrid lock)")
    except (OSError, UnicodeDecodeError, LockUnreadable) as error:
        fix = f" (fix: {error.fix})" if isinstance(error, LockUnreadable) and error.fix else ""
        why = error.message if isinstance(error, LockUnreadable) else str(error)
        return CellBom(cell=cell.id, file=None, why=f"{lock.name}: {why}{fix}")
    venv = config.venvs_dir / cell.id
    licences = read_licences(venv) if venv.is_dir() else None
    why = (
        "their metadata states none, or the venv does not hold them (each "
        "component's noxgrid:licence says which)"
        if licences is not None
        else f"the cell's venv ({venv}) was not there to read (licences are read from it)"
    )
    subject = Subject(
        project=config.project_name or config.root.name,
        version=None,
        cell=cell.id,
        lock=lock.name,
        python=header.get("python", cell.python),
        platform=header.get("platform", config.platform),
    )
    try:
        bom = build_bom(subject, materials, licences, unknown=why)
        text = bom_json(bom)
    except (CycloneDxException, ValueError) as error:
        # Never lose the release report over one cell's bill of materials.
        return CellBom(cell=cell.id, file=None, why=f"{lock.name}: cannot be described: {error}")
    relative = f"{FOLDER}/{sbom_name(cell.id)}"
    atomic_write(folder / relative, text)
    return cell_bom(cell.id, relative, bom, why)


def image_attestations(results: Sequence[CellResult]) -> list[ImageAttestation]:
    """Whether each image built was given BuildKit's SBOM attestation, as its cell noted."""
    from noxgrid.model.attestation import NOTE, read_attestation
    from noxgrid.model.results import Status

    found = []
    for result in results:
        noted = any(note.startswith(NOTE) for note in result.notes)
        built = any(s.name == "image" and s.status is Status.PASSED for s in result.stages)
        if noted or built:
            found.append(read_attestation(result.cell.id, result.notes))
    return found
