"""The ELF audit and the doctor's findings: resolution rules, tar trees, apt lines, imports."""

from __future__ import annotations

import io
import json
import sys
import sysconfig
import tarfile
from pathlib import Path

import pytest

from noxgrid.model.audit import Scan, audit, owners_from_record, scan_folders, scan_tar
from noxgrid.model.declaration import load_config
from noxgrid.model.direct import direct_dependencies
from noxgrid.model.doctor import (
    Diagnosis,
    ImportFailure,
    apt_line,
    missing_report,
    parse_imports,
    render,
)
from noxgrid.model.elf import ElfFile, HostTree, TarTree, ld_so_conf_dirs, read_elf
from noxgrid.model.lockfile import parse_lock
from noxgrid.model.matrix import Cell
from noxgrid.model.reach import classify
from noxgrid.model.sonames import (
    debian_package,
    is_cuda,
    provided_by_driver,
    soname_in_error,
)

SP = "/opt/venv/lib/python3.11/site-packages"


def a_real_extension_module() -> Path:
    """One of the running interpreter's own compiled modules (there is always one).

    The interpreter's shared-library folder (DESTSHARED: its own lib-dynload, also when
    the tests run in a virtual environment, whose platstdlib has none), else any
    extension module already loaded."""
    folder = Path(sysconfig.get_config_var("DESTSHARED") or "")
    found = sorted(folder.glob("*.so")) if folder.is_dir() else []
    if not found:
        found = sorted(
            Path(module.__file__)
            for module in list(sys.modules.values())
            if getattr(module, "__file__", None) and str(module.__file__).endswith(".so")
        )
    assert found, f"no compiled module of {sys.executable} found (looked in {folder})"
    return found[0]


def debian_image() -> TarTree:
    """A bookworm-like image: merged /usr, ld.so.conf with an include, glibc, no GL."""
    tree = TarTree()
    tree.add("/lib", "usr/lib")
    tree.add("/lib64", "usr/lib64")
    for name in ("libc.so.6", "libm.so.6", "libstdc++.so.6", "libz.so.1.2.13"):
        tree.add(f"/usr/lib/x86_64-linux-gnu/{name}")
    tree.add("/usr/lib/x86_64-linux-gnu/libz.so.1", "libz.so.1.2.13")
    tree.add("/usr/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld.so")
    tree.add("/usr/lib/x86_64-linux-gnu/ld.so")
    tree.add("/opt/custom/lib/libcustom.so.3")
    tree.add("/etc/ld.so.conf")
    tree.texts["/etc/ld.so.conf"] = "include /etc/ld.so.conf.d/*.conf\n"
    tree.add("/etc/ld.so.conf.d/custom.conf")
    tree.texts["/etc/ld.so.conf.d/custom.conf"] = "# a comment\n/opt/custom/lib\n"
    return tree


def opencv_gui_scan(extra: tuple[ElfFile, ...] = ()) -> Scan:
    libs = f"{SP}/opencv_python.libs"
    files = (
        ElfFile(
            path=f"{SP}/cv2/cv2.abi3.so",
            needed=("libQt5Gui-afbd4980.so.5", "libz.so.1", "libc.so.6", "ld-linux-x86-64.so.2"),
            rpath=("$ORIGIN/../opencv_python.libs",),
        ),
        ElfFile(
            path=f"{libs}/libQt5Gui-afbd4980.so.5",
            needed=("libGL.so.1", "libgthread-2.0.so.0", "libstdc++.so.6"),
            runpath=("${ORIGIN}",),
        ),
        ElfFile(path=f"{SP}/cv2/qt/plugins/libqxcb.so", needed=("libGL.so.1", "libxcb.so.1")),
        ElfFile(path=f"{SP}/custom/ext.so", needed=("libcustom.so.3", "libm.so.6")),
        *extra,
    )
    owners: dict[str, str] = {}
    owners_from_record(
        f"{SP}/opencv_python-4.10.0.84.dist-info",
        "cv2/__init__.py,sha256=x,1\ncv2/cv2.abi3.so,,\nopencv_python.libs/a.so,,\n"
        "../../../bin/tool,,\nopencv_python-4.10.0.84.dist-info/RECORD,,\n",
        owners,
    )
    owners_from_record(f"{SP}/custom-1.0.dist-info", "custom/ext.so,,\n", owners)
    return Scan(site_packages=(SP,), files=files, owners=owners)


