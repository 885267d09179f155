"""Green means verified: the pure rules behind each case of the trust work.

Each test here fails on a noxgrid that passes what it did not check: a lock
edited by hand, sizes that could not be read, a session name that is not a
cell's, a project that pins itself, a report broken by a suite's output.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from noxgrid.commands.release_report import markdown_report, release_document
from noxgrid.model.declaration import load_config
from noxgrid.model.diagnose import distribution_for, install_failure, suite_failure
from noxgrid.model.inputs import expand_self, requirement_problems
from noxgrid.model.lockfile import body_digest, parse_lock, seal
from noxgrid.model.matrix import Cell, expand
from noxgrid.model.results import CellResult, Release, StageResult, Status
from noxgrid.model.sizes import PackageSize, SizeEstimate, build_needs
from noxgrid.model.text import clean_text
from noxgrid.nox_sessions import not_cell_names, requested_sessions
from noxgrid.render.html import render_html
from noxgrid.render.junit import render_junit

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


def test_session_names_that_are_not_cells_are_refused(make_project):
    matrix = expand(load_config(make_project()))
    assert requested_sessions(["-s", "ci-lean-3.1(cpu)", "lint", "-j", "2"], {}) == [
        "ci-lean-3.1(cpu)",
        "lint",
    ]
    assert requested_sessions(["--sessions=ci-lean"], {}) == ["ci-lean"]
    assert requested_sessions([], {"NOXSESSION": "a,b"}) == ["a", "b"]
    assert not_cell_names(["ci-lean-3.1(cpu)", "ci-lean-3.1"], matrix) == [
        "ci-lean-3.1(cpu)",
        "ci-lean-3.1",
    ]
    exact = [
        "ci-lean-3.10(cpu)",
        "ci-lean",
        "ci-lean-3.10",
        "lint",
        "ci-lean-3.10(accelerator='cpu')",
    ]
    assert not_cell_names(exact, matrix) == []


def test_failed_installs_name_the_package_and_the_fix():
    output = (
        "Resolved 1 package\n"
        "  x Failed to build `gmpy==1.17`\n"
        "  ├─▶ The build backend returned an error\n"
        "      src/gmpy.c:1:10: fatal error: gmp.h: No such file or directory\n"
    )
    reason = install_failure(output, 1, cell="3.11-cpu-lean", requirements="requirements/lean.in")
    first = reason.splitlines()[0]
    assert first.startswith("gmpy==1.17 could not be built from source: fatal error: gmp.h")
    assert "fix: pin a version of it that ships a wheel" in first
    hashed = install_failure(
        "error: Hash mismatch for `six==1.17.0`\n", 1, cell="c", requirements="r"
    )
    assert "does not match any hash in the lock; fix: noxgrid lock c" in hashed


def test_a_missing_module_names_the_profile_and_the_line_to_add():
    output = (
        "==================================== ERRORS ====================================\n"
        "_____________________ ERROR collecting tests/test_api.py ______________________\n"
        "E   ModuleNotFoundError: No module named 'yaml'\n"
        "=========================== short test summary info ============================\n"
        "ERROR tests/test_api.py\n"
        "!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!\n"
        "1 error in 0.12s\n"
    )
    reason = suite_failure(
        output, 2, cell="3.11-cpu-lean", profile="lean", requirements="requirements/lean.in"
    ).splitlines()[0]
    assert reason.startswith("the suite could not import 'yaml' (ModuleNotFoundError in tests/")
    assert "fix: add PyYAML to requirements/lean.in, then noxgrid lock 3.11-cpu-lean" in reason
    assert distribution_for("cv2.dnn") == "opencv-python-headless"


NASTY = (
    "\x1b[31mFAILED\x1b[0m tests/test_x.py::test_y - AssertionError: bad \x00\x07\x0b"
    " \ud800 \ufffe \x1b]8;;http://x\x07link\x1b]8;;\x07 | <b>&</b>\r\nnext"
)


def nasty_result() -> CellResult:
    stages = (
        StageResult(name="suite", status=Status.FAILED, duration=1.0, detail=NASTY),
        StageResult(name="report", status=Status.PASSED, duration=0.1, detail=NASTY),
    )
    return CellResult(
        cell=Cell(python="3.11", accelerator="cpu", profile="lean"),
        stages=stages,
        started_at="2026-11-30T10:00:00+00:00",
        duration=1.1,
        notes=(NASTY,),
    )


def test_every_report_stays_valid_whatever_the_output_holds():
    result = nasty_result()
    release = Release(results=(result,), expected=(result.cell,))
    junit = render_junit([result], missing=[Cell(python="3.9", accelerator="cpu", profile="lean")])
    root = ET.fromstring(junit.encode("utf-8"))  # well-formed XML, or this raises
    assert root.get("errors") == "1" and "\x1b" not in junit
    page = render_html(release, title="t\x1b[1m", generated="g")
    HTMLParser().feed(page)
    assert "\x1b" not in page and "\x00" not in page and "<b>&</b>" not in page
    document = json.dumps(release_document(release, generated="g"))
    json.loads(document)
    document.encode("utf-8")  # no lone surrogate survives
    markdown = markdown_report(release, title="T")
    assert "\x1b" not in markdown and "\x00" not in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("- `3.11-cpu-lean`"))
    assert "\\|" in row, "a pipe cannot break the list item or a table"


def test_clean_text_keeps_text_and_drops_controls():
    assert clean_text("a\x1b[1;32mb\x1b[0m\tc\r\nd\x00") == "ab\tc\nd"
    assert clean_text("bad \ud800 byte") == "bad \ufffd byte"


@pytest.mark.parametrize("kind", ["FAILED", "MISSING", "NOT VERIFIED"])
def test_release_problems_are_written_in_every_format(kind):
    cell = Cell(python="3.11", accelerator="cpu", profile="lean")
    if kind == "MISSING":
        results: tuple[CellResult, ...] = ()
    else:
        result = nasty_result()
        if kind == "NOT VERIFIED":
            result = CellResult(
                cell=cell,
                stages=(StageResult(name="suite", status=Status.PASSED, duration=1.0),),
                started_at="2026-11-30T10:00:00+00:00",
                duration=1.0,
            )
        results = (result,)
    release = Release(results=results, expected=(cell,))
    assert not release.passed
    assert kind in markdown_report(release, title="T")
    assert kind in render_html(release, title="T", generated="g")
    assert release_document(release, generated="g")["problems"][0]["status"] == kind
