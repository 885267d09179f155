"""The doctor: the ELF audit and the import smoke of one cell, in its venv or its image.

It turns what :mod:`noxgrid.model.audit` finds into findings a person can act on:
each missing library with who needs it, the Debian package that provides it
(the table in :mod:`noxgrid.model.sonames`, then the host's ``dpkg-query``), and the
exact ``apt = [...]`` line for the profile. The import smoke imports the
top-level modules of the cell's direct dependencies with the cell's own
interpreter and names, for a failure, the module, the error and the likely
missing package.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from noxgrid.model.audit import (
    AuditResult,
    audit,
    interpreter_lib_dirs,
    scan_folders,
    venv_site_packages,
)
from noxgrid.model.config import Config, relative_path
from noxgrid.model.elf import HostTree
from noxgrid.model.matrix import Cell
from noxgrid.model.reach import (
    LOADED_HOOK,
    LOADED_REPORT,
    parse_loaded,
    reach_unknown,
    unreached_notes,
)
from noxgrid.model.sonames import BASE_PACKAGES, HEADLESS_VARIANTS, debian_package, soname_in_error

# Run by the cell's interpreter (3.9 and later): imports each distribution's
# top-level modules and prints one JSON line (and what it loaded: noxgrid.model.reach).
# Keep it free of noxgrid imports.
IMPORT_SMOKE = (
    LOADED_HOOK
    + r"""
import importlib, json, os, sys
TRACE = os.environ.get("NOXGRID_TRACE") == "1" and hasattr(sys, "addaudithook")
if TRACE:
    asked, opened, listed = set(), set(), set()
    def _hook(event, args):
        if event not in ("open", "os.listdir", "os.scandir"):
            return
        target = args[0] if args else "."
        if isinstance(target, int):
            return
        try:  # a hook that raises would fail the import it watches: never raise
            target = os.path.abspath(os.fsdecode(os.fspath(target if target is not None else ".")))
        except Exception:
            return
        (opened if event == "open" else listed).add(target)
    sys.addaudithook(_hook)
    class _Asked:
        @staticmethod
        def find_spec(name, path=None, target=None):
            asked.add(name.split(".")[0])
    sys.meta_path.insert(0, _Asked)
try:
    import importlib.metadata as metadata
except ImportError:
    metadata = None
SKIP = {"test", "tests", "testing", "docs", "doc", "examples", "benchmarks", "bin", "share"}
def modules_of(dist):
    text = dist.read_text("top_level.txt")
    if text:
        names = [line.strip() for line in text.split() if line.strip()]
    else:
        names = set()
        for entry in dist.files or ():
            parts = entry.parts
            if not parts or parts[0].startswith(".."):
                continue
            top = parts[0]
            if len(parts) == 1:
                if top.endswith(".py"):
                    names.add(top[:-3])
                elif ".so" in top or top.endswith(".pyd"):
                    names.add(top.split(".", 1)[0])
            elif not top.endswith((".dist-info", ".data", ".libs")) and top != "__pycache__":
                names.add(top)
        names = sorted(names)
    return [n for n in names if n.replace("_", "a").isalnum() and n not in SKIP
            and not n[0].isdigit()]
results = []
for name in sys.argv[1:]:
    try:
        dist = metadata.distribution(name)
    except Exception as exc:
        results.append({"distribution": name, "module": None, "error": "not installed"})
        continue
    for module in modules_of(dist):
        try:
            importlib.import_module(module)
        except BaseException as exc:
            text = str(exc).strip()
            error = "%s: %s" % (type(exc).__name__, text.splitlines()[0] if text else "")
            results.append({"distribution": name, "module": module, "error": error})
        else:
            results.append({"distribution": name, "module": module, "error": None})
sys.stdout.write("\nNOXGRID-IMPORTS " + json.dumps(results) + "\n")
if TRACE:
    asked.update(name.split(".")[0] for name in list(sys.modules))
    trace = {"asked": sorted(asked), "opened": sorted(opened), "listed": sorted(listed),
             "path": [os.path.abspath(entry) for entry in sys.path]}
    sys.stdout.write("NOXGRID-TRACE " + json.dumps(trace) + "\n")
