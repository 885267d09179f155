"""What the project reaches: a missing library only an optional plugin needs is a note,
one a loaded module needs (directly or through the libraries it loads) fails the cell."""

from __future__ import annotations

import dataclasses

from noxgrid.model.audit import Scan, audit, owners_from_record
from noxgrid.model.doctor import IMPORT_SMOKE, Diagnosis, missing_report, parse_imports
from noxgrid.model.elf import ElfFile, TarTree
from noxgrid.model.matrix import Cell
from noxgrid.model.reach import (
    LOADED_MARKER,
    classify,
    parse_loaded,
    reach_unknown,
    reachable,
    unreached_notes,
)

SP = "/opt/venv/lib/python3.11/site-packages"
CAPI = f"{SP}/onnxruntime/capi"
PYBIND = f"{CAPI}/onnxruntime_pybind11_state.so"
ROCM = f"{CAPI}/libonnxruntime_providers_rocm.so"


def image() -> TarTree:
    tree = TarTree()
    for name in ("libc.so.6", "libstdc++.so.6"):
        tree.add(f"/usr/lib/x86_64-linux-gnu/{name}")
    return tree


def onnxruntime_scan(*extra: ElfFile) -> Scan:
    """onnxruntime as its wheel ships it: the extension module, its shared library, and a
    ROCm provider (dlopen'ed only when asked for) needing a library this image lacks."""
    files = (
        ElfFile(path=PYBIND, needed=("libonnxruntime_providers_shared.so", "libc.so.6")),
        ElfFile(path=f"{CAPI}/libonnxruntime_providers_shared.so", needed=("libstdc++.so.6",)),
        ElfFile(path=ROCM, needed=("libamdhip64.so.6", "libonnxruntime_providers_shared.so")),
        *extra,
    )
    owners: dict[str, str] = {}
    owners_from_record(
        f"{SP}/onnxruntime-1.20.0.dist-info",
        "\n".join(f"{elf.path.removeprefix(SP + '/')},," for elf in files[:3]),
        owners,
    )
    owners_from_record(f"{SP}/myservice-1.0.dist-info", "myservice/_fast.so,,\n", owners)
    return Scan(site_packages=(SP,), files=files, owners=owners)


def test_a_library_only_an_unimported_plugin_needs_is_a_note():
    result = classify(audit(onnxruntime_scan(), image()), [PYBIND])
    (item,) = result.missing
    assert item.soname == "libamdhip64.so.6" and item.reachable is False
    assert result.blocking == (), "nothing the smoke loaded needs it"
    (note,) = unreached_notes(result)
    assert note.startswith(
        "libamdhip64.so.6 missing, needed only by onnxruntime/capi/"
        "libonnxruntime_providers_rocm.so of onnxruntime, which nothing imports"
    ), note
    assert result.as_dict()["missing"][0]["reachable"] is False  # type: ignore[index]


def test_the_same_library_needed_by_a_loaded_module_fails_through_its_libraries():
    # A loaded extension needs a bundled library (through its RUNPATH) that needs the
    # provider: the walk follows DT_NEEDED through both.
    bridge = ElfFile(
        path=f"{SP}/rocmext/_ext.so", needed=("libbridge.so.1",), runpath=("$ORIGIN/../rocm.libs",)
    )
    lib = ElfFile(
        path=f"{SP}/rocm.libs/libbridge.so.1.2.3", needed=("libonnxruntime_providers_rocm.so",)
    )
    scan = onnxruntime_scan(bridge, lib)
    tree = image()
    tree.add(lib.path)
    tree.add(f"{SP}/rocm.libs/libbridge.so.1", "libbridge.so.1.2.3")  # a link: never scanned
    result = classify(audit(scan, tree), [PYBIND, bridge.path])
    assert [item.soname for item in result.blocking] == ["libamdhip64.so.6"]
    assert unreached_notes(result) == []
    assert ROCM in reachable(scan, [bridge.path]), "libbridge.so.1 is its versioned file"


def test_roots_through_another_prefix_a_ctypes_name_the_project_and_its_apt_list():
    scan = onnxruntime_scan()
    linked = "/usr/local/venv/lib/python3.11/site-packages/onnxruntime/capi/" + ROCM.rsplit("/")[-1]
    assert reachable(scan, [linked]) == {ROCM, f"{CAPI}/libonnxruntime_providers_shared.so"}
    assert ROCM in reachable(scan, ["libonnxruntime_providers_rocm.so"]), "ctypes.CDLL(name)"
    assert reachable(scan, ["/usr/lib/x86_64-linux-gnu/libc.so.6", "/elsewhere/x.so"]) == set()
    own = ElfFile(path=f"{SP}/myservice/_fast.so", needed=("libonnxruntime_providers_rocm.so",))
    result = classify(audit(onnxruntime_scan(own), image()), [], project="MyService")
    assert result.blocking[0].soname == "libamdhip64.so.6", "the project's own module is a root"
    named = classify(audit(scan, image()), [], named=["libamdhip64.so.6"])
    assert named.blocking[0].reachable is True, "a library the project's apt list names"


