"""The soak run at a small size (the full one: python benchmarks/soak.py)."""

from __future__ import annotations

import pytest

from benchmarks.soak import soak
from tests.helpers import validate


@pytest.mark.soak
def test_soak_small_nothing_lost_nothing_twice() -> None:
    report = soak(images=400, concurrency=16, rate_503=0.2, rate_429=0.05, seed=3, keep_result=True)
    validate(report["result"])
    assert report["problems"] == []
    assert report["max_in_flight"] <= 16
    assert report["max_in_flight"] > 1  # the deletes did overlap
    assert report["requests"] > 400  # the faults were served and retried
    assert report["outcomes"].get("deleted", 0) > 300
