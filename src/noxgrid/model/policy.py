"""Check a resolved lock against the cell's rules, before anything is installed. Pure.

=================  ===========================================================
finding            when
=================  ===========================================================
forbidden          a package matches the accelerator's ``forbid`` globs
                   (cpu: ``nvidia-*``, ``triton``, ``onnxruntime-gpu``, ...)
exclusive          two packages of one group are both present
                   (``opencv-python`` / ``opencv-python-headless``, ...)
gui-opencv         the GUI build of OpenCV (needs libGL) in a server image
budget             the installed-size estimate exceeds the profile's budget
source-build       a package has no wheel for the cell and the profile does not
                   allow it to be built from source (``source-builds``)
index              a package came from an index the configuration does not name
=================  ===========================================================

Each finding names the package, the chain that pulled it in and the fix. A finding an
allowance (``[[tool.noxgrid.allow]]``) covers stays a finding, marked with it, and does not
refuse the lock (:func:`refusing`). A glob of ``forbid`` judges what a wheel is: a package
it matches whose wheel for the cell is pure Python (``nvidia-ml-py``) is not forbidden; a
name written out exactly always is.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from packaging.utils import canonicalize_name

from noxgrid.model.allowances import Allowance, allowance_form, allowed_text, allowing
from noxgrid.model.config import Accelerator, Policy, Profile
from noxgrid.model.lockfile import Lock
from noxgrid.model.opencvfix import gui_fix
from noxgrid.model.results import format_size
from noxgrid.model.sizes import largest_lines

GUI_OPENCV = ("opencv-python", "opencv-contrib-python")


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One reason to refuse a lock (none where ``allowance`` allows it on purpose)."""

    kind: str
    packages: tuple[str, ...]
    chains: tuple[str, ...]
    message: str
    fix: str
    allowance: Allowance | None = None

    @property
    def allowed(self) -> str | None:
        """The reason it is allowed on purpose, or None when it refuses the lock."""
        return self.allowance.reason if self.allowance is not None else None

    def render(self) -> str:
        """A paragraph: what, the chains, the fix (or why it is allowed)."""
        lines = [f"[{self.kind}] {self.message}"]
        lines += [f"    {chain}" for chain in self.chains]
        if self.allowance is not None:
            lines.append(f"  {allowed_text(self.allowance.reason)} ({self.allowance.where})")
        else:
            lines.append(f"  fix: {self.fix}")
        return "\n".join(lines)

    def summary(self) -> str:
        """One line: ``[exclusive] ...: allowed on purpose: <reason>`` (for reports)."""
        text = f"[{self.kind}] {self.message}"
        return f"{text}: {allowed_text(self.allowed)}" if self.allowed else text


def refusing(findings: Sequence[Finding]) -> list[Finding]:
    """The findings that refuse the lock: those no allowance covers."""
    return [finding for finding in findings if finding.allowance is None]


def allowed(findings: Sequence[Finding]) -> list[Finding]:
    """The findings allowed on purpose."""
    return [finding for finding in findings if finding.allowance is not None]


def _chain_text(lock: Lock, name: str) -> str:
    return " <- ".join(lock.chain(name))


def _forbidden_fix(accelerator: Accelerator, names: Sequence[str], chain: Sequence[str]) -> str:
    table = f"[tool.noxgrid.accelerator.{accelerator.name}]"
    pulled_by = [canonicalize_name(n) for n in chain[1:-1]]
    if "torch" in pulled_by:
        return (
            f'set torch-backend = "cpu" in {table} so uv takes torch\'s CPU build '
            "(no CUDA libraries) from PyTorch's index"
        )
    if any(n == "onnxruntime-gpu" for n in names):
        return (
            "require onnxruntime (the CPU build) in the requirement files and let gpu "
            'cells swap it: replace = { onnxruntime = "onnxruntime-gpu" } under '
            "[tool.noxgrid.accelerator.gpu]"
        )
    if any(n.startswith("faiss-gpu") for n in names):
        return "require faiss-cpu for this accelerator (faiss-gpu needs CUDA)"
    top = chain[-2] if len(chain) >= 2 else names[0]
    if len(chain) >= 2 and _is_project(chain[-1]):
        # The project itself asks for it: there is no requirement line to move.
        return (
            f"{top} is a dependency of the project itself ({chain[-1]}): move it to an "
            f"extra that {accelerator.name} cells do not install (a profile of its own with "
            f"extras = [...]), or remove the pattern from forbid in {table}"
        )
    return (
        f"drop {top} from {chain[-1]} for {accelerator.name} cells (move it to a "
        f"profile or file they do not use), or remove the pattern from forbid in {table}"
    )


