"""The fault matrix: each fault's outcome, reason, retryable flag, attempts, and the waits
between attempts read from the emulator's request log."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from image_cleanup.emulator import Fault
from tests.helpers import IMAGE, PROJECT

NOTICE = {"image_id": IMAGE, "project_id": PROJECT}
BASE, CAP = 0.05, 0.3


def _http_date(seconds: float) -> str:
    return format_datetime(datetime.now(timezone.utc) + timedelta(seconds=seconds), usegmt=True)


# name -> (fault factory, outcome, reason, retryable, attempts, minimum wait between attempts)
MATRIX = {
    "400": (lambda: Fault(status=400), "failed", "bad_request", False, 1, None),
    "401": (lambda: Fault(status=401), "failed", "unauthorized", False, 1, None),
    "403": (lambda: Fault(status=403), "failed", "forbidden", False, 1, None),
    "404": (lambda: Fault(status=404), "already_absent", None, False, 1, None),
    "409": (lambda: Fault(status=409), "failed", "conflict", False, 1, None),
    "429": (lambda: Fault(status=429), "failed", "throttled", True, 4, 0.0),
    "429 Retry-After seconds": (lambda: Fault(status=429, retry_after="0.2"), "failed", "throttled", True, 4, 0.2),
    "429 Retry-After date": (lambda: Fault(status=429, retry_after=_http_date(30)), "failed", "throttled", True, 4, CAP),
    "500": (lambda: Fault(status=500), "failed", "server_error", True, 4, 0.0),
    "502": (lambda: Fault(status=502), "failed", "server_error", True, 4, 0.0),
    "503": (lambda: Fault(status=503), "failed", "server_error", True, 4, 0.0),
    "504": (lambda: Fault(status=504), "failed", "server_error", True, 4, 0.0),
    "dropped connection": (lambda: Fault(drop=True), "failed", "connection_error", True, 4, 0.0),
    "hang past read timeout": (lambda: Fault(hang=10), "failed", "timeout", True, 4, 0.0),
    "non-JSON 502 body": (lambda: Fault(status=502, body=b"<html>bad gateway</html>"), "failed", "server_error", True, 4, 0.0),
    "very large 500 body": (lambda: Fault(status=500, body=b"{" * 5_000_000), "failed", "server_error", True, 4, 0.0),
}


@pytest.mark.parametrize("name", list(MATRIX))
def test_fault_matrix(name, env, emulator, invoke) -> None:
    make, outcome, reason, retryable, attempts, min_wait = MATRIX[name]
    env.setenv("CLEANUP_BACKOFF_BASE_S", str(BASE))
    env.setenv("CLEANUP_BACKOFF_MAX_S", str(CAP))
    env.setenv("CLEANUP_READ_TIMEOUT_S", "0.3")
    emulator.seed([IMAGE])
    emulator.inject(IMAGE, *[make() for _ in range(4)])
    result = invoke(NOTICE)
    item = result["items"][0]
    assert (item["outcome"], item["reason"], item["retryable"], item["attempts"]) == (
        outcome, reason, retryable, attempts)
    seen = emulator.requests_for(IMAGE)
    assert len(seen) == attempts
    gaps = [b.at - a.at for a, b in itertools.pairwise(seen)]
    slack = 0.4 if name == "hang past read timeout" else 0.15  # the hang's own timeout sits in the gap
    for n, gap in enumerate(gaps, start=1):
        ceiling = max(min(CAP, BASE * 2 ** (n - 1)), min_wait or 0.0)
        assert gap <= ceiling + slack, (n, gap)
        if min_wait:
            assert gap >= min_wait - 0.01
    if item["message"] is not None:
        assert len(item["message"]) <= 512
    assert result["status"] == ("succeeded" if outcome == "already_absent" else "failed")
    assert emulator.images == {IMAGE}  # a faulted call deleted nothing


def test_jitter_is_present_across_runs(env, emulator, invoke) -> None:
    env.setenv("CLEANUP_BACKOFF_BASE_S", "0.2")
    env.setenv("CLEANUP_BACKOFF_MAX_S", "0.2")
    first_gaps = []
    for run in range(4):
        image_id = f"{run:08x}-0000-4000-8000-000000000000"
        emulator.inject(image_id, Fault(status=503), Fault(status=404))
        invoke({"image_id": image_id, "project_id": PROJECT})
        seen = emulator.requests_for(image_id)
        first_gaps.append(seen[1].at - seen[0].at)
    assert max(first_gaps) - min(first_gaps) > 0.01  # not a fixed sleep
    assert all(gap <= 0.2 + 0.1 for gap in first_gaps)