"""
    + LOADED_REPORT
)
TRACE_MARKER = "NOXGRID-TRACE "

MARKER = "NOXGRID-IMPORTS "


@dataclass(frozen=True)
class ImportFailure:
    """One top-level module that did not import."""

    distribution: str
    module: str | None
    error: str

    @property
    def likely(self) -> str:
        """What is probably missing, in words."""
        soname = soname_in_error(self.error)
        if soname:
            package = debian_package(soname)
            if package:
                return f"the system library {soname} (Debian package {package})"
            return f"the system library {soname}"
        if self.error == "not installed":
            return f"the distribution {self.distribution} itself (the lock lists it)"
        if self.error.startswith("ModuleNotFoundError"):
            return (
                f"a Python package {self.distribution} imports without declaring it; "
                "add it to the profile's requirements"
            )
        return "nothing noxgrid can name: read the error"


@dataclass(frozen=True)
class ImportReport:
    """The outcome of importing the direct dependencies."""

    imported: tuple[str, ...]
    failures: tuple[ImportFailure, ...]
    output: str = ""
    loaded: tuple[str, ...] | None = None  # the shared objects it loaded; None: not recorded

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form."""
        return {
            "imported": list(self.imported),
            "failures": [
                {
                    "distribution": item.distribution,
                    "module": item.module,
                    "error": item.error,
                    "likely": item.likely,
                }
                for item in self.failures
            ],
            "loaded": None if self.loaded is None else list(self.loaded),
        }


def parse_imports(output: str) -> ImportReport:
    """Read the JSON line the import smoke prints."""
    for line in reversed(output.splitlines()):
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER) :])
            imported = tuple(
                f"{item['module']}" for item in data if item["error"] is None and item["module"]
            )
            failures = tuple(
                ImportFailure(item["distribution"], item["module"], item["error"])
                for item in data
                if item["error"] is not None
            )
            return ImportReport(
                imported=imported, failures=failures, output=output, loaded=parse_loaded(output)
            )
    tail = "\n".join(output.strip().splitlines()[-10:])
    return ImportReport(
        imported=(),
        failures=(ImportFailure("(python)", None, f"the import smoke did not finish: {tail}"),),
        output=output,
    )


def audit_venv(venv: Path) -> AuditResult:
    """The ELF audit of a venv against this machine's libraries."""
    start = time.perf_counter()
    scan = scan_folders(venv_site_packages(venv))
    result = audit(scan, HostTree(), extra_dirs=interpreter_lib_dirs(venv))
    return dataclasses.replace(result, seconds=time.perf_counter() - start)


