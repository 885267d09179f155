"""uv's failures, as uv 0.13 printed them, read for the index it named and the Python a
package excludes (model.uvfailures, model.resolution.network_failure)."""

from __future__ import annotations

from noxgrid.model.resolution import network_failure
from noxgrid.model.uvfailures import (
    host,
    python_excluded,
    python_fix,
    unreachable_url,
)

# uv pip compile torch --torch-backend cpu (PyTorch's index unreachable from here).
TORCH_INDEX = """\
error: Request failed after 3 retries in 8.5s
  cause: Failed to fetch: https://download.pytorch.org/whl/cpu/torch/
  cause: error sending request for url (https://download.pytorch.org/whl/cpu/torch/)
  cause: client error (Connect)
  cause: dns error
  cause: error resolving DNS
  cause: failed to lookup address information: Name or service not known
"""

# A managed Python that could not be downloaded is a warning before a resolution that worked
# (or failed for another reason): not an unreachable index.
PYTHON_DOWNLOAD = """\
warning: A managed Python download is available for Python 3.13, but an error occurred when attempting to download it.
  cause: Request failed after 3 retries in 10.7s
  cause: Failed to download `https://github.com/astral-sh/python-build-standalone/releases/download/20261110/cpython-3.13.18%2B20261110-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz`
  cause: dns error
warning: The requested Python version 3.13 is not available; 3.11.7 will be used to build dependencies instead.
"""

# numpy==2.3.0 for 3.10.
PINNED = """\
error: No solution found when resolving dependencies
  cause: Because the requested Python version (>=3.10) does not satisfy Python>=3.11 and numpy==2.3.0 depends on Python>=3.11, we can conclude that numpy==2.3.0 cannot be used.
         And because you require numpy==2.3.0, we can conclude that your requirements are unsatisfiable.

hint: The `--python-version` value (>=3.10) includes Python versions that are not supported by your dependencies (e.g., numpy==2.3.0 only supports >=3.11). Consider using a higher `--python-version` value.
"""

# numpy>=2.1 for 3.9 (the start of uv's longer explanation, as printed).
RANGES = """\
error: No solution found when resolving dependencies
  cause: Because the requested Python version (>=3.9) does not satisfy Python>=3.11 and all of:
             numpy>=2.3.0rc1,<=2.4.0rc1
             numpy>=2.4.1,<=2.4.6
         depend on Python>=3.11, we can conclude that all of:
             numpy>=2.3.0rc1,<=2.4.0rc1
             numpy>=2.4.1,<=2.4.6
          cannot be used.
         And because numpy==2.4.0 was yanked (reason: Backward compatibility bug) and you require numpy>=2.1, we can conclude that your requirements are unsatisfiable.
"""

# numpy<2 for 3.13 where only wheels may be used (--only-binary numpy).
NO_WHEEL = """\
error: No solution found when resolving dependencies
  cause: Because all of:
             numpy<=1.9.3
             numpy>=1.10.4,<=1.26.4
          have no usable wheels and only the following versions of numpy are available:
             numpy<=1.26.4
             numpy>=2
         And because all of:
             numpy==1.10.0
             numpy==1.10.3
          have no wheels with a matching Python ABI tag (e.g., `cp313`), we can conclude that numpy<=1.26.4 cannot be used.
         And because only the following versions of numpy are available:
             numpy<=1.26.4
             numpy>=2
         and you require numpy<2, we can conclude that your requirements are unsatisfiable.

hint: You require CPython 3.13 (`cp313`), but we only found wheels for `numpy` (v1.10.3) with the following Python ABI tags: `cp26m`, `cp26mu`, `cp27m`
"""

# A setup.py project whose python_requires is >=3.12, locked for 3.11.
PROJECT = """\
error: No solution found when resolving dependencies
  cause: Because the requested Python version (>=3.11) does not satisfy Python>=3.12 and mysvc==0.1 depends on Python>=3.12, we can conclude that mysvc==0.1 cannot be used.
         And because only mysvc==0.1 is available and you require mysvc, we can conclude that your requirements are unsatisfiable.
"""


def test_the_unreachable_index_is_the_one_uv_named():
    assert network_failure(TORCH_INDEX)
    assert unreachable_url(TORCH_INDEX) == "https://download.pytorch.org/whl/cpu/torch/"
    assert host("https://download.pytorch.org/whl/cpu/torch/") == "download.pytorch.org"


def test_a_python_download_warning_is_not_a_network_failure():
    assert not network_failure(PYTHON_DOWNLOAD + PINNED)
    assert unreachable_url(PYTHON_DOWNLOAD + PINNED) is None


def test_a_pin_above_the_cells_python_gets_noxgrids_fix():
    excluded = python_excluded(PINNED)
    assert excluded is not None and excluded.packages == ("numpy",)
    assert python_fix(excluded, "3.10", "svc") == (
        'drop "3.10" from python in [tool.noxgrid] (or exclude its cells), or change the pin '
        "that excludes it: numpy==2.3.0 (numpy needs Python>=3.11)"
    )


def test_version_ranges_quote_the_package_and_the_requirement():
    excluded = python_excluded(RANGES)
    assert excluded is not None
    assert (excluded.packages, excluded.needs, excluded.required) == (
        ("numpy",),
        "Python>=3.11",
        "numpy>=2.1",
    )


def test_no_wheel_for_the_abi_names_the_pin_that_excludes_it():
    excluded = python_excluded(NO_WHEEL)
    assert excluded is not None
    assert python_fix(excluded, "3.13", None).endswith(
        "change the pin that excludes it: numpy<2 (numpy needs a wheel for cp313)"
    )


def test_the_projects_own_requires_python_says_to_widen_it():
    excluded = python_excluded(PROJECT)
    assert excluded is not None
    assert python_fix(excluded, "3.11", "mysvc").endswith(
        "or widen the project's own requires-python (Python>=3.12)"
    )


def test_other_failures_are_left_to_uvs_words():
    assert python_excluded(TORCH_INDEX) is None
    assert python_excluded("error: No solution found\n  cause: Because foo was not found") is None


# uv pip compile of a project depending on a git requirement, github.com unreachable (uv 0.13).
GIT_FETCH = """\
error: Failed to download and build `python-doctr @ git+https://github.com/mindee/doctr.git@main`
  cause: Git operation failed
  cause: failed to clone into: /root/.cache/uv/git-v2/db/b607cc50f3961e1c
  cause: failed to fetch branch or tag `main`
  cause: process didn't exit successfully: `/usr/bin/git fetch --force --update-head-ok 'https://github.com/mindee/doctr.git' '+refs/tags/main:refs/remotes/origin/tags/main'` (exit status: 128)
         --- stderr
         fatal: unable to access 'https://github.com/mindee/doctr.git/': Could not resolve host: github.com
"""


def test_a_git_requirement_git_cannot_fetch_is_a_network_failure_naming_the_host():
    from noxgrid.model.uvfailures import git_requirement, host

    assert network_failure(GIT_FETCH)
    assert unreachable_url(GIT_FETCH) == "https://github.com/mindee/doctr.git/"
    assert host(unreachable_url(GIT_FETCH) or "") == "github.com"
    assert (
        git_requirement(GIT_FETCH) == "python-doctr @ git+https://github.com/mindee/doctr.git@main"
    )
    assert git_requirement(TORCH_INDEX) is None
