"""A cell's bill of materials: what its lock installs, as a CycloneDX document.

Pure: the lock's text (and the licences read from the cell's venv, where it is
there) in, a ``cyclonedx`` Bom and its JSON out; ``noxgrid release`` writes the
file. Each package of the lock is one component: its name and version, a
package URL (``pkg:pypi/...``, with the index where it is not PyPI), the
sha256 of the file the cell installs (the wheel uv picks for the cell's python
and platform by tag, else the sdist) and every file the lock allows for it as a
``distribution`` reference with its URL and sha256, the index it came from, and
its licence where its metadata says one (else a ``noxgrid:licence`` property
saying it is not known, and why).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cyclonedx.model import (
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.license import License
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from packageurl import PackageURL
from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.utils import canonicalize_name

from noxgrid._version import __version__
from noxgrid.errors import IndexUnavailable, LockUnreadable
from noxgrid.model.licences import Licence
from noxgrid.model.lockfile import _url_version  # the version in an archive's file name
from noxgrid.model.pylock import is_pylock
from noxgrid.model.sizes import DistFile, platform_tags, select_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SCHEMA = SchemaVersion.V1_6
PYPI = "https://pypi.org/simple"
SUFFIX = ".cdx.json"
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def sbom_name(cell_id: str) -> str:
    """The file name of a cell's bill of materials: ``3.11-cpu-lean.cdx.json``."""
    return f"{cell_id}{SUFFIX}"


@dataclass(frozen=True, kw_only=True)
class Material:
    """One package of a lock with every file the lock allows for it."""

    name: str
    version: str
    index: str | None
    files: tuple[DistFile, ...]
    via: tuple[str, ...]
    marker: str | None = None
    # A direct URL (``name @ https://...``): its archive's URL.
    archive: str | None = None


