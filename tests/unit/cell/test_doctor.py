"""The doctor's failure in one line: the first cause and its fix, never a dangling colon."""

from __future__ import annotations

from noxgrid.cell.doctor import cause_line
from noxgrid.model.doctor import ImportFailure


def test_the_first_missing_library_and_every_fix_in_one_line():
    problems = [
        "libvips.so.42 missing (Debian package libvips42), needed by pyvips/_libvips.so (pyvips)",
        "libGL.so.1 missing (Debian package libgl1), needed by cv2/cv2.abi3.so (opencv-python)",
        'fix: add to [tool.noxgrid.profile.full] in pyproject.toml: apt = ["libvips42", "libgl1"]',
        "fix: install on this machine: sudo apt-get install -y libvips42 libgl1",
    ]
    failure = ImportFailure("pyvips", "pyvips", "OSError: cannot load library 'libvips.so.42'")
    assert cause_line(problems, [failure]) == (
        "libvips.so.42 missing (Debian package libvips42), needed by pyvips/_libvips.so "
        "(pyvips) (and 1 more); 1 import(s) failed; fix: add to [tool.noxgrid.profile.full] "
        'in pyproject.toml: apt = ["libvips42", "libgl1"]; install on this machine: '
        "sudo apt-get install -y libvips42 libgl1"
    )


def test_an_import_failure_alone_names_the_module_and_what_is_likely_missing():
    failures = [
        ImportFailure(
            "opencv-python", "cv2", "ImportError: libGL.so.1: cannot open shared object file"
        ),
        ImportFailure("half", "half", "ModuleNotFoundError:"),
    ]
    line = cause_line([], failures)
    assert line.startswith(
        "import cv2 (opencv-python) failed: ImportError: libGL.so.1: cannot open shared object "
        "file; "
        "likely missing: the system library libGL.so.1 (Debian package libgl1)"
    ), line
    assert line.endswith("; 2 import(s) failed")
    assert cause_line([], [failures[1]]).startswith(
        "import half (half) failed: ModuleNotFoundError; likely"
    )


def test_a_line_never_ends_with_a_colon():
    cuda = "this machine has a GPU and the CUDA libraries are missing: ['libcudnn.so.9']"
    assert cause_line([cuda], []) == cuda
    assert not cause_line(["venv .noxgrid/venvs/x:"], []).endswith(":")
    assert cause_line([], []) == "the doctor found a problem; the stage log has it"


def test_an_error_noxgrid_cannot_explain_is_shown_without_a_guess():
    line = cause_line([], [ImportFailure("x", "x", "ValueError: odd")])
    assert line == "import x (x) failed: ValueError: odd"


def test_the_audit_runs_while_the_smoke_runs_and_either_error_is_raised():
    import threading

    import pytest

    from noxgrid.cell.doctor import alongside

    audited, smoking = threading.Event(), threading.Event()

    def audit():  # each waits for the other: only the two at once finish
        assert smoking.wait(10), "the audit ran before the smoke"
        audited.set()
        return "audit"

    def smoke():
        smoking.set()
        assert audited.wait(10), "the audit did not run while the smoke ran"
        return "smoke"

    assert alongside(audit, smoke) == ("audit", "smoke")

    def broken():
        raise ValueError("unreadable")

    with pytest.raises(ValueError, match="unreadable"):
        alongside(broken, lambda: "smoke")
    with pytest.raises(KeyboardInterrupt):
        alongside(lambda: "audit", lambda: (_ for _ in ()).throw(KeyboardInterrupt()))


def test_an_interrupted_smoke_does_not_wait_for_the_audit():
    """Ctrl-C during the import smoke of a large venv: the stage ends now, not when the
    audit's thread has read every file."""
    import threading
    import time

    import pytest

    from noxgrid.cell.doctor import alongside

    release = threading.Event()

    def slow_audit():
        release.wait(10)
        return "audit"

    def interrupted():
        raise KeyboardInterrupt

    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        alongside(slow_audit, interrupted)
    waited = time.monotonic() - start
    release.set()
    assert waited < 5, f"the interrupt waited {waited:.1f} s for the audit"
