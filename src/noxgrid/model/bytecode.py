"""Where a cell's Python processes write bytecode: into the cell's venv, never into the
project's working tree.

The install does not compile the venv's bytecode (``uv --compile-bytecode`` compiled
every module of every distribution, most of which no test imports: 21 s of a 30 s cold
cell on a FastAPI + scikit-learn service, docs/benchmarks.md). Python writes the .pyc of
what it imports instead, as a plain venv does, under ``PYTHONPYCACHEPREFIX`` in the venv:
the doctor's probes and the suite share them, the next run reads them, and the working
tree gets no ``__pycache__`` from noxgrid's processes. ``PYTHONDONTWRITEBYTECODE`` (kept
for the tree) is cleared for them: with it, every run would compile its imports again.
A user's own ``PYTHONPYCACHEPREFIX`` is theirs and wins, with their
``PYTHONDONTWRITEBYTECODE``. The file proof never reads this folder: no RECORD lists it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

# The folder in the venv that holds the bytecode of everything the cell's processes import.
PYCACHE = "pycache"


def bytecode_env(venv: Path, env: Mapping[str, str]) -> dict[str, str]:
    """The additions to ``env`` for a Python process run in ``venv``'s cell."""
    if env.get("PYTHONPYCACHEPREFIX"):
        return {}
    # An empty PYTHONDONTWRITEBYTECODE is the variable unset (Python reads non-empty only).
    return {"PYTHONPYCACHEPREFIX": str(venv / PYCACHE), "PYTHONDONTWRITEBYTECODE": ""}
