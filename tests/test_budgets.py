"""Backoff, Retry-After, the deadline and the load-shedding breaker, measured on real sockets."""

from __future__ import annotations

import itertools
import random
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

import handler as handler_module
from image_cleanup import RetryableCleanupError
from image_cleanup.emulator import Fault
from image_cleanup.retrying import backoff_delay, parse_retry_after
from tests.helpers import IMAGE, PROJECT, LambdaContext, image, outcomes, validate

NOTICE = {"image_id": IMAGE, "project_id": PROJECT}


def _gaps(emulator, image_id):
    times = [r.at for r in emulator.requests_for(image_id)]
    return [b - a for a, b in itertools.pairwise(times)]


def test_full_jitter_stays_under_the_exponential_ceiling() -> None:
    rng = random.Random(7)
    for n in range(1, 8):
        delays = [backoff_delay(n, 1.0, 20.0, rng=rng) for _ in range(300)]
        ceiling = min(20.0, 2 ** (n - 1))
        assert max(delays) <= ceiling and min(delays) >= 0
        assert max(delays) > 0.8 * ceiling  # spread over the range: jitter is there
        assert len({round(d, 6) for d in delays}) > 250


def test_retry_after_is_a_lower_bound_capped_at_the_maximum() -> None:
    rng = random.Random(1)
    assert all(backoff_delay(1, 0.1, 20.0, 3.0, rng) == 3.0 for _ in range(50))
    assert all(backoff_delay(1, 0.1, 2.0, 30.0, rng) == 2.0 for _ in range(50))


def test_retry_after_forms() -> None:
    now = datetime(2026, 12, 4, 10, 0, tzinfo=timezone.utc)
    assert parse_retry_after("3", now) == 3.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=5), usegmt=True), now) == 5.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=5), usegmt=True), now) == 0.0
    assert parse_retry_after("-4", now) == 0.0
    for junk in ("", None, "soon", "nan", "inf"):
        assert parse_retry_after(junk, now) is None


def test_waits_between_attempts_honour_retry_after(env, emulator, invoke) -> None:
    env.setenv("CLEANUP_BACKOFF_BASE_S", "0.01")
    env.setenv("CLEANUP_BACKOFF_MAX_S", "1.0")
    emulator.seed([IMAGE])
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=6), usegmt=True)
    emulator.inject(IMAGE, Fault(status=429, retry_after="0.6"), Fault(status=503, retry_after=when))
    assert outcomes(invoke(NOTICE)) == [(IMAGE, "deleted", None)]
    first, second = _gaps(emulator, IMAGE)
    assert 0.6 <= first < 1.0  # Retry-After seconds
    assert 0.99 <= second < 1.5  # an HTTP date seconds ahead, capped at the 1 s maximum


def test_backoff_without_retry_after_is_capped(env, emulator, invoke) -> None:
    env.setenv("CLEANUP_BACKOFF_BASE_S", "0.2")
    env.setenv("CLEANUP_BACKOFF_MAX_S", "0.25")
    env.setenv("CLEANUP_MAX_ATTEMPTS", "6")
    emulator.inject(IMAGE, *[Fault(status=503)] * 6)
    item = invoke(NOTICE)["items"][0]
    assert item["attempts"] == 6
    gaps = _gaps(emulator, IMAGE)
    assert all(gap < 0.25 + 0.1 for gap in gaps)
    assert len({round(g, 3) for g in gaps}) > 1  # jitter: the waits differ


def test_deadline_returns_in_time_and_defers_unstarted(env, emulator, invoke) -> None:
    env.setenv("CLEANUP_DEADLINE_MARGIN_S", "0.5")
    env.setenv("CLEANUP_CONCURRENCY", "1")
    ids = [image(n) for n in range(1, 6)]
    emulator.seed(ids)
    for image_id in ids:
        emulator.inject(image_id, *[Fault(hang=30)] * 4)
    started = time.monotonic()
    result = invoke({"project_id": PROJECT, "image_ids": ids}, LambdaContext(remaining_s=2.5))
    elapsed = time.monotonic() - started
    assert elapsed < 2.5 - 0.2
    reasons = [(i["outcome"], i["reason"]) for i in result["items"]]
    assert reasons[0] == ("failed", "timeout")
    assert reasons[-1] == ("deferred", "deadline_exceeded")
    assert all(i["retryable"] for i in result["items"])
    deferred = [i for i in result["items"] if i["outcome"] == "deferred"]
    assert all(i["attempts"] == 0 and i["http_status"] is None for i in deferred)
    assert result["status"] == "failed"


