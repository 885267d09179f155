"""Where a cell's Python processes write bytecode: into the cell's venv, never into the
project's working tree on a user's behalf.

The install does not compile the venv's bytecode (``uv --compile-bytecode`` compiled
every module of every distribution, most of which no test imports: 21 s of a 30 s cold
cell on a FastAPI + scikit-learn service). Python writes the .pyc of what the doctor's
probes and the suite import instead, as in a plain venv: beside the sources, where the
next run reads them (docs/locks.md, *Bytecode*, has the measurements).

Where the user set ``PYTHONDONTWRITEBYTECODE`` (no bytecode in their tree), the cell's
processes write it under ``PYTHONPYCACHEPREFIX`` in the venv instead, with the variable
cleared: otherwise every run would compile its imports again. Not by default: with a
prefix Python ignores the interpreter's own compiled standard library and compiles the
parts it imports again, about 0.5 s of CPU per venv. A user's own ``PYTHONPYCACHEPREFIX``
is theirs and wins. The file proof never reads bytecode: no RECORD lists it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

# The folder in the venv that holds the bytecode of everything the cell's processes import
# where the user set PYTHONDONTWRITEBYTECODE.
PYCACHE = "pycache"

# Run before the application is loaded by the doctor: the project's own modules are
# imported from the working tree, whose bytecode is the suite's business, not the probe's.
NO_TREE_BYTECODE = "import sys as _noxgrid_bc\n_noxgrid_bc.dont_write_bytecode = True\n"


def bytecode_env(venv: Path, env: Mapping[str, str]) -> dict[str, str]:
    """The additions to ``env`` for a Python process run in ``venv``'s cell."""
    if env.get("PYTHONPYCACHEPREFIX") or not env.get("PYTHONDONTWRITEBYTECODE"):
        return {}  # the user's prefix, or Python's default: beside the sources
    # An empty PYTHONDONTWRITEBYTECODE is the variable unset (Python reads non-empty only).
    return {"PYTHONPYCACHEPREFIX": str(venv / PYCACHE), "PYTHONDONTWRITEBYTECODE": ""}
