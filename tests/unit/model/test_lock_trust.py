"""A lock that can be trusted: sealed, its forms lockable, never the project itself, sizes
unknown when they are.
"""

from __future__ import annotations

from noxgrid.model.declaration import load_config
from noxgrid.model.forms import requirement_problems
from noxgrid.model.inputs import expand_self
from noxgrid.model.lockfile import body_digest, parse_lock, seal
from noxgrid.model.sizes import PackageSize, SizeEstimate, build_needs

LOCK = """# Lock of cell 3.11-cpu-lean, written by noxgrid: do not edit by hand.
# inputs-sha256: abc

six==1.17.0 \\
    --hash=sha256:aaaa
    # via -r requirements/lean.in
    # from https://pypi.org/simple
idna @ https://example.org/idna-3.10-py3-none-any.whl \\
    --hash=sha256:bbbb
    # via -r requirements/lean.in
"""


def test_a_sealed_lock_is_sealed_and_any_edit_breaks_the_seal():
    sealed = seal(LOCK)
    assert parse_lock(sealed).body_state == "sealed"
    assert "# body-sha256: " in sealed.splitlines()[2], "right after the inputs digest"
    added = sealed + "evil==1.0 \\\n    --hash=sha256:cccc\n"
    assert parse_lock(added).body_state == "edited"
    changed_hash = sealed.replace("sha256:aaaa", "sha256:aaab")
    assert parse_lock(changed_hash).body_state == "edited"
    assert parse_lock(LOCK).body_state == "unsealed"
    assert body_digest(sealed) == body_digest(LOCK), "the digest ignores its own line"
    assert body_digest(sealed.replace("\n", "\r\n")) == body_digest(LOCK), "line endings"


def test_direct_urls_and_their_index_are_parsed_without_a_version_error():
    lock = parse_lock(LOCK)
    idna = lock.packages["idna"]
    assert idna.url == "https://example.org/idna-3.10-py3-none-any.whl"
    assert idna.version == "3.10" and idna.index is None
    assert lock.packages["six"].index == "https://pypi.org/simple"


def test_self_referring_extras_are_expanded_never_pinned():
    extras = {
        "tests": ["attrs[tests-mypy]", "pytest>=8", "attrs[cov]; python_version >= '3.10'"],
        "tests-mypy": ["mypy>=1.10", "attrs[tests]"],
        "cov": ["coverage[toml]"],
    }
    result = expand_self(["attrs[tests]"], "attrs", extras)
    assert "attrs" not in " ".join(r.split("[")[0].split(">")[0] for r in result)
    assert "mypy>=1.10" in result and "pytest>=8" in result
    assert 'coverage[toml]; python_version >= "3.10"' in result, "the marker is carried"
    assert len(result) == len(set(result)), "each extra once, even in a cycle"


def test_requirement_forms_that_cannot_be_locked_are_named_with_file_and_line(make_project):
    root = make_project(
        files={
            "requirements/lean.in": (
                "--index-url https://mirror.example/simple\n"
                "--extra-index-url https://internal.example/simple\n"
                "pytest\n"
                "mylib @ git+https://github.com/acme/mylib@main\n"
                "./vendor/thing\n"
                "wheelpkg @ https://example.org/wheelpkg-1.0-py3-none-any.whl\n"
                "-e .[tests]\n"
            ),
            "requirements/full.in": "numpy\n",
        }
    )
    config = load_config(root)
    problems = requirement_problems(config, [root / "requirements" / "lean.in"])
    where = [p[0] for p in problems]
    assert where == [
        "requirements/lean.in:1",
        "requirements/lean.in:2",
        "requirements/lean.in:4",
        "requirements/lean.in:5",
    ]
    text = "\n".join(f"{w}: {p} fix: {f}" for w, p, f in problems)
    assert "may not choose the index (--index-url)" in text and 'index-url = "..."' in text
    assert "extra-index-urls" in text and "explicit opt-in" in text
    assert "VCS requirement cannot be hash-pinned" in text
    assert "local path cannot be hash-pinned" in text


def test_unknown_sizes_stay_unknown():
    sized = PackageSize(
        name="a",
        version="1",
        filename="a-1-py3-none-any.whl",
        download=10,
        installed=20,
        exact=True,
    )
    estimate = SizeEstimate(packages=(sized,), unknown=("b==2",), errors=("index down",))
    assert estimate.download is None and estimate.installed is None
    assert not estimate.complete and estimate.unreachable
    whole = SizeEstimate(packages=(sized,), unknown=())
    assert whole.download == 10 and whole.installed is not None


def test_build_needs_reads_the_sdist():
    needs = build_needs(["gmpy-1.17/src/gmpy.c", "gmpy-1.17/setup.py"], None)
    assert "a C compiler" in needs and "setuptools" in needs
    rust = build_needs(["x/Cargo.toml"], '[build-system]\nrequires = ["maturin>=1"]\n')
    assert "maturin>=1" in rust and "Rust" in rust
