"""A budget finding says which of the largest packages grew since the committed lock."""

from __future__ import annotations

from noxgrid.model.sizes import grown


def test_grown_names_new_and_bigger_packages_only():
    previous = [("torch==2.4.0", 400_000_000), ("numpy==2.0.0", 30_000_000)]
    largest = [
        ("torch==2.5.1", 900_000_000),
        ("numpy==2.1.0", 30_500_000),  # within 5%: not growth
        ("triton==3.1.0", 300_000_000),
    ]
    assert grown(largest, previous) == {
        "torch==2.5.1": "was 400.0 MB (torch==2.4.0)",
        "triton==3.1.0": "new since the committed lock",
    }