def test_read_elf_reads_a_real_extension_module_and_refuses_text(tmp_path):
    module = a_real_extension_module()
    with module.open("rb") as stream:
        elf = read_elf(stream, str(module))
    assert elf is not None and elf.machine.startswith("EM_")
    assert all(isinstance(name, str) and name for name in elf.needed)
    not_elf = tmp_path / "fake.so"
    not_elf.write_text("not an ELF file at all, but named like one\n")
    with not_elf.open("rb") as stream:
        assert read_elf(stream, str(not_elf)) is None


def test_scan_folders_finds_elf_files_and_skips_the_rest(tmp_path):
    module = a_real_extension_module()
    package = tmp_path / "site-packages" / "pkg"
    package.mkdir(parents=True)
    (package / "real.so").write_bytes(module.read_bytes())
    (package / "text.so").write_text("#!/bin/sh\n")
    (package / "module.py").write_text("x = 1\n")
    (package / "link.so").symlink_to(package / "real.so")
    dist = tmp_path / "site-packages" / "pkg-1.0.dist-info"
    dist.mkdir()
    (dist / "RECORD").write_text("pkg/real.so,,\npkg/module.py,,\n")
    scan = scan_folders([tmp_path / "site-packages"])
    assert [Path(elf.path).name for elf in scan.files] == ["real.so"]
    assert scan.owner(scan.files[0].path) == "pkg"
    assert scan.relative(scan.files[0].path) == "pkg/real.so"


def test_rpath_origin_bundled_ld_so_conf_and_merged_usr_resolve():
    result = audit(opencv_gui_scan(), debian_image())
    missing = {item.soname: item for item in result.missing}
    assert sorted(missing) == ["libGL.so.1", "libgthread-2.0.so.0", "libxcb.so.1"]
    gl = missing["libGL.so.1"]
    assert gl.needed_by == (
        "cv2/qt/plugins/libqxcb.so",
        "opencv_python.libs/libQt5Gui-afbd4980.so.5",
    )
    assert gl.distributions == ("opencv-python",)
    # $ORIGIN-relative RPATH found the bundled Qt; ld.so.conf's include found libcustom;
    # /lib -> usr/lib and a relative link found libz.
    assert result.from_system["libcustom.so.3"] == "/opt/custom/lib/libcustom.so.3"
    assert result.from_system["libz.so.1"] == "/lib/x86_64-linux-gnu/libz.so.1"
    assert "ld-linux-x86-64.so.2" in result.from_system
    assert result.files == 4 and not result.foreign


def test_driver_libraries_are_not_missing_and_cuda_ones_are_marked():
    extra = (
        ElfFile(
            path=f"{SP}/onnxruntime/capi/libonnxruntime_providers_cuda.so",
            needed=("libcuda.so.1", "libcublasLt.so.12", "libc.so.6"),
        ),
        ElfFile(path=f"{SP}/weird/arm.so", needed=("libnothing.so.9",), machine="EM_AARCH64"),
    )
    result = audit(opencv_gui_scan(extra), debian_image())
    assert result.driver == ("libcuda.so.1",)
    cuda = [item for item in result.missing if item.cuda]
    assert [item.soname for item in cuda] == ["libcublasLt.so.12"]
    assert "libcublasLt.so.12" not in {item.soname for item in result.blocking}
    assert result.foreign == 1, "another architecture's file is counted, not resolved"


def test_a_library_bundled_anywhere_in_site_packages_counts_as_provided():
    extra = (
        ElfFile(path=f"{SP}/nvidia/cublas/lib/libGL.so.1", needed=("libc.so.6",)),
        ElfFile(path=f"{SP}/other/lib/libxcb.so.1", needed=()),
        ElfFile(path=f"{SP}/glib/libgthread-2.0.so.0", needed=()),
    )
    assert audit(opencv_gui_scan(extra), debian_image()).missing == ()


def test_tar_tree_reads_an_exported_file_system(tmp_path):
    archive = tmp_path / "image.tar"
    module = a_real_extension_module().read_bytes()

    def add(tar, name, data=b"", kind=tarfile.REGTYPE, link=""):
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = link
        info.size = len(data) if kind == tarfile.REGTYPE else 0
        tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

    with tarfile.open(archive, "w") as tar:
        add(tar, "lib", kind=tarfile.SYMTYPE, link="usr/lib")
        add(tar, "usr/lib/x86_64-linux-gnu/libc.so.6", b"x")
        add(tar, "etc/ld.so.conf", b"/usr/local/lib\n")
        add(tar, f"{SP.lstrip('/')}/pkg/ext.so", module)
        add(tar, f"{SP.lstrip('/')}/pkg/notelf.so.1", b"text")
        add(tar, f"{SP.lstrip('/')}/pkg-2.0.dist-info/RECORD", b"pkg/ext.so,,\n")
        add(tar, "usr/local/lib/hard.so", kind=tarfile.LNKTYPE, link="lib/x86_64-linux-gnu/x")
    tree, scan = scan_tar(archive)
    assert tree.exists("/lib/x86_64-linux-gnu/libc.so.6")
    assert not tree.exists("/lib/x86_64-linux-gnu/libGL.so.1")
    assert tree.listdir("/usr/lib") == ["x86_64-linux-gnu"]
    assert ld_so_conf_dirs(tree) == ["/usr/local/lib"]
    assert [elf.path for elf in scan.files] == [f"{SP}/pkg/ext.so"]
    assert scan.owner(f"{SP}/pkg/ext.so") == "pkg"
    assert scan.site_packages == (SP,)