def read_materials(text: str) -> tuple[dict[str, str], list[Material]]:
    """(the lock's ``[tool.noxgrid]`` fields, its packages with their files) of a pylock."""
    if not is_pylock(text):
        raise LockUnreadable(
            "an older noxgrid lock (uv's requirements format), which does not list its files",
            fix="run `noxgrid lock` to rewrite it as a PEP 751 pylock",
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise LockUnreadable(f"not valid TOML: {error}") from error
    tool = data.get("tool", {}).get("noxgrid", {})
    header = {str(k): str(v) for k, v in tool.items()} if isinstance(tool, dict) else {}
    materials = []
    for package in data.get("packages", []):
        if not isinstance(package, dict) or "name" not in package:
            raise LockUnreadable("a [[packages]] entry has no name")
        entries = [package.get("sdist"), package.get("archive"), *package.get("wheels", [])]
        files = tuple(_dist_file(entry) for entry in entries if isinstance(entry, dict))
        index = str(package["index"]).rstrip("/") if package.get("index") else None
        via = package.get("tool", {}).get("noxgrid", {}).get("via", [])
        archive = package.get("archive")
        url = str(archive["url"]) if isinstance(archive, dict) and "url" in archive else None
        materials.append(
            Material(
                name=str(package["name"]),
                version=str(package.get("version", "")) or (_url_version(url) if url else ""),
                index=index,
                files=files,
                via=tuple(str(v) for v in via),
                marker=str(package["marker"]) if package.get("marker") else None,
                archive=url,
            )
        )
    return header, materials


def _dist_file(entry: Mapping[str, Any]) -> DistFile:
    url = str(entry.get("url", entry.get("path", "")))
    name = entry.get("name") or url.split("#")[0].rsplit("/", 1)[-1]
    hashes = entry.get("hashes", {})
    sha256 = str(hashes.get("sha256", "")) if isinstance(hashes, dict) else ""
    if not _SHA256.fullmatch(sha256):
        sha256 = ""  # not a sha256 (a lock edited by hand): the file is listed without one
    return DistFile(filename=str(name), url=url, size=int(entry.get("size", 0)), sha256=sha256)


@dataclass(frozen=True, kw_only=True)
class Subject:
    """What the bill of materials is of: the project, the cell, its lock."""

    project: str
    version: str | None
    cell: str
    lock: str
    python: str
    platform: str


def build_bom(
    subject: Subject,
    materials: Sequence[Material],
    licences: Mapping[str, Licence | None] | None,
    *,
    unknown: str = "",
) -> Bom:
    """The Bom of ``materials``. ``licences``: by canonical name, read from the cell's venv
    (None when there was no venv to read; ``unknown`` then says why)."""
    root = Component(
        type=ComponentType.APPLICATION,
        name=subject.project,
        version=subject.version,
        bom_ref=f"{subject.project}@{subject.cell}",
        properties=[
            Property(name="noxgrid:cell", value=subject.cell),
            Property(name="noxgrid:lock", value=subject.lock),
            Property(name="noxgrid:python", value=subject.python),
            Property(name="noxgrid:platform", value=subject.platform),
        ],
    )
    bom = Bom()
    bom.metadata.component = root
    bom.metadata.tools.components.add(
        Component(type=ComponentType.APPLICATION, name="noxgrid", version=__version__)
    )
    try:
        tags = platform_tags(subject.python, subject.platform)
    except IndexUnavailable:
        tags = []  # a platform noxgrid cannot read: which file is installed is not known
    environment = _environment(subject)
    installed = [m for m in materials if _applies(m.marker, environment)]
    components: dict[str, list[Component]] = {}
    pairs = []
    for material in installed:
        key = canonicalize_name(material.name)
        known, why = _licence(licences, key, unknown)
        component = _component(material, select_file(material.files, tags), known, why)
        components.setdefault(key, []).append(component)
        pairs.append((material, component))
        bom.components.add(component)
    for material, child in pairs:
        parents = [canonicalize_name(v) for v in material.via if canonicalize_name(v) in components]
        if not parents or len(parents) < len(material.via):
            bom.register_dependency(root, [child])
        for parent in parents:
            for component in components[parent]:
                bom.register_dependency(component, [child])
    return bom


def _licence(
    licences: Mapping[str, Licence | None] | None, key: str, unknown: str
) -> tuple[Licence | None, str]:
    """A package's licence, or why it is not known."""
    if licences is None:
        return None, unknown or "there was no venv to read"
    if key not in licences:
        return None, "the cell's venv does not hold it"
    return licences[key], "its metadata states no licence"


def _environment(subject: Subject) -> dict[str, str]:
    """The marker environment of the cell: CPython ``python`` on Linux ``platform``."""
    machine = subject.platform.split("-", 1)[0]
    return {
        "python_version": subject.python,
        "python_full_version": f"{subject.python}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": machine,
    }


def _applies(marker: str | None, environment: dict[str, str]) -> bool:
    """False only for a package whose marker says the cell does not install it."""
    if marker is None:
        return True
    try:
        return Marker(marker).evaluate(environment)
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return True


def _component(
    material: Material, installed: DistFile | None, licence: Licence | None, unknown: str
) -> Component:
    qualifiers = {}
    if material.index and material.index != PYPI:
        qualifiers["repository_url"] = material.index
    if installed is not None:
        qualifiers["file_name"] = installed.filename
    if material.archive:
        qualifiers["download_url"] = material.archive
    name = str(canonicalize_name(material.name))
    version = material.version or None
    purl = PackageURL(type="pypi", name=name, version=version, qualifiers=qualifiers)
    references = [
        ExternalReference(
            type=ExternalReferenceType.DISTRIBUTION,
            url=XsUri(file.url),
            comment=file.filename + (" (installed in the cell)" if file == installed else ""),
            hashes=[_sha256(file.sha256)] if file.sha256 else [],
        )
        for file in material.files
        if file.url
    ]
    if material.index:
        references.append(
            ExternalReference(
                type=ExternalReferenceType.DISTRIBUTION,
                url=XsUri(material.index),
                comment="the package index the lock took it from",
            )
        )
    properties = [Property(name="noxgrid:via", value=via) for via in material.via]
    if licence is None:
        properties.append(Property(name="noxgrid:licence", value=f"not known: {unknown}"))
    elif licence.source:
        properties.append(Property(name="noxgrid:licence-source", value=licence.source))
    return Component(
        type=ComponentType.LIBRARY,
        name=material.name,
        version=version,
        bom_ref=purl.to_string(),
        purl=purl,
        hashes=[_sha256(installed.sha256)] if installed is not None and installed.sha256 else [],
        licenses=_licenses(licence),
        external_references=references,
        properties=properties,
    )


def _sha256(digest: str) -> HashType:
    return HashType(alg=HashAlgorithm.SHA_256, content=digest)


def _licenses(licence: Licence | None) -> list[License]:
    if licence is None:
        return []
    try:
        from cyclonedx.contrib.license.factories import LicenseFactory
    except ImportError:  # pragma: no cover - an older cyclonedx-python-lib
        from cyclonedx.factory.license import LicenseFactory  # type: ignore[no-redef,unused-ignore]
    factory = LicenseFactory()
    if licence.expression:
        return [factory.make_from_string(licence.expression)]
    return [factory.make_from_string(name) for name in licence.names]


def bom_json(bom: Bom) -> str:
    """The Bom as CycloneDX JSON (spec 1.6)."""
    return str(JsonV1Dot6(bom).output_as_string(indent=2)) + "\n"


@dataclass(frozen=True, kw_only=True)
class CellBom:
    """One cell's bill of materials as the release lists it: its file (relative to the
    report's folder; None when none could be written, ``why`` then says why) and counts."""

    cell: str
    file: str | None
    packages: int = 0
    hashed: int = 0
    licensed: int = 0
    why: str = ""

    def line(self) -> str:
        """``3.11-cpu-lean: sbom/3.11-cpu-lean.cdx.json: 29 packages, ...``, one line."""
        if self.file is None:
            return f"{self.cell}: no bill of materials: {self.why}"
        return f"{self.cell}: {self.file}: {self.summary()}"

    def summary(self) -> str:
        """``29 packages, 29 with the sha256 of the file installed, 27 with a licence ...``"""
        unknown = self.packages - self.licensed
        licences = f"{self.licensed} with a licence" + (
            f" ({unknown} not known: {self.why})" if unknown else ""
        )
        return (
            f"{self.packages} packages, {self.hashed} with the sha256 of the file installed, "
            f"{licences}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "cell": self.cell,
            "file": self.file,
            "format": f"CycloneDX {SCHEMA.to_version()} JSON" if self.file else None,
            "packages": self.packages,
            "hashed": self.hashed,
            "licensed": self.licensed,
            "why": self.why or None,
        }


def cell_bom(cell: str, file: str, bom: Bom, why: str) -> CellBom:
    """The counts of a cell's Bom, for the release's listing."""
    components = list(bom.components)
    licensed = sum(1 for c in components if c.licenses)
    return CellBom(
        cell=cell,
        file=file,
        packages=len(components),
        hashed=sum(1 for c in components if c.hashes),
        licensed=licensed,
        why=why if licensed < len(components) else "",
    )
