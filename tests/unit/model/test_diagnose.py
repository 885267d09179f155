"""Failures that name their cause: the package that did not build, the module a profile lacks."""

from __future__ import annotations

from noxgrid.model.diagnose import distribution_for, install_failure, suite_failure


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
