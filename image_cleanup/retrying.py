"""Time and failure budgets shared by the concurrent deletes of one invocation.

Hand-written rather than urllib3's ``Retry``: the contract wants full jitter with ``Retry-After``
as a lower bound, sleeps that never cross the invocation's deadline, per-attempt timeouts cut to
the time left, and a breaker counted across all images; ``Retry`` offers none of these.
"""

from __future__ import annotations

import math
import random
import threading
import time
from datetime import datetime, timezone

MIN_ATTEMPT_S = 0.5


class Deadline:
    """The invocation's deadline on the monotonic clock; None means no deadline."""

    def __init__(self, remaining_s: float | None, margin_s: float, since: float | None = None) -> None:
        """``remaining_s`` as the platform said it at ``since`` (a monotonic time; default now)."""
        start = time.monotonic() if since is None else since
        self._at = None if remaining_s is None else start + remaining_s - margin_s

    def remaining(self) -> float:
        return float("inf") if self._at is None else self._at - time.monotonic()

    def can_start_attempt(self, after_sleep_s: float = 0.0) -> bool:
        return self.remaining() - after_sleep_s >= MIN_ATTEMPT_S

    def attempt_timeouts(self, connect_s: float, read_s: float) -> tuple[float, float]:
        """The configured timeouts, scaled down together so that both fit in the time left."""
        left = self.remaining()
        if connect_s + read_s <= left:
            return connect_s, read_s
        scale = max(left, 0.0) / (connect_s + read_s)
        return connect_s * scale, read_s * scale


class Breaker:
    """Counts consecutive throttled / 5xx / connection-failed attempts across all images."""

    def __init__(self, threshold: int) -> None:
        self._threshold = threshold
        self._consecutive = 0
        self._lock = threading.Lock()

    def record(self, *, overloaded: bool, healthy: bool) -> None:
        with self._lock:
            if overloaded:
                self._consecutive += 1
            elif healthy:
                self._consecutive = 0

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._threshold > 0 and self._consecutive >= self._threshold


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime  # only an HTTP-date needs the email package

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def backoff_delay(
    retry_number: int,
    base_s: float,
    cap_s: float,
    retry_after_s: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Full jitter before the n-th retry (n >= 1); Retry-After, capped, is the lower bound."""
    ceiling = min(cap_s, base_s * 2 ** (retry_number - 1))
    delay = (rng or random).uniform(0.0, ceiling)
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, cap_s))
    return delay