def test_host_tree_reads_this_machines_files(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "ld.so.conf").write_text("include ld.so.conf.d/*.conf\n")
    (tmp_path / "etc" / "ld.so.conf.d").mkdir()
    (tmp_path / "etc" / "ld.so.conf.d" / "a.conf").write_text("/opt/a\n")
    (tmp_path / "etc" / "ld.so.conf.d" / "b.txt").write_text("/opt/not-conf\n")
    tree = HostTree(str(tmp_path))
    assert ld_so_conf_dirs(tree) == ["/opt/a"]
    assert tree.exists("/etc/ld.so.conf") and not tree.exists("/etc/nothing")


def test_soname_table_from_debians_index_and_errors():
    assert debian_package("libGL.so.1") == "libgl1"
    assert debian_package("libgthread-2.0.so.0") == "libglib2.0-0"
    assert debian_package("libSM.so.6") == "libsm6"
    assert debian_package("libXext.so.6") == "libxext6"
    assert debian_package("libgomp.so.1") == "libgomp1"
    assert debian_package("libavcodec.so.59") == "libavcodec59", "not -extra59: the policy name"
    assert debian_package("libswscale.so.6") == "libswscale6"
    assert debian_package("libvips.so.42") == "libvips42"
    assert debian_package("libbz2.so.1.0") == "libbz2-1.0"
    assert debian_package("libgeos_c.so.1") == "libgeos-c1v5"
    assert debian_package("ld-linux-x86-64.so.2") == "libc6", "a hand entry the index cannot give"
    assert debian_package("libavcodec.so.58") is None, "bullseye's FFmpeg is not in bookworm"
    assert debian_package("libunheard-of.so.1") is None
    assert provided_by_driver("libcuda.so.1") and not provided_by_driver("libcudart.so.12")
    assert is_cuda("libcudnn.so.9") and is_cuda("libcublasLt.so.12") and not is_cuda("libc.so.6")
    error = "ImportError: libGL.so.1: cannot open shared object file: No such file or directory"
    assert soname_in_error(error) == "libGL.so.1"
    assert soname_in_error("ModuleNotFoundError: No module named 'x'") is None


@pytest.fixture
def gui_config(make_project):
    root = make_project()
    text = (root / "pyproject.toml").read_text()
    marker = "[tool.noxgrid.profile.full]\n"
    assert marker in text
    (root / "pyproject.toml").write_text(text.replace(marker, marker + 'apt = ["curl"]\n'))
    return load_config(root)


def test_missing_report_names_library_package_and_the_apt_line(gui_config):
    cell = Cell(python="3.11", accelerator="cpu", profile="full")
    diagnosis = Diagnosis(
        where="image x",
        audit=audit(opencv_gui_scan(), debian_image()),
        imports=None,
        packages={"libGL.so.1": "libgl1", "libgthread-2.0.so.0": "libglib2.0-0"},
    )
    problems, notes = missing_report(diagnosis, gui_config, cell, host=False)
    assert problems[0] == (
        "libGL.so.1 missing (Debian package libgl1), needed by cv2/qt/plugins/libqxcb.so, "
        "opencv_python.libs/libQt5Gui-afbd4980.so.5 (opencv-python); the import smoke "
        "recorded no loaded files, so it counts whoever needs it"
    )
    assert problems[2].startswith("libxcb.so.1 missing (no Debian package known)")
    fixes = [line for line in problems if line.startswith("fix: ")]
    assert fixes[0].endswith('apt = ["curl", "libgl1", "libglib2.0-0"]'), fixes
    assert "[tool.noxgrid.profile.full]" in fixes[0]
    assert "fix: find the package of libxcb.so.1: apt-file search libxcb.so.1" in fixes
    assert any("or use opencv-python-headless" in fix for fix in fixes)
    assert not any("sudo apt-get" in fix for fix in fixes), "an image is fixed by apt lines only"
    host_problems, _ = missing_report(diagnosis, gui_config, cell, host=True)
    assert "fix: install on this machine: sudo apt-get install -y libgl1 libglib2.0-0" in (
        host_problems
    )
    text = render(diagnosis, problems, notes)
    assert "3 libraries missing" in text and text.startswith("image x:")
    # cv2 loaded: Qt's xcb platform plugin (dlopen'ed, never imported) alone needs libxcb.
    diagnosis.audit = classify(diagnosis.audit, [f"{SP}/cv2/cv2.abi3.so"])
    problems, notes = missing_report(diagnosis, gui_config, cell, host=False)
    assert [line.split()[0] for line in problems if not line.startswith("fix:")] == [
        "libGL.so.1",
        "libgthread-2.0.so.0",
    ]
    assert notes[0].startswith("libxcb.so.1 missing, needed only by cv2/qt/plugins/libqxcb.so")


