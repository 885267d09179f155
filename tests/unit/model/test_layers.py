"""Images as stacks of layers: merging them as the engine does, what changed between two
stacks, and when a change cannot alter what an import smoke saw."""

from __future__ import annotations

import hashlib

from noxgrid.model.audit import audit
from noxgrid.model.elf import ElfFile
from noxgrid.model.layers import (
    LayerScan,
    SmokeTrace,
    chain_ids,
    changed_paths,
    merge,
    smoke_concern,
    source_layer,
)

SITE = "/opt/venv/lib/python3.11/site-packages"


def layer(diff_id, files=(), **fields):
    scan = LayerScan(diff_id=diff_id, **fields)
    for path, state in dict(files).items():
        scan.entries[path] = None
        assert scan.states is not None
        scan.states[path] = state
    return scan


def test_chain_ids_are_dockers():
    first, second = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    expected = "sha256:" + hashlib.sha256(f"{first} {second}".encode()).hexdigest()
    assert chain_ids([first, second]) == [first, expected]


def test_merge_applies_whiteouts_and_opaque_folders_bottom_first():
    base = layer(
        "l1",
        {"/usr/lib/libz.so.1": "f", "/etc/ld.so.conf": "f", "/opt/old/a": "f", "/opt/old/b": "f"},
        texts={"/etc/ld.so.conf": "/opt/lib\n"},
    )
    venv = layer(
        "l2",
        {f"{SITE}/pkg/_ext.so": "f", f"{SITE}/pkg-1.0.dist-info/RECORD": "f"},
        elf=[ElfFile(path=f"{SITE}/pkg/_ext.so", needed=("libz.so.1", "libfoo.so.2"))],
        records={f"{SITE}/pkg-1.0.dist-info/RECORD": {"pkg": "pkg"}},
    )
    top = layer("l3", {"/opt/old/c": "f"}, removed=["/usr/lib/libz.so.1"], opaque=["/opt/old"])
    tree, scan = merge([base, venv, top])
    assert tree.exists("/opt/old/c") and not tree.exists("/opt/old/a")
    assert not tree.exists("/usr/lib/libz.so.1")
    assert scan.site_packages == (SITE,)
    result = audit(scan, tree)
    assert [item.soname for item in result.missing] == ["libfoo.so.2", "libz.so.1"]
    assert result.missing[0].distributions == ("pkg",)
    # Without the top layer libz is found where the base put it.
    tree, scan = merge([base, venv])
    assert [item.soname for item in audit(scan, tree).missing] == ["libfoo.so.2"]


def test_an_image_names_the_owner_of_each_file_of_a_shared_namespace_folder():
    cublas, cudnn = (f"{SITE}/nvidia/{name}/lib/lib{name}.so.12" for name in ("cublas", "cudnn"))
    wheels = layer(
        "l1",
        {cublas: "f", cudnn: "f"},
        elf=[ElfFile(path=path, needed=("libgone.so.1",)) for path in (cublas, cudnn)],
    )
    for dist, path in (("nvidia_cublas_cu12-12.4", cublas), ("nvidia_cudnn_cu12-9.1", cudnn)):
        wheels.add_record(
            f"{SITE}/{dist}.dist-info/RECORD",
            f"nvidia/__init__.py,,\n{path.removeprefix(SITE + '/')},,\n",
        )
    _tree, scan = merge([wheels])
    assert scan.owner(cudnn) == "nvidia-cudnn-cu12" and scan.owner(cublas) == "nvidia-cublas-cu12"


def test_a_scan_survives_its_json_form_and_another_format_is_refused():
    scan = layer("l1", {"/a": "f"}, elf=[ElfFile(path="/a", needed=("x",), runpath=("$ORIGIN",))])
    data = scan.as_dict()
    assert LayerScan.from_dict(data) == scan
    assert LayerScan.from_dict({**data, "format": 0}) is None


def test_changed_paths_compare_content_not_layers():
    common = [layer("l1", {"/app/keep.py": "a"})]
    before = [layer("old", {"/app/same.py": "s", "/app/edited.py": "1", "/app/gone.py": "g"})]
    after = [layer("new", {"/app/same.py": "s", "/app/edited.py": "2", "/app/new.py": "n"})]
    assert changed_paths(common, before, after) == ["/app/edited.py", "/app/gone.py", "/app/new.py"]
    # A layer too large to hash: each path it touches counts as changed.
    unknown = [layer("big", {"/app/same.py": "s"})]
    unknown[0].states = None
    assert "/app/same.py" in changed_paths(common, before, unknown)
    # A removal or an opaque folder stands for everything below it.
    hidden = [layer("h", removed=["/opt/venv"])]
    assert changed_paths(common, [], hidden) == ["/opt/venv/"]


TRACE = SmokeTrace.from_dict(
    {
        "asked": ["fastapi", "anyio", "json", "matplotlib"],
        "opened": [f"{SITE}/fastapi/__init__.py", "/app/config.ini"],
        "listed": [SITE, "/app", "/etc/xdg"],
        "path": ["/app", "/usr/lib/python311.zip", SITE],
    },
    ["fastapi", "Matplotlib"],
)


def test_a_change_the_smoke_never_looked_at_leaves_it_standing():
    assert smoke_concern("/app/src/refservice/pagemeta.py", TRACE, "/app") is None
    assert smoke_concern(f"{SITE}/refservice/pagemeta.py", TRACE, "/app") is None
    assert smoke_concern(f"{SITE}/refservice-0.1.0.dist-info/RECORD", TRACE, "/app") is None


def test_every_way_a_change_can_reach_the_smoke_is_a_concern():
    cases = {
        "/app/anyio/__init__.py": "anyio",  # shadows a module imported on the way
        f"{SITE}/fastapi/routing.py": "fastapi",
        f"{SITE}/matplotlib-3.9.dist-info/METADATA": "matplotlib",  # a distribution asked for
        f"{SITE}/_virtualenv.pth": "runs when Python starts",
        f"{SITE}/sitecustomize.py": "runs when Python starts",
        "/app/config.ini": "read",
        "/app/matplotlibrc": "directly in /app",  # a file code may look for
        "/etc/xdg/thing.conf": "listed",
        "/usr/lib/x86_64-linux-gnu/libgomp.so.1": "shared library",
        "/home/app/.config/x": "outside",
        "/app/src/": "directly in /app",  # a folder removed or made opaque
        "/app/": "read",
    }
    for path, words in cases.items():
        concern = smoke_concern(path, TRACE, "/app")
        assert concern is not None and words in concern, (path, concern)


def test_a_path_is_read_from_the_topmost_layer_that_holds_it():
    so = f"{SITE}/cv2/cv2.abi3.so"
    synced = layer("l1", {so: "headless", f"{SITE}/cv2/data.xml": "f"})
    kept = layer("l2", {so: "contrib"})
    assert source_layer([synced, kept], so) == 1
    assert source_layer([synced, kept], f"{SITE}/cv2/data.xml") == 0
    assert source_layer([synced, kept], f"{SITE}/cv2/other.py") is None
    removed = layer("l3", removed=[f"{SITE}/cv2"])
    assert source_layer([synced, kept, removed], so) is None
    hidden = layer("l3", {f"{SITE}/cv2/new.py": "f"}, opaque=[f"{SITE}/cv2"])
    assert source_layer([synced, kept, hidden], so) is None
    assert source_layer([synced, kept, hidden], f"{SITE}/cv2/new.py") == 2