def test_without_a_record_every_missing_library_fails_and_says_why(make_project):
    from noxgrid.model.declaration import load_config

    result = classify(audit(onnxruntime_scan(), image()), None)
    assert result.blocking[0].reachable is None
    assert "recorded no loaded files" in reach_unknown(result.blocking[0])
    config = load_config(make_project())
    cell = Cell(python="3.11", accelerator="cpu", profile="lean")
    diagnosis = Diagnosis(where="image x", audit=result, imports=None)
    problems, _ = missing_report(diagnosis, config, cell, host=False)
    assert problems[0].startswith("libamdhip64.so.6 missing (no Debian package known), needed by")
    assert problems[0].endswith("so it counts whoever needs it")
    reached = dataclasses.replace(
        result, missing=(dataclasses.replace(result.missing[0], reachable=False),)
    )
    problems, notes = missing_report(
        Diagnosis(where="image x", audit=reached, imports=None), config, cell, host=False
    )
    assert problems == [] and "which nothing imports" in notes[0]


def test_the_smoke_prints_what_it_loaded_and_the_last_record_wins():
    assert "ExtensionFileLoader" in IMPORT_SMOKE and LOADED_MARKER.strip() in IMPORT_SMOKE
    compile(IMPORT_SMOKE, "<smoke>", "exec")
    output = (
        f'NOXGRID-IMPORTS []\n{LOADED_MARKER}["/a.so"]\nnoise\n{LOADED_MARKER}["/a.so", "/b.so"]\n'
    )
    assert parse_loaded(output) == ("/a.so", "/b.so")
    assert parse_imports(output).loaded == ("/a.so", "/b.so")
    assert parse_loaded("NOXGRID-IMPORTS []\n") is None
    assert parse_loaded(f"{LOADED_MARKER}not json\n") is None


def test_a_system_library_only_an_unimported_plugin_needs_is_no_apt_advice():
    """cv2's Qt platform plugin links libSM.so.6: found on this machine, needed by no
    file the smoke loaded, so the venv doctor does not tell the image to install it."""
    tree = image()
    tree.add("/usr/lib/x86_64-linux-gnu/libSM.so.6")
    tree.add("/usr/lib/x86_64-linux-gnu/libGL.so.1")
    qt = ElfFile(path=f"{SP}/cv2/qt/plugins/platforms/libqxcb.so", needed=("libSM.so.6",))
    cv2 = ElfFile(path=f"{SP}/cv2/cv2.abi3.so", needed=("libGL.so.1",))
    scan = Scan(site_packages=(SP,), files=(cv2, qt), owners={})
    result = classify(audit(scan, tree), [cv2.path])
    assert set(result.from_system) >= {"libSM.so.6", "libGL.so.1"}
    assert result.unreached_system == ("libSM.so.6",)
    named = classify(audit(scan, tree), [cv2.path], named=["libSM.so.6"])
    assert named.unreached_system == (), "a library the project names is kept"
    unknown = classify(audit(scan, tree), None)
    assert unknown.unreached_system == (), "without a record of what loaded, nothing is left out"


def test_the_venv_note_on_a_slim_image_leaves_out_what_only_plugins_need(make_project):
    from noxgrid.model.declaration import load_config

    tree = image()
    tree.add("/usr/lib/x86_64-linux-gnu/libSM.so.6")
    tree.add("/usr/lib/x86_64-linux-gnu/libGL.so.1")
    qt = ElfFile(path=f"{SP}/cv2/qt/plugins/platforms/libqxcb.so", needed=("libSM.so.6",))
    cv2 = ElfFile(path=f"{SP}/cv2/cv2.abi3.so", needed=("libGL.so.1",))
    result = classify(
        audit(Scan(site_packages=(SP,), files=(cv2, qt), owners={}), tree), [cv2.path]
    )
    root = make_project()
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(text + '\n[tool.noxgrid.docker]\nimage = "svc"\n')
    config = load_config(root)
    cell = Cell(python="3.11", accelerator="cpu", profile="lean")
    packages = {"libSM.so.6": "libsm6", "libGL.so.1": "libgl1"}
    diagnosis = Diagnosis(where="venv", audit=result, imports=None, packages=packages)
    _, notes = missing_report(diagnosis, config, cell, host=True)
    (note,) = [n for n in notes if "takes from this machine" in n]
    assert "libgl1" in note and "libsm6" not in note
