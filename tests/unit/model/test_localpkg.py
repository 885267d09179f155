"""Local packages: what may be one, their content digest, and the venv's proof of them."""

from __future__ import annotations

import json

import pytest

from noxgrid.model.installed import Installed, find_local, prove_local
from noxgrid.model.localpkg import (
    LocalPackage,
    content_digest,
    declared_dependencies,
    local_packages_problem,
    project_problem,
    source_files,
)


@pytest.fixture
def package(tmp_path):
    root = tmp_path / "project"
    sub = root / "sub"
    (sub / "src" / "subpkg").mkdir(parents=True)
    (sub / "pyproject.toml").write_text('[project]\nname = "subpkg"\nversion = "1"\n')
    (sub / "src" / "subpkg" / "__init__.py").write_text("X = 1\n")
    (sub / "src" / "subpkg" / "data.txt").write_text("payload\n")
    return root, sub


def test_the_digest_is_stable_and_changes_with_a_source_edit(package):
    _, sub = package
    first = content_digest(sub)
    assert content_digest(sub) == first and len(first) == 64
    (sub / "src" / "subpkg" / "data.txt").write_text("payload 2\n")
    assert content_digest(sub) != first
    (sub / "src" / "subpkg" / "data.txt").write_text("payload\n")
    assert content_digest(sub) == first, "the content, not the time of the edit"
    (sub / "src" / "subpkg" / "data.txt").rename(sub / "src" / "subpkg" / "moved.txt")
    assert content_digest(sub) != first, "a renamed file changes it"


def test_build_outputs_caches_and_version_control_do_not_change_the_digest(package):
    _, sub = package
    first = content_digest(sub)
    for junk in (
        "src/subpkg/__pycache__/__init__.cpython-311.pyc",
        "src/subpkg.egg-info/PKG-INFO",
        "build/lib/subpkg/__init__.py",
        "dist/subpkg-1.tar.gz",
        ".git/HEAD",
        "src/subpkg/stale.pyc",
    ):
        (sub / junk).parent.mkdir(parents=True, exist_ok=True)
        (sub / junk).write_text("noise")
    assert content_digest(sub) == first
    assert source_files(sub) == [
        "pyproject.toml",
        "src/subpkg/__init__.py",
        "src/subpkg/data.txt",
    ]


def test_what_may_be_a_local_package(package, tmp_path):
    root, sub = package
    assert project_problem(sub, root) is None
    assert "outside the project folder" in project_problem(tmp_path, root)
    assert "outside the project folder" in project_problem(root / ".." / "elsewhere", root)
    assert "the project itself" in project_problem(root, root)
    assert "no such folder" in project_problem(root / "missing", root)
    (root / "plain").mkdir()
    assert "not a Python project" in project_problem(root / "plain", root)


def test_declared_dependencies_are_read_where_static(package):
    _, sub = package
    assert declared_dependencies(sub) == []
    (sub / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["six>=1"]\n')
    assert declared_dependencies(sub) == ["six>=1"]
    (sub / "pyproject.toml").write_text('[project]\nname = "x"\ndynamic = ["dependencies"]\n')
    assert declared_dependencies(sub) == []


def installed_from(tmp_path, source, editable=False):
    info = tmp_path / "site" / "subpkg-1.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "RECORD").write_text("")
    url = {"url": f"file://{source.resolve()}", "dir_info": {"editable": editable}}
    (info / "direct_url.json").write_text(json.dumps(url))
    return Installed(name="subpkg", version="1", dist_info=info, record_sha256="r1")


def test_the_venv_proof_finds_a_local_package_and_says_when_to_install_it_again(package, tmp_path):
    root, sub = package
    dist = installed_from(tmp_path, sub)
    found = find_local({"subpkg": dist}, root, [sub])
    assert found == {"sub": dist}
    editable = installed_from(tmp_path / "e", sub, editable=True)
    assert find_local({"subpkg": editable}, root, [sub]) == {}, "the project's kind of install"
    digest = content_digest(sub)
    recorded = {"sub": {"name": "subpkg", "digest": digest, "record": "r1"}}
    assert prove_local({"sub": digest}, found, recorded) == {}
    assert prove_local({"sub": digest}, {}, recorded) == {"sub": "not installed"}
    assert "no record" in prove_local({"sub": digest}, found, {})["sub"]
    assert "its source changed" in prove_local({"sub": "0" * 64}, found, recorded)["sub"]
    moved = {"sub": {**recorded["sub"], "record": "r0"}}
    assert "RECORD changed" in prove_local({"sub": digest}, found, moved)["sub"]


def test_the_report_line_and_the_json_form():
    package = LocalPackage(path="sub", digest="ab" * 32, name="subpkg", version="1", action="kept")
    assert package.describe() == "sub (subpkg 1, sha256 abababababab, kept)"
    assert LocalPackage.from_dict(package.as_dict()) == package


def test_a_dockerfile_without_the_build_argument_would_build_an_image_without_them():
    assert local_packages_problem("FROM x\n", "docker/Dockerfile", "") is None
    assert local_packages_problem('ARG LOCAL_PACKAGES=""\n', "Dockerfile", "./sub") is None
    problem = local_packages_problem("FROM x\n", "docker/Dockerfile", "./sub")
    assert "docker/Dockerfile has no `ARG LOCAL_PACKAGES`" in problem and "fix:" in problem


def test_a_folder_with_a_space_is_found_from_its_escaped_url(tmp_path):
    from noxgrid.model.localpkg import direct_url_path

    info = tmp_path / "x.dist-info"
    info.mkdir()
    (info / "direct_url.json").write_text(
        '{"url": "file:///srv/my%20app/sub%C3%A9", "dir_info": {}}'
    )
    assert direct_url_path(info) == "/srv/my app/subé"