def _is_project(source: str) -> bool:
    """True where a chain ends at the project itself: its static dependencies
    (``pyproject.toml``) or its name (read from its build backend), not a requirement file."""
    if source == "pyproject.toml" or source.endswith("(pyproject.toml)"):
        return True
    return "/" not in source and not source.endswith((".in", ".txt"))


def _source_findings(
    lock: Lock,
    profile: Profile,
    source_only: Sequence[tuple[str, str]] | None,
    allowances: Sequence[Allowance] = (),
) -> list[Finding]:
    if source_only is None:
        source_only = [(pin, "") for pin in lock.source_builds()]
    groups: dict[Allowance | None, list[tuple[str, str]]] = {}
    for pin, needs in source_only:
        name = pin.split("==")[0].split(" @ ")[0]
        if not profile.allows_source_build(name):
            allowance = allowing(allowances, "source-build", [name])
            groups.setdefault(allowance, []).append((pin, needs))
    return [
        replace(_source_finding(lock, profile, refused), allowance=allowance)
        for allowance, refused in groups.items()
    ]


def _source_finding(lock: Lock, profile: Profile, refused: Sequence[tuple[str, str]]) -> Finding:
    names = [pin.split("==")[0].split(" @ ")[0] for pin, _ in refused]
    quoted = ", ".join(f'"{name}"' for name in names)
    return Finding(
        kind="source-build",
        packages=tuple(names),
        chains=tuple(
            f"{_chain_text(lock, name)}" + (f"  (needs {needs})" if needs else "")
            for name, (_, needs) in zip(names, refused, strict=True)
        ),
        message=f"{len(refused)} package(s) have no wheel for this cell and would be "
        f"built from source during the install: {', '.join(pin for pin, _ in refused)}",
        fix="pin a version that ships a wheel for this Python and platform, or allow the "
        f"build: source-builds = [{quoted}] in [tool.noxgrid.profile.{profile.name}] "
        "(and add what it needs to apt = [...])",
    )


def _index_findings(lock: Lock, indexes: Sequence[str]) -> list[Finding]:
    allowed = {url.rstrip("/") for url in indexes}
    strangers = [
        package
        for package in lock.packages.values()
        if package.index and package.index not in allowed
    ]
    return [
        Finding(
            kind="index",
            packages=(package.name,),
            chains=(_chain_text(lock, package.name),),
            message=f"{package.name}=={package.version} came from {package.index}, an index "
            "the configuration does not name (set through UV_EXTRA_INDEX_URL, uv.toml or "
            "a requirement file?)",
            fix="name it in extra-index-urls of [tool.noxgrid.accelerator.<name>] (the "
            "explicit opt-in to a second index), or remove it from uv's settings",
        )
        for package in strangers
    ]