def test_deadline_raise_also_comes_in_time(env, emulator) -> None:
    env.setenv("CLEANUP_FAIL_ON_RETRYABLE", "true")
    env.setenv("CLEANUP_DEADLINE_MARGIN_S", "0.5")
    emulator.inject(IMAGE, *[Fault(hang=30)] * 4)
    started = time.monotonic()
    with pytest.raises(RetryableCleanupError) as raised:
        handler_module.handler(NOTICE, LambdaContext(remaining_s=2.0))
    assert time.monotonic() - started < 2.0 - 0.2
    validate(raised.value.result)


def test_no_attempt_starts_with_less_than_half_a_second(env, emulator, invoke) -> None:
    env.setenv("CLEANUP_DEADLINE_MARGIN_S", "2.0")
    emulator.seed([IMAGE])
    result = invoke(NOTICE, LambdaContext(remaining_s=2.4))
    assert outcomes(result) == [(IMAGE, "deferred", "deadline_exceeded")]
    assert emulator.requests == []


def test_no_sleep_crosses_the_deadline(env, emulator, invoke) -> None:
    env.setenv("CLEANUP_DEADLINE_MARGIN_S", "0")
    emulator.inject(IMAGE, Fault(status=429, retry_after="10"))
    env.setenv("CLEANUP_BACKOFF_MAX_S", "20")
    started = time.monotonic()
    item = invoke(NOTICE, LambdaContext(remaining_s=3.0))["items"][0]
    assert time.monotonic() - started < 1.0
    assert (item["outcome"], item["reason"], item["attempts"], item["retryable"]) == (
        "failed", "throttled", 1, True)


def test_breaker_sheds_load_after_consecutive_throttles(env, emulator, invoke) -> None:
    env.setenv("CLEANUP_CONCURRENCY", "1")
    env.setenv("CLEANUP_BREAKER_THRESHOLD", "5")
    ids = [image(n) for n in range(1, 7)]
    emulator.seed(ids)
    for image_id in ids:
        emulator.inject(image_id, *[Fault(status=429)] * 4)
    result = invoke({"project_id": PROJECT, "image_ids": ids})
    assert [(i["outcome"], i["reason"], i["attempts"]) for i in result["items"]] == [
        ("failed", "throttled", 4), ("failed", "throttled", 4),
        ("deferred", "circuit_open", 0), ("deferred", "circuit_open", 0),
        ("deferred", "circuit_open", 0), ("deferred", "circuit_open", 0)]
    assert {r.image_id for r in emulator.requests} == {image(1), image(2)}


def test_a_success_resets_the_breaker(env, emulator, invoke) -> None:
    env.setenv("CLEANUP_CONCURRENCY", "1")
    env.setenv("CLEANUP_BREAKER_THRESHOLD", "3")
    env.setenv("CLEANUP_MAX_ATTEMPTS", "3")
    ids = [image(n) for n in range(1, 5)]
    emulator.seed(ids)
    emulator.inject(image(1), Fault(status=503), Fault(status=503))  # then succeeds: count resets
    emulator.inject(image(2), Fault(status=503), Fault(status=503))
    result = invoke({"project_id": PROJECT, "image_ids": ids})
    assert [i["outcome"] for i in result["items"]] == ["deleted"] * 4


def test_breaker_off_with_zero(env, emulator, invoke) -> None:
    env.setenv("CLEANUP_CONCURRENCY", "1")
    env.setenv("CLEANUP_BREAKER_THRESHOLD", "0")
    env.setenv("CLEANUP_MAX_ATTEMPTS", "1")
    ids = [image(n) for n in range(1, 12)]
    for image_id in ids:
        emulator.inject(image_id, Fault(status=503))
    result = invoke({"project_id": PROJECT, "image_ids": ids})
    assert {i["outcome"] for i in result["items"]} == {"failed"}


def test_healthy_batch_is_not_affected_by_the_breaker(env, emulator, invoke) -> None:
    env.setenv("CLEANUP_BREAKER_THRESHOLD", "1")
    ids = [image(n) for n in range(1, 41)]
    emulator.seed(ids)
    result = invoke({"project_id": PROJECT, "image_ids": ids})
    assert result["summary"]["deleted"] == 40 and result["status"] == "succeeded"


def test_concurrency_is_bounded_and_shared_pool_is_used(env, emulator, invoke) -> None:
    env.setenv("CLEANUP_CONCURRENCY", "4")
    ids = [image(n) for n in range(1, 25)]
    emulator.seed(ids)
    for image_id in ids:
        emulator.inject(image_id, Fault(delay=0.05))
    started = time.monotonic()
    result = invoke({"project_id": PROJECT, "image_ids": ids})
    elapsed = time.monotonic() - started
    assert [i["image_id"] for i in result["items"]] == ids  # event order kept
    assert emulator.max_in_flight == 4
    assert len({r.peer for r in emulator.requests}) <= 4  # connections are pooled and reused
    assert elapsed < 24 * 0.05  # faster than one at a time