def test_apt_line_keeps_the_existing_order_and_adds_once():
    assert apt_line(["curl"], ["libgl1", "curl", "libgl1"]) == 'apt = ["curl", "libgl1"]'
    assert apt_line([], []) == "apt = []"


def test_import_smoke_output_and_likely_causes():
    line = json.dumps(
        [
            {"distribution": "numpy", "module": "numpy", "error": None},
            {
                "distribution": "opencv-python",
                "module": "cv2",
                "error": "ImportError: libGL.so.1: cannot open shared object file",
            },
            {"distribution": "ghost", "module": None, "error": "not installed"},
            {"distribution": "half", "module": "half", "error": "ModuleNotFoundError: No module"},
        ]
    )
    report = parse_imports(f"some noise\nNOXGRID-IMPORTS {line}\n")
    assert report.imported == ("numpy",)
    likely = [failure.likely for failure in report.failures]
    assert likely[0] == "the system library libGL.so.1 (Debian package libgl1)"
    assert "ghost itself" in likely[1]
    assert "imports without declaring it" in likely[2]
    broken = parse_imports("Traceback: Segmentation fault\n")
    assert broken.failures[0].error.startswith("the import smoke did not finish")
    assert ImportFailure("x", "x", "ValueError: odd").likely.startswith("nothing noxgrid")


def test_direct_dependencies_are_the_ones_a_requirement_file_asked_for():
    lock = parse_lock(
        "fastapi==0.110.0 \\\n    --hash=sha256:aa\n    # via -r requirements/lean.in\n"
        "starlette==0.36.0 \\\n    --hash=sha256:bb\n    # via fastapi\n"
        "numpy==1.26.0 \\\n    --hash=sha256:cc\n    # via\n    #   -r requirements/full.in\n"
        "    #   onnxruntime\n"
        "tinyproj-dep==1.0 \\\n    --hash=sha256:dd\n    # via tinyproj (pyproject.toml)\n"
    )
    assert direct_dependencies(lock) == ["fastapi", "numpy", "tinyproj-dep"]


def test_owners_of_files_in_a_shared_namespace_folder_come_from_their_record():
    owners: dict[str, str] = {}
    # Both wheels install under nvidia/; the first RECORD read claims the folder itself.
    owners_from_record(
        f"{SP}/nvidia_cublas_cu12-12.4.5.8.dist-info",
        "nvidia/__init__.py,,\nnvidia/cublas/lib/libcublas.so.12,sha256=a,1\n",
        owners,
    )
    owners_from_record(
        f"{SP}/nvidia_cudnn_cu12-9.1.0.70.dist-info",
        'nvidia/__init__.py,,\n"nvidia/cudnn/lib/libcudnn,graph.so.9",sha256=b,2\n',
        owners,
    )
    files = (
        ElfFile(path=f"{SP}/nvidia/cudnn/lib/libcudnn,graph.so.9", needed=("libnope.so.1",)),
        ElfFile(path=f"{SP}/nvidia/cublas/lib/libcublas.so.12", needed=("libnope.so.1",)),
        ElfFile(path=f"{SP}/nvidia/unlisted/libx.so", needed=()),
    )
    scan = Scan(site_packages=(SP,), files=files, owners=owners)
    assert scan.owner(files[0].path) == "nvidia-cudnn-cu12", "a quoted RECORD path is read"
    assert scan.owner(files[1].path) == "nvidia-cublas-cu12"
    assert scan.owner(files[2].path) == "nvidia-cublas-cu12", "no line: the folder's owner"
    missing = audit(scan, debian_image()).missing
    assert missing[0].distributions == ("nvidia-cublas-cu12", "nvidia-cudnn-cu12")
