"""Validation and safety guards (SPEC section 4): pure decisions, made before any call.

Each notice becomes a ``Decision``: either a final outcome (rejected or skipped, with its reason)
or a ``Target`` that may be deleted. Checks run in the contract's order and the first failure
wins; the blast-radius cap then counts only the targets.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal, NamedTuple

from image_cleanup.envelopes import EventError
from image_cleanup.identifiers import canonical_image_id, clip, is_project_id, parse_rfc3339
from image_cleanup.notices import Notice
from image_cleanup.results import ItemResult, item_result

CLOCK_SKEW = timedelta(seconds=60)


class Policy(NamedTuple):
    default_project_id: str | None
    allowed_project_ids: frozenset[str]
    protected_image_ids: frozenset[str]
    max_images: int
    dry_run: bool
    now: datetime


class Decision(NamedTuple):
    """The verdict on one notice. ``outcome`` None means: a target, to delete (or dry-run)."""

    record_index: int
    record_id: str | None
    image_id: str | None
    project_id: str | None
    outcome: Literal["rejected", "skipped", "deferred"] | None = None
    reason: str | None = None
    message: str | None = None
    dry_run: bool = False
    retryable: bool = False

    @property
    def is_target(self) -> bool:
        return self.outcome is None

    def as_item(self) -> ItemResult:
        """The result of an image that was never tried: its verdict, or ``would_delete``."""
        return item_result(
            self.image_id, self.project_id, self.outcome or "would_delete", reason=self.reason,
            message=self.message, retryable=self.retryable, record_id=self.record_id,
        )


def _judge(notice: Notice, policy: Policy, seen: set[tuple[str, str]]) -> Decision:
    image_id = canonical_image_id(notice.image_id)
    raw_project = policy.default_project_id if notice.project_id is None else notice.project_id
    project_ok = is_project_id(raw_project)
    project = raw_project if isinstance(raw_project, str) else ""
    base = Decision(
        notice.record_index,
        notice.record_id,
        image_id or clip(notice.image_id),
        raw_project if project_ok else clip(raw_project),
        dry_run=policy.dry_run or notice.dry_run,
    )

    def refuse(outcome: Literal["rejected", "skipped"], reason: str, message: str) -> Decision:
        return base._replace(outcome=outcome, reason=reason, message=message)

    if notice.image_id is None:
        return refuse("rejected", "missing_image_id", "the notice names no image_id")
    if image_id is None:
        return refuse("rejected", "invalid_image_id", "image_id is not a canonical UUID")
    if raw_project is None:
        return refuse(
            "rejected", "missing_project_id",
            "no project_id in the notice and no default project configured",
        )
    if not project_ok:
        return refuse("rejected", "invalid_project_id", "project_id must be 32 ASCII letters and digits")
    if policy.allowed_project_ids and project not in policy.allowed_project_ids:
        return refuse("rejected", "project_not_allowed", "project is not in CLEANUP_ALLOWED_PROJECT_IDS")
    if image_id in policy.protected_image_ids:
        return refuse("skipped", "protected_image", "image is in CLEANUP_PROTECTED_IMAGE_IDS")
    if notice.expires_at is not None:
        expires_at = parse_rfc3339(notice.expires_at)
        if expires_at is None:
            return refuse(
                "rejected", "invalid_expires_at",
                "expires_at is not an RFC 3339 timestamp with an offset",
            )
        if expires_at > policy.now + CLOCK_SKEW:
            return refuse("skipped", "not_yet_expired", f"image expires at {notice.expires_at}")
    key = (project, image_id)
    if key in seen:
        return refuse("skipped", "duplicate", "the same image appears earlier in this invocation")
    seen.add(key)
    return base


def decide(
    notices: Sequence[Notice], policy: Policy, *, record_batch: bool
) -> tuple[list[Decision], list[EventError]]:
    """Judge every notice; apply the blast-radius cap to those that would be acted on."""
    seen: set[tuple[str, str]] = set()
    decisions = [_judge(notice, policy, seen) for notice in notices]
    targets = sum(1 for d in decisions if d.is_target)
    if targets <= policy.max_images:
        return decisions, []
    if record_batch:
        return _defer_over_cap(decisions, policy.max_images), []
    message = f"{targets} images would be deleted, over CLEANUP_MAX_IMAGES={policy.max_images}"
    refused = [
        d if d.outcome == "rejected" else d._replace(
            outcome="rejected", reason="too_many_images", message=f"event refused: {message}"
        )
        for d in decisions
    ]
    return refused, [EventError("too_many_images", message)]


def _defer_over_cap(decisions: list[Decision], cap: int) -> list[Decision]:
    """Take records in order; the record that would cross the cap and all after it wait."""
    per_record: dict[int, int] = {}
    for d in decisions:
        if d.is_target:
            per_record[d.record_index] = per_record.get(d.record_index, 0) + 1
    admitted: set[int] = set()
    count = 0
    for index in sorted(per_record):
        if count + per_record[index] > cap:
            break
        count += per_record[index]
        admitted.add(index)
    message = f"over CLEANUP_MAX_IMAGES={cap} in this batch; left for redelivery"
    return [
        d if not d.is_target or d.record_index in admitted else d._replace(
            outcome="deferred", reason="too_many_images", message=message, retryable=True
        )
        for d in decisions
    ]
