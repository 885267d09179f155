import subprocess

import pytest

from tests.unit.conftest import ProcessStarted


def test_starting_a_process_in_a_unit_test_fails():
    with pytest.raises(ProcessStarted):
        subprocess.run(["true"], check=False)
