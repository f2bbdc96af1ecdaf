"""Read the notices (one per image) out of an unwrapped record's payload (SPEC section 2).

Values stay raw here; the guards judge them. Hand-written rather than a pydantic model because
the contract asks for per-field reason codes, the raw value of a bad ID, inheritance from the
top level and "unknown keys ignored" all at once, which a model would only report as one
validation error to be mapped back.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from image_cleanup.envelopes import NOTICE_KEYS, EventError, Record
from image_cleanup.results import ErrorCode

_OFF = (None, False, 0, "", "false", "False", "FALSE", "0", "no", "off")


class Notice(NamedTuple):
    """One image to consider, with its fields exactly as the event gave them."""

    record_index: int
    record_id: str | None
    image_id: Any
    project_id: Any
    expires_at: Any
    dry_run: bool


class RecordNotices(NamedTuple):
    notices: list[Notice]
    error: EventError | None = None
    dry_run: bool = False  # the top-level flag of this record's payload


def wants_dry_run(value: Any) -> bool:
    """dry_run can only switch dry-run on: anything but an explicit "off" value counts as on."""
    return value not in _OFF


def _pick(obj: dict[str, Any], snake: str, camel: str) -> Any:
    value = obj.get(snake)
    return obj.get(camel) if value is None else value


def _subject_image_id(subject: str) -> str:
    return subject.rstrip("/").rsplit("/", 1)[-1]


def read_notices(record: Record, record_index: int) -> RecordNotices:
    """The notices of one record, or the event-level error that refuses it."""
    if record.error is not None:
        return RecordNotices([], record.error)
    payload = record.payload
    if payload is None and record.subject:
        payload = {}
    if not isinstance(payload, dict):
        return _refuse(record, "unrecognized_event", "the payload is not a JSON object")
    lists = [(key, payload[key]) for key in ("images", "image_ids", "imageIds") if key in payload]
    has_single = _pick(payload, "image_id", "imageId") is not None
    if record.subject and not has_single and not lists:
        payload = {**payload, "image_id": _subject_image_id(record.subject)}
        has_single = True
    if not any(key in payload for key in NOTICE_KEYS):
        return _refuse(record, "unrecognized_event", "the payload holds no notice keys")

    project_id = _pick(payload, "project_id", "projectId")
    expires_at = _pick(payload, "expires_at", "expiresAt")
    dry_top = wants_dry_run(_pick(payload, "dry_run", "dryRun"))

    def notice(image_id: Any, own: dict[str, Any] | None = None) -> Notice:
        own = own or {}
        own_project = _pick(own, "project_id", "projectId")
        own_expiry = _pick(own, "expires_at", "expiresAt")
        own_dry = _pick(own, "dry_run", "dryRun")
        return Notice(
            record_index,
            record.record_id,
            image_id,
            project_id if own_project is None else own_project,
            expires_at if own_expiry is None else own_expiry,
            dry_top or wants_dry_run(own_dry),
        )

    notices = []
    if has_single or not lists:
        notices.append(notice(_pick(payload, "image_id", "imageId")))
    for key, entries in lists:
        if not isinstance(entries, list):
            return _refuse(record, "unrecognized_event", f"{key} must be a list")
        for entry in entries:
            if isinstance(entry, dict):
                notices.append(notice(_pick(entry, "image_id", "imageId"), entry))
            else:
                notices.append(notice(entry))
    if not notices:
        return _refuse(record, "no_images", "the list of images is empty")
    return RecordNotices(notices, dry_run=dry_top)


def _refuse(record: Record, code: ErrorCode, message: str) -> RecordNotices:
    return RecordNotices([], EventError(code, message, record.record_id))
