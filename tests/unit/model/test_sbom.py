"""A cell's bill of materials, built from its lock: every package, its hash, its files."""

from __future__ import annotations

import json

import pytest
from cyclonedx.validation.json import JsonStrictValidator

from noxgrid.errors import LockUnreadable
from noxgrid.model.licences import Licence, licence_of, read_licences
from noxgrid.model.sbom import SCHEMA, Subject, bom_json, build_bom, read_materials, sbom_name

WHEEL_311 = "numpy-2.3.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
WHEEL_312 = "numpy-2.3.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
HOST = "https://files.example/"
LOCK = f"""\
lock-version = "1.0"
requires-python = "==3.11.*"
created-by = "noxgrid"

[[packages]]
name = "numpy"
version = "2.3.0"
index = "https://pypi.org/simple"
sdist = {{ url = "{HOST}numpy-2.3.0.tar.gz", size = 10, hashes = {{ sha256 = "{"a" * 64}" }} }}
wheels = [
    {{ url = "{HOST}{WHEEL_312}", size = 10, hashes = {{ sha256 = "{"b" * 64}" }} }},
    {{ url = "{HOST}{WHEEL_311}", size = 10, hashes = {{ sha256 = "{"c" * 64}" }} }},
]
tool.noxgrid.via = ["-r requirements/lean.in"]

[[packages]]
name = "torch"
version = "2.9.0+cpu"
index = "https://download.pytorch.org/whl/cpu"
wheels = [{{ url = "{HOST}torch-2.9.0%2Bcpu-cp311-cp311-manylinux_2_28_x86_64.whl", size = 10, hashes = {{ sha256 = "{"d" * 64}" }} }}]
tool.noxgrid.via = ["-r requirements/lean.in"]

[[packages]]
name = "Typing_Extensions"
version = "4.15.0"
index = "https://pypi.org/simple"
sdist = {{ url = "{HOST}typing_extensions-4.15.0.tar.gz", size = 10, hashes = {{ sha256 = "{"e" * 64}" }} }}
tool.noxgrid.via = ["torch"]

[tool.noxgrid]
python = "3.11"
platform = "x86_64-manylinux_2_28"
"""
SUBJECT = Subject(
    project="svc",
    version="1.0",
    cell="3.11-cpu-lean",
    lock="pylock.py311-cpu-lean.toml",
    python="3.11",
    platform="x86_64-manylinux_2_28",
)


def document(licences=None, unknown=""):
    _header, materials = read_materials(LOCK)
    text = bom_json(build_bom(SUBJECT, materials, licences, unknown=unknown))
    assert JsonStrictValidator(SCHEMA).validate_str(text) is None
    return json.loads(text)


def by_name(data):
    return {component["name"]: component for component in data["components"]}


def test_every_locked_package_is_a_component_with_the_installed_files_hash():
    data = document()
    assert data["bomFormat"] == "CycloneDX" and data["specVersion"] == "1.6"
    components = by_name(data)
    assert sorted(components) == ["Typing_Extensions", "numpy", "torch"]
    numpy = components["numpy"]
    assert numpy["version"] == "2.3.0"
    # The cp311 wheel is what a 3.11 cell installs, not the cp312 one nor the sdist.
    assert numpy["hashes"] == [{"alg": "SHA-256", "content": "c" * 64}]
    assert numpy["purl"] == f"pkg:pypi/numpy@2.3.0?file_name={WHEEL_311}"
    # Only built from source: the sdist's hash.
    assert components["Typing_Extensions"]["hashes"][0]["content"] == "e" * 64
    assert components["Typing_Extensions"]["purl"].startswith("pkg:pypi/typing-extensions@4.15.0")


def test_every_file_the_lock_allows_is_a_distribution_reference_with_its_hash():
    numpy = by_name(document())["numpy"]
    references = {ref["url"]: ref for ref in numpy["externalReferences"]}
    assert set(references) == {
        f"{HOST}numpy-2.3.0.tar.gz",
        f"{HOST}{WHEEL_312}",
        f"{HOST}{WHEEL_311}",
        "https://pypi.org/simple",
    }
    assert all(ref["type"] == "distribution" for ref in references.values())
    assert references[f"{HOST}{WHEEL_312}"]["hashes"][0]["content"] == "b" * 64
    assert references[f"{HOST}{WHEEL_311}"]["comment"].endswith("(installed in the cell)")


def test_a_package_from_another_index_says_so_in_its_purl():
    torch = by_name(document())["torch"]
    assert "repository_url=https://download.pytorch.org/whl/cpu" in torch["purl"]
    assert torch["version"] == "2.9.0+cpu"


def test_what_pulled_each_package_in_is_a_dependency():
    data = document()
    graph = {entry["ref"]: entry.get("dependsOn", []) for entry in data["dependencies"]}
    torch = by_name(data)["torch"]["bom-ref"]
    typing = by_name(data)["Typing_Extensions"]["bom-ref"]
    assert graph[torch] == [typing]
    assert torch in graph["svc@3.11-cpu-lean"]
    assert typing not in graph["svc@3.11-cpu-lean"]


