"""Validation and guards (SPEC section 4): every reason, in order, before any call."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from image_cleanup.guards import Policy, decide
from image_cleanup.notices import Notice
from tests.helpers import IMAGE, OTHER_PROJECT, PROJECT, image, load_event, outcomes


def test_each_guard_reason(env, emulator, invoke) -> None:
    env.setenv("CLEANUP_ALLOWED_PROJECT_IDS", f" {PROJECT} ,, ")
    env.setenv("CLEANUP_PROTECTED_IMAGE_IDS", f"{image(4).upper()}, ")
    future = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    emulator.seed([image(n) for n in range(1, 10)])
    event = {"project_id": PROJECT, "images": [
        {"image_id": image(1)},
        {"project_id": PROJECT},
        {"image_id": "not-a-uuid"},
        {"image_id": image(2), "project_id": "short"},
        {"image_id": image(3), "project_id": OTHER_PROJECT},
        {"image_id": image(4)},
        {"image_id": image(5), "expires_at": future},
        {"image_id": image(6), "expires_at": "yesterday"},
        {"image_id": image(1).upper()},
        {"image_id": image(7), "dry_run": True},
    ]}
    result = invoke(event)
    assert outcomes(result) == [
        (image(1), "deleted", None),
        (None, "rejected", "missing_image_id"),
        ("not-a-uuid", "rejected", "invalid_image_id"),
        (image(2), "rejected", "invalid_project_id"),
        (image(3), "rejected", "project_not_allowed"),
        (image(4), "skipped", "protected_image"),
        (image(5), "skipped", "not_yet_expired"),
        (image(6), "rejected", "invalid_expires_at"),
        (image(1), "skipped", "duplicate"),
        (image(7), "would_delete", None),
    ]
    assert [r.image_id for r in emulator.requests] == [image(1)]
    assert result["status"] == "partial" and result["dry_run"] is False
    never_tried = [i for i in result["items"] if i["outcome"] != "deleted"]
    assert all(i["attempts"] == 0 and i["http_status"] is None for i in never_tried)
    assert result["items"][3]["project_id"] == "short"


def test_missing_project_id_and_default_project(env, emulator, invoke) -> None:
    emulator.seed([IMAGE])
    assert outcomes(invoke({"image_id": IMAGE})) == [(IMAGE, "rejected", "missing_project_id")]
    env.setenv("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)
    result = invoke({"image_id": IMAGE})
    assert outcomes(result) == [(IMAGE, "deleted", None)]
    assert result["items"][0]["project_id"] == PROJECT
    assert emulator.requests[-1].path == f"/v2.1/{PROJECT}/images/{IMAGE}"


def test_first_failing_check_wins() -> None:
    now = datetime.now(timezone.utc)
    policy = Policy(None, frozenset({PROJECT}), frozenset({IMAGE}), 10, False, now)
    notice = Notice(0, None, "bad", "also-bad", "not-a-date", False)
    decisions, _ = decide([notice], policy, record_batch=False)
    assert decisions[0].reason == "invalid_image_id"
    notice = Notice(0, None, IMAGE, OTHER_PROJECT, "not-a-date", False)
    assert decide([notice], policy, record_batch=False)[0][0].reason == "project_not_allowed"
    notice = Notice(0, None, IMAGE, PROJECT, "not-a-date", False)
    assert decide([notice], policy, record_batch=False)[0][0].reason == "protected_image"


@pytest.mark.parametrize(
    ("offset", "expired"),
    [(timedelta(seconds=-3600), True), (timedelta(seconds=30), True), (timedelta(seconds=90), False)],
)
def test_expiry_allows_sixty_seconds_of_clock_skew(offset, expired) -> None:
    now = datetime(2026, 12, 4, 10, 0, tzinfo=timezone.utc)
    policy = Policy(PROJECT, frozenset(), frozenset(), 10, False, now)
    stamp = (now + offset).astimezone(timezone(timedelta(hours=8))).isoformat()
    decision = decide([Notice(0, None, IMAGE, None, stamp, False)], policy, record_batch=False)[0][0]
    assert decision.is_target is expired
    assert decision.reason == (None if expired else "not_yet_expired")


@pytest.mark.parametrize("stamp", ["2026-12-01", "2026-12-01T00:00:00", "1764547200", 1764547200,
                                   "2026-13-01T00:00:00Z", "2026-12-01T00:00:00+0800", "now"])
def test_expires_at_without_offset_is_rejected(stamp) -> None:
    policy = Policy(PROJECT, frozenset(), frozenset(), 10, False, datetime.now(timezone.utc))
    decision = decide([Notice(0, None, IMAGE, None, stamp, False)], policy, record_batch=False)[0][0]
    assert (decision.outcome, decision.reason) == ("rejected", "invalid_expires_at")


def test_rejected_raw_ids_are_cut_to_128_characters(env, invoke) -> None:
    result = invoke({"project_id": PROJECT, "images": [{"image_id": "x" * 500}, {"image_id": 12345}]})
    assert [i["image_id"] for i in result["items"]] == ["x" * 128, None]
    assert result["status"] == "rejected"


def test_upper_case_ids_are_lowered_before_the_call(env, emulator, invoke) -> None:
    emulator.seed([IMAGE])
    result = invoke({"image_id": IMAGE.upper(), "project_id": PROJECT})
    assert outcomes(result) == [(IMAGE, "deleted", None)]
    assert emulator.requests[0].path.endswith(IMAGE)


def test_over_the_cap_rejects_the_whole_event(env, emulator, invoke) -> None:
    event = load_event("over-cap.json")
    emulator.seed(event["image_ids"])
    result = invoke(event)
    assert result["status"] == "rejected"
    assert {(i["outcome"], i["reason"]) for i in result["items"]} == {("rejected", "too_many_images")}
    assert [e["code"] for e in result["errors"]] == ["too_many_images"]
    assert emulator.requests == []


def test_cap_counts_only_images_that_pass_the_other_checks(env, emulator, invoke) -> None:
    env.setenv("CLEANUP_MAX_IMAGES", "2")
    emulator.seed([image(1), image(2)])
    event = {"project_id": PROJECT, "image_ids": [image(1), "bad", image(2), image(1)]}
    result = invoke(event)
    assert outcomes(result) == [
        (image(1), "deleted", None), ("bad", "rejected", "invalid_image_id"),
        (image(2), "deleted", None), (image(1), "skipped", "duplicate")]


def test_cap_counts_dry_run_items(env, emulator, invoke) -> None:
    env.setenv("CLEANUP_MAX_IMAGES", "1")
    result = invoke({"project_id": PROJECT, "dry_run": True, "image_ids": [image(1), image(2)]})
    assert [e["code"] for e in result["errors"]] == ["too_many_images"]


def test_record_batches_over_the_cap_defer_from_the_crossing_record(env, emulator, invoke) -> None:
    env.setenv("CLEANUP_MAX_IMAGES", "3")
    emulator.seed([image(n) for n in range(1, 8)])
    sqs = load_event("sqs.json")
    template = sqs["Records"][0]
    bodies = [[1], [2, 3], [4, 5], [6]]
    import json

    sqs["Records"] = [
        {**template, "messageId": f"m{n}", "body": json.dumps({"project_id": PROJECT, "image_ids": [image(i) for i in ids]})}
        for n, ids in enumerate(bodies)
    ]
    result = invoke(sqs)
    assert [(i["record_id"], i["outcome"], i["reason"]) for i in result["items"]] == [
        ("m0", "deleted", None), ("m1", "deleted", None), ("m1", "deleted", None),
        ("m2", "deferred", "too_many_images"), ("m2", "deferred", "too_many_images"),
        ("m3", "deferred", "too_many_images"),
    ]
    assert all(i["retryable"] for i in result["items"] if i["outcome"] == "deferred")
    assert result["batchItemFailures"] == [{"itemIdentifier": "m2"}, {"itemIdentifier": "m3"}]
    assert result["status"] == "partial"


def test_top_level_fields_apply_to_items_lacking_their_own(env, emulator, invoke) -> None:
    emulator.seed([image(1), image(2)])
    event = {"projectId": PROJECT, "expiresAt": "2099-01-01T00:00:00Z", "images": [
        {"imageId": image(1)}, {"imageId": image(2), "expiresAt": "2020-01-01T00:00:00Z"}]}
    assert outcomes(invoke(event)) == [(image(1), "skipped", "not_yet_expired"), (image(2), "deleted", None)]


@pytest.mark.parametrize("flag", [False, None, "false", 0])
def test_dry_run_false_never_switches_dry_run_off(env, emulator, invoke, flag) -> None:
    env.setenv("CLEANUP_DRY_RUN", "true")
    emulator.seed([IMAGE])
    result = invoke({"image_id": IMAGE, "project_id": PROJECT, "dry_run": flag})
    assert outcomes(result) == [(IMAGE, "would_delete", None)]
    assert result["dry_run"] is True and emulator.requests == []


def test_top_level_dry_run_makes_the_whole_run_dry(env, emulator, invoke) -> None:
    emulator.seed([image(1), image(2)])
    result = invoke({"project_id": PROJECT, "dry_run": True, "image_ids": [image(1), image(2)]})
    assert result["dry_run"] is True
    assert [i["outcome"] for i in result["items"]] == ["would_delete", "would_delete"]
    assert emulator.requests == []


def test_dry_run_needs_no_endpoint_or_credentials(invoke, monkeypatch) -> None:
    monkeypatch.setenv("CLEANUP_DRY_RUN", "1")
    result = invoke({"image_id": IMAGE, "project_id": PROJECT})
    assert outcomes(result) == [(IMAGE, "would_delete", None)] and result["status"] == "succeeded"
