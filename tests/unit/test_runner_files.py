"""No test sees the GitHub runner's files: what a test writes stays in the test."""

from __future__ import annotations

import os

from tests.conftest import RUNNER_FILES


def test_the_runners_file_variables_are_gone_in_every_test():
    assert [name for name in RUNNER_FILES if name in os.environ] == []
