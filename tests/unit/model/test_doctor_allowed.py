"""The doctor's allowances: a missing library or a failed import allowed on purpose is shown,
and fails nothing."""

from __future__ import annotations

from noxgrid.model.allowances import Allowance
from noxgrid.model.audit import AuditResult, Missing
from noxgrid.model.doctor import Diagnosis, ImportFailure, ImportReport
from noxgrid.model.doctor_allowed import allow_doctor


def diagnosis() -> Diagnosis:
    return Diagnosis(
        where="venv",
        audit=AuditResult(
            files=3,
            missing=(
                Missing(
                    soname="libibverbs.so.1",
                    needed_by=("torch/lib/libgloo.so",),
                    distributions=("torch",),
                ),
                Missing(
                    soname="libGL.so.1", needed_by=("cv2/cv2.so",), distributions=("opencv-python",)
                ),
            ),
            from_system={},
        ),
        imports=ImportReport(
            imported=("numpy",),
            failures=(
                ImportFailure("easyocr", "easyocr", "OSError: no model"),
                ImportFailure("cv2x", "cv2x", "ImportError: libGL.so.1"),
            ),
        ),
    )


def test_nothing_allowed_leaves_the_diagnosis_as_it_is():
    before = diagnosis()
    after, lines, used = allow_doctor(before, [])
    assert after == before and lines == [] and used == []


def test_allowed_libraries_and_modules_are_lines_not_failures():
    allowances = [
        Allowance(
            rule="missing-library", subjects=("libibverbs.so.*",), reason="RDMA, never loaded"
        ),
        Allowance(rule="import", subjects=("easyocr",), reason="downloads its model"),
    ]
    after, lines, used = allow_doctor(diagnosis(), allowances)
    assert used == allowances
    assert [item.soname for item in after.audit.blocking] == ["libGL.so.1"]
    assert after.imports is not None and [f.module for f in after.imports.failures] == ["cv2x"]
    assert lines == [
        "[missing-library] libibverbs.so.1 (needed by torch/lib/libgloo.so): "
        "allowed on purpose: RDMA, never loaded",
        "[import] easyocr (easyocr) failed to import: OSError: no model: "
        "allowed on purpose: downloads its model",
    ]


def test_a_package_allowance_does_not_allow_a_library():
    allowances = [Allowance(rule="forbidden", subjects=("libGL*",), reason="r")]
    after, lines, used = allow_doctor(diagnosis(), allowances)
    assert len(after.audit.blocking) == 2 and lines == [] and used == []
