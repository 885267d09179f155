"""What the import smoke imports: whatever declared it, and a smoke with nothing to import."""

from __future__ import annotations

from noxgrid.model.direct import direct_dependencies, nothing_imported
from noxgrid.model.lockfile import Lock, LockedPackage


def lock(**via: tuple[str, ...]) -> Lock:
    return Lock(
        header={},
        packages={
            name: LockedPackage(name=name, version="1.0", hashes=("sha256:00",), via=vias)
            for name, vias in via.items()
        },
    )


def test_dependencies_the_build_backend_declared_are_imported_too():
    # A dynamic project (setup.py, [tool.setuptools.dynamic]): uv names the project itself,
    # which the lock never pins.
    found = lock(
        six=("dynsvc",),
        idna=("dynsvc", "requests"),
        requests=("-r requirements/lean.in",),
        urllib3=("requests",),
        tomli=("dynsvc (pyproject.toml)",),
    )
    assert direct_dependencies(found) == ["idna", "requests", "six", "tomli"]


def test_a_smoke_with_nothing_to_import_says_why():
    assert "the lock installs no distribution the project asks for (0 package(s) locked)" in (
        nothing_imported(lock())
    )
    stubs = lock(**{"types-requests": ("-r requirements/lean.in",)})
    assert nothing_imported(stubs) == (
        "the import smoke had nothing to import: types-requests install(s) no importable module"
    )
