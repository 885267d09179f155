"""The doctor's findings that allowances let through: missing libraries (sonames or globs)
and modules whose import smoke may fail. Pure.

An allowed finding is taken out of what fails the stage and kept as a line
(``[missing-library] libfoo.so.1 ...: allowed on purpose: <reason>``), shown with the
doctor's text, in the cell's report and in the doctor's JSON.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from noxgrid.model.allowances import Allowance, allowed_text, allowing
from noxgrid.model.doctor import Diagnosis


def allow_doctor(
    diagnosis: Diagnosis, allowances: Sequence[Allowance]
) -> tuple[Diagnosis, list[str], list[Allowance]]:
    """(the diagnosis less what ``allowances`` allow, a line for each finding allowed, the
    allowances that allowed one)."""
    lines: list[str] = []
    used: list[Allowance] = []
    kept = []
    for item in diagnosis.audit.missing:
        allowance = None if item.cuda else allowing(allowances, "missing-library", [item.soname])
        if allowance is None:
            kept.append(item)
            continue
        used.append(allowance)
        needed = ", ".join(item.needed_by[:3]) + (" ..." if len(item.needed_by) > 3 else "")
        lines.append(
            f"[missing-library] {item.soname} (needed by {needed}): "
            f"{allowed_text(allowance.reason)}"
        )
    audit = dataclasses.replace(diagnosis.audit, missing=tuple(kept))
    imports = diagnosis.imports
    if imports is not None:
        failing = []
        for failure in imports.failures:
            names = [failure.module] if failure.module else [failure.distribution]
            allowance = allowing(allowances, "import", names)
            if allowance is None:
                failing.append(failure)
                continue
            used.append(allowance)
            lines.append(
                f"[import] {names[0]} ({failure.distribution}) failed to import: "
                f"{failure.error}: {allowed_text(allowance.reason)}"
            )
        imports = dataclasses.replace(imports, failures=tuple(failing))
    allowed = dataclasses.replace(diagnosis, audit=audit, imports=imports)
    return allowed, lines, list(dict.fromkeys(used))