def test_licences_as_the_metadata_says_else_not_known_and_why():
    licences = {
        "numpy": Licence(expression="BSD-3-Clause AND MIT", source="License-Expression"),
        "torch": Licence(names=("BSD-3-Clause",), source="License"),
    }
    components = by_name(document(licences))
    assert components["numpy"]["licenses"] == [{"expression": "BSD-3-Clause AND MIT"}]
    assert components["torch"]["licenses"] == [{"license": {"id": "BSD-3-Clause"}}]
    typing = components["Typing_Extensions"]
    assert "licenses" not in typing
    assert {"name": "noxgrid:licence", "value": "not known: the cell's venv does not hold it"} in (
        typing["properties"]
    )
    without_venv = by_name(document(None, unknown="the cell's venv was not there to read"))
    assert {
        "name": "noxgrid:licence",
        "value": "not known: the cell's venv was not there to read",
    } in without_venv["numpy"]["properties"]


def test_the_subject_and_the_tool_are_in_the_metadata():
    metadata = document()["metadata"]
    assert metadata["component"]["name"] == "svc"
    assert {"name": "noxgrid:lock", "value": "pylock.py311-cpu-lean.toml"} in metadata["component"][
        "properties"
    ]
    assert metadata["tools"]["components"][0]["name"] == "noxgrid"
    assert sbom_name("3.11-cpu-lean") == "3.11-cpu-lean.cdx.json"


def test_an_older_lock_without_files_is_refused_with_the_fix_in_its_words():
    with pytest.raises(LockUnreadable, match="older noxgrid lock"):
        read_materials("# inputs-sha256: x\nnumpy==2.3.0 --hash=sha256:" + "a" * 64 + "\n")


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        (
            "Name: a\nLicense-Expression: MIT OR Apache-2.0\nLicense: BSD\n",
            Licence(expression="MIT OR Apache-2.0", source="License-Expression"),
        ),
        ("Name: a\nLicense: BSD-3-Clause\n", Licence(names=("BSD-3-Clause",), source="License")),
        (
            "Name: a\nLicense: Copyright (c) 2020 someone\n        Permission is hereby granted\n"
            "Classifier: License :: OSI Approved :: MIT License\n"
            "Classifier: Programming Language :: Python\n",
            Licence(names=("MIT License",), source="classifier"),
        ),
        ("Name: a\nLicense: UNKNOWN\n", None),
        ("Name: a\nVersion: 1\n\nLicense: in the body, not a header\n", None),
    ],
)
def test_a_licence_is_read_from_the_metadata_in_order_of_trust(metadata, expected):
    assert licence_of(metadata) == expected


def test_the_licences_of_a_venv_by_canonical_name(tmp_path):
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    for name, field in (("Typing_Extensions", "License-Expression: PSF-2.0"), ("x", "")):
        (site / f"{name}-1.dist-info").mkdir(parents=True)
        (site / f"{name}-1.dist-info" / "METADATA").write_text(f"Name: {name}\n{field}\n")
    assert read_licences(tmp_path) == {
        "typing-extensions": Licence(expression="PSF-2.0", source="License-Expression"),
        "x": None,
    }


def test_a_package_installed_without_a_licence_is_told_from_one_not_installed():
    components = by_name(document({"numpy": None}))
    notes = {
        name: [p["value"] for p in c["properties"] if p["name"] == "noxgrid:licence"]
        for name, c in components.items()
    }
    assert notes["numpy"] == ["not known: its metadata states no licence"]
    assert notes["torch"] == ["not known: the cell's venv does not hold it"]


ODD = """\
lock-version = "1.0"

[[packages]]
name = "colorama"
version = "0.4.6"
marker = "sys_platform == 'win32'"
wheels = [{ url = "https://x/colorama-0.4.6-py2.py3-none-any.whl", hashes = { sha256 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" } }]

[[packages]]
name = "direct"
archive = { url = "https://x/direct-3.0-py3-none-any.whl", hashes = { sha256 = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc" } }

[[packages]]
name = "dup"
version = "1"
marker = "python_version < '3.12'"
wheels = [{ url = "https://x/dup-1-py3-none-any.whl", hashes = { sha256 = "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd" } }]

[[packages]]
name = "dup"
version = "2"
marker = "python_version >= '3.12'"
wheels = [{ url = "https://x/dup-2-py3-none-any.whl", hashes = { sha256 = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee" } }]
"""


def test_markers_direct_urls_and_forked_pins_as_the_cell_installs_them():
    _header, materials = read_materials(ODD)
    text = bom_json(build_bom(SUBJECT, materials, None, unknown="no venv"))
    assert JsonStrictValidator(SCHEMA).validate_str(text) is None
    components = json.loads(text)["components"]
    # colorama is for Windows only, and dup 2 for 3.12: a 3.11 Linux cell installs neither.
    assert [(c["name"], c["version"]) for c in components] == [("direct", "3.0"), ("dup", "1")]
    assert components[0]["purl"] == (
        "pkg:pypi/direct@3.0?download_url=https://x/direct-3.0-py3-none-any.whl"
        "&file_name=direct-3.0-py3-none-any.whl"
    )