@dataclass
class Diagnosis:
    """The findings for one tree (the venv here, or the image), ready to print."""

    where: str
    audit: AuditResult
    imports: ImportReport | None
    packages: dict[str, str | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form."""
        return {
            "where": self.where,
            "audit": self.audit.as_dict(),
            "packages": self.packages,
            "imports": self.imports.as_dict() if self.imports else None,
        }


def apt_line(current: Sequence[str], add: Iterable[str]) -> str:
    """``apt = ["curl", "libgl1"]``: the profile's list with ``add`` appended."""
    packages = list(current)
    for package in add:
        if package not in packages:
            packages.append(package)
    return "apt = [" + ", ".join(f'"{package}"' for package in packages) + "]"


def missing_report(
    diagnosis: Diagnosis, config: Config, cell: Cell, *, host: bool
) -> tuple[list[str], list[str]]:
    """(problems, notes) for the missing libraries of one diagnosis.

    ``host``: the tree is this machine (the fix is to install the package here
    too); otherwise it is the cell's image (the fix is the apt line alone).
    """
    problems, add, unknown, headless = _missing(diagnosis)
    if problems:
        fixes = _fixes(config, cell, add, unknown, headless, host=host)
        problems = [*problems, *(f"fix: {fix}" for fix in fixes)]
    notes = unreached_notes(diagnosis.audit) + _cuda_notes(diagnosis)
    if host:
        notes += _slim_image_notes(diagnosis, config, cell)
    return problems, notes


def _missing(diagnosis: Diagnosis) -> tuple[list[str], list[str], list[str], set[str]]:
    """(a line per missing library, the Debian packages to add, the libraries no package is
    known for, the headless variants that would need none of them)."""
    problems: list[str] = []
    add: list[str] = []
    unknown: list[str] = []
    headless: set[str] = set()
    for item in diagnosis.audit.blocking:
        package = diagnosis.packages.get(item.soname)
        shown = ", ".join(item.needed_by[:3]) + (
            f" and {len(item.needed_by) - 3} more" if len(item.needed_by) > 3 else ""
        )
        owners = ", ".join(item.distributions) or "an installed package"
        provider = f"Debian package {package}" if package else "no Debian package known"
        problems.append(
            f"{item.soname} missing ({provider}), needed by {shown} ({owners})"
            + reach_unknown(item)
        )
        if package and package not in add:
            add.append(package)
        elif not package:
            unknown.append(item.soname)
        headless.update(
            HEADLESS_VARIANTS[name] for name in item.distributions if name in HEADLESS_VARIANTS
        )
    return problems, add, unknown, headless


def _fixes(
    config: Config,
    cell: Cell,
    add: Sequence[str],
    unknown: Sequence[str],
    headless: set[str],
    *,
    host: bool,
) -> list[str]:
    """The apt line for the profile, the install here, how to find unknown packages."""
    profile = config.profiles[cell.profile]
    pyproject = relative_path(config.pyproject, Path.cwd())
    fixes: list[str] = []
    new = [package for package in add if package not in profile.apt]
    if new:
        fixes.append(
            f"add to [tool.noxgrid.profile.{cell.profile}] in {pyproject}: "
            + apt_line(profile.apt, new)
        )
    if host and add:
        fixes.append("install on this machine: sudo apt-get install -y " + " ".join(add))
    for soname in unknown:
        fixes.append(f"find the package of {soname}: apt-file search {soname}")
    for variant in sorted(headless):
        fixes.append(
            f"or use {variant}, which needs none of the GUI libraries (a server has no display)"
        )
    return fixes


def _cuda_notes(diagnosis: Diagnosis) -> list[str]:
    cuda = [item for item in diagnosis.audit.missing if item.cuda]
    if not cuda:
        return []
    names = ", ".join(item.soname for item in cuda)
    owners = ", ".join(sorted({name for item in cuda for name in item.distributions}))
    return [
        f"CUDA libraries not installed ({names}; needed by {owners}): the CUDA code "
        "paths will not load. A GPU image wants a CUDA runtime base image with cuDNN "
        '(base-image = "nvidia/cuda:<version>-cudnn-runtime-<os>") or NVIDIA\'s wheels '
        "for the CUDA major these names carry (nvidia-cublas-cuNN, nvidia-cudnn-cuNN)"
    ]


def _slim_image_notes(diagnosis: Diagnosis, config: Config, cell: Cell) -> list[str]:
    """Libraries the venv takes from this machine that the profile's image may lack."""
    profile = config.profiles[cell.profile]
    outside = sorted(
        {
            package
            for soname, package in diagnosis.packages.items()
            if soname in diagnosis.audit.from_system
            and soname not in diagnosis.audit.unreached_system
            and package
            and package not in BASE_PACKAGES
            and package not in profile.apt
        }
    )
    if not outside or not config.docker.image:
        return []
    return [
        "libraries this venv takes from this machine that a slim image lacks unless "
        f"the profile installs them: {', '.join(outside)}; the image's audit will tell "
        f"({apt_line(profile.apt, outside)})"
    ]


def render(diagnosis: Diagnosis, problems: Sequence[str], notes: Sequence[str]) -> str:
    """A readable block for the terminal and the stage log."""
    result = diagnosis.audit
    lines = [f"{diagnosis.where}:"]
    lines.append(
        f"  ELF audit: {result.files} ELF files in {result.seconds:.2f}s, "
        + (
            f"{len(result.blocking)} librar{'y' if len(result.blocking) == 1 else 'ies'} missing"
            if result.blocking
            else "every needed library found"
        )
        + (f" ({len(result.from_system)} from the system)" if result.from_system else "")
    )
    for problem in problems:
        lines.append(f"    {problem}")
    if diagnosis.imports is not None:
        report = diagnosis.imports
        lines.append(
            f"  import smoke: {len(report.imported)} modules imported, "
            f"{len(report.failures)} failed"
        )
        for failure in report.failures:
            module = failure.module or failure.distribution
            lines.append(f"    import {module} ({failure.distribution}): {failure.error}")
            lines.append(f"      likely missing: {failure.likely}")
    for note in notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


def parse_trace(output: str) -> dict[str, object] | None:
    """The NOXGRID-TRACE line of an import smoke run with NOXGRID_TRACE=1, or None."""
    for line in reversed(output.splitlines()):
        if line.startswith(TRACE_MARKER):
            try:
                data = json.loads(line[len(TRACE_MARKER) :])
            except ValueError:
                return None
            return data if isinstance(data, dict) else None
    return None