def evaluate(
    lock: Lock,
    *,
    accelerator: Accelerator,
    policy: Policy,
    profile: Profile,
    installed_estimate: int | None = None,
    largest: Sequence[tuple[str, int]] = (),
    source_only: Sequence[tuple[str, str]] | None = None,
    indexes: Sequence[str] | None = None,
    previous: Sequence[tuple[str, int]] | None = None,
    allowances: Sequence[Allowance] = (),
    pure: Collection[str] | None = None,
) -> list[Finding]:
    """Every finding for ``lock`` in a cell of ``accelerator`` and ``profile``, each
    marked with the allowance (of ``allowances``, those of the cell) that covers it.

    ``previous``: the largest packages of the lock this one replaces (the committed
    one), so that a budget finding says which packages grew.
    ``source_only``: (name==version, what building it needs) of each package
    without a wheel for the cell (default: what the lock's header records).
    ``indexes``: the indexes the configuration names (None: not checked).
    ``pure``: the packages whose wheel for the cell is pure Python (default: what the
    lock's wheels say).
    """
    pure = lock.pure_python() if pure is None else {canonicalize_name(n) for n in pure}
    findings = _source_findings(lock, profile, source_only, allowances)
    if indexes is not None:
        findings += _index_findings(lock, indexes)
    findings += _forbidden_findings(lock, accelerator, allowances, pure)
    findings += _exclusive_findings(lock, policy, allowances)
    if policy.forbid_gui_opencv:
        findings += _gui_findings(lock, profile.name)
    findings += _budget_findings(profile, installed_estimate, largest, previous)
    return [_way_out(_marked(finding, allowances), lock) for finding in findings]


def _way_out(finding: Finding, lock: Lock) -> Finding:
    """A refusing ``finding`` whose fix also says how to allow it on purpose (the second
    way out, after the real fix): its ``[[tool.noxgrid.allow]]`` entry."""
    if finding.allowance is not None:
        return finding
    keep = None
    if finding.kind == "exclusive":
        # The variant nearest the requirement files: the one the project asks for.
        keep = min(finding.packages, key=lambda name: len(lock.chain(name)))
    subjects = () if finding.kind == "budget" else finding.packages
    return replace(finding, fix=f"{finding.fix}; {allowance_form(finding.kind, subjects, keep)}")


def _marked(finding: Finding, allowances: Sequence[Allowance]) -> Finding:
    """``finding`` with the allowance that covers every one of its packages, if any."""
    if finding.allowance is not None:
        return finding
    subjects = () if finding.kind == "budget" else finding.packages
    allowance = allowing(allowances, finding.kind, subjects)
    if finding.kind == "exclusive" and allowance is not None:
        return finding  # judged with its keep, in _exclusive_findings
    return replace(finding, allowance=allowance) if allowance is not None else finding


def forbidden_by(name: str, forbid: Sequence[str], pure: Collection[str]) -> bool:
    """True when ``forbid`` forbids package ``name``: by its exact name always; by a glob
    only when its wheel for the cell is not pure Python (a glob judges what a wheel is:
    ``nvidia-*`` means CUDA's libraries, not ``nvidia-ml-py``'s Python bindings)."""
    key = canonicalize_name(name)
    for pattern in forbid:
        if not any(char in pattern for char in "*?["):
            if key == canonicalize_name(pattern):
                return True
        elif key not in pure and (
            fnmatch.fnmatchcase(key, canonicalize_name(pattern))
            or fnmatch.fnmatchcase(key, pattern)
        ):
            return True
    return False


def _forbidden_findings(
    lock: Lock, accelerator: Accelerator, allowances: Sequence[Allowance], pure: Collection[str]
) -> list[Finding]:
    """Forbidden packages, grouped by the allowed package that pulled them in (and by the
    allowance that covers them): torch's twenty CUDA wheels are one finding."""

    def forbidden(name: str) -> bool:
        return forbidden_by(name, accelerator.forbid, pure)

    groups: dict[tuple[tuple[str, ...], Allowance | None], list[str]] = {}
    for name in sorted(lock.packages):
        if forbidden(name):
            pulled_by = lock.chain(name)[1:]
            # Up to the first package the patterns do not name (a pure-Python wheel they
            # name, such as cuda-toolkit's, is no reason to split the group).
            while len(pulled_by) > 1 and forbidden_by(pulled_by[0], accelerator.forbid, ()):
                pulled_by = pulled_by[1:]
            allowance = allowing(allowances, "forbidden", [name])
            groups.setdefault((tuple(pulled_by), allowance), []).append(lock.packages[name].name)
    findings = []
    for (above, allowance), members in groups.items():
        shown = ", ".join(members[:6]) + (
            f" and {len(members) - 6} more" if len(members) > 6 else ""
        )
        chain = [members[0], *above]
        findings.append(
            Finding(
                kind="forbidden",
                packages=tuple(members),
                chains=(" <- ".join([shown, *above]),),
                message=f"{len(members)} package(s) forbidden in {accelerator.name} cells: {shown}",
                fix=_forbidden_fix(accelerator, [canonicalize_name(m) for m in members], chain),
                allowance=allowance,
            )
        )
    return findings


def _exclusive_findings(
    lock: Lock, policy: Policy, allowances: Sequence[Allowance] = ()
) -> list[Finding]:
    """Two packages of one exclusive group, both in the lock; allowed where an exclusive
    allowance names all of them and its ``keep`` is one of them (installed last)."""
    findings = []
    groups = [*policy.exclusive, *(a.subjects for a in allowances if a.rule == "exclusive")]
    reported: set[frozenset[str]] = set()
    for group in groups:
        present = [canonicalize_name(n) for n in group if canonicalize_name(n) in lock.packages]
        if len(present) < 2 or any(frozenset(present) <= seen for seen in reported):
            continue
        reported.add(frozenset(present))
        allowance = allowing(allowances, "exclusive", present)
        if allowance is not None and canonicalize_name(allowance.keep or "") not in present:
            allowance = None  # keep is not in the lock: nothing can win on purpose
        variants = [lock.packages[n].name for n in present]
        headless = "opencv-python-headless" if any("opencv" in n for n in present) else None
        fix = (
            f"keep only {headless} (servers need no GUI); where a dependency pulls "
            "another variant, pin that dependency to a release that uses the headless "
            "build or install it with --no-deps"
            if headless
            else f"keep one of {', '.join(variants)}; they install the same module and "
            "overwrite each other"
        )
        findings.append(
            Finding(
                kind="exclusive",
                packages=tuple(variants),
                chains=tuple(_chain_text(lock, n) for n in present),
                message=f"{' and '.join(variants)} are both in the lock, and only one can work"
                + (f"; {allowance.keep} is installed last, so its files win" if allowance else ""),
                fix=fix,
                allowance=allowance,
            )
        )
    return findings


def _gui_findings(lock: Lock, profile: str) -> list[Finding]:
    """OpenCV's GUI build, which needs libGL in a slim server image."""
    return [
        Finding(
            kind="gui-opencv",
            packages=(gui,),
            chains=(_chain_text(lock, gui),),
            message=f"{gui} is OpenCV's GUI build: in a slim server image it fails "
            "to import without libGL.so.1 (libgl1)",
            fix=gui_fix(gui, profile),
        )
        for gui in GUI_OPENCV
        if gui in lock.packages
    ]


def _budget_findings(
    profile: Profile,
    installed_estimate: int | None,
    largest: Sequence[tuple[str, int]],
    previous: Sequence[tuple[str, int]] | None = None,
) -> list[Finding]:
    """The installed-size estimate over the profile's budget, with the ten largest (and,
    against the committed lock, which of them grew)."""
    budget = profile.size_budget
    if budget is None or installed_estimate is None or installed_estimate <= budget:
        return []
    top = largest_lines(largest[:10], previous or None)
    return [
        Finding(
            kind="budget",
            packages=tuple(name for name, _ in largest[:10]),
            chains=tuple(top),
            message=f"the installed size is estimated at {format_size(installed_estimate)}, "
            f"over the {format_size(budget)} budget of profile '{profile.name}'; "
            "the ten largest:",
            fix=f"drop or replace the largest packages, or raise size-budget in "
            f"[tool.noxgrid.profile.{profile.name}]",
        )
    ]
