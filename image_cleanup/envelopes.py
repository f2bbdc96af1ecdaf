"""Recognise the platform envelope around a cleanup notice and unwrap it (SPEC section 3).

``unwrap`` turns any event into an ``Unwrapped``: the trigger, the event ID, and one ``Record``
per delivered message, each holding either the notice payload (not yet validated) or the
``EventError`` that stopped it. Every platform quirk of envelope shapes lives here; nothing in this
module raises for bad input.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection
from typing import Any, Literal, NamedTuple

from image_cleanup.results import ErrorCode, Trigger

# Triggers whose records are redelivered one by one: over the cap they defer, not reject.
RECORD_BATCH_TRIGGERS = frozenset({"sqs", "sns", "smn", "kafka"})
NOTICE_KEYS = ("image_id", "imageId", "project_id", "projectId", "images", "image_ids", "imageIds")


class EventError(NamedTuple):
    code: ErrorCode
    message: str
    record_id: str | None = None


class Record(NamedTuple):
    """One delivered message: its notice payload, or the error that stopped it."""

    record_id: str | None
    payload: Any = None
    subject: str | None = None
    error: EventError | None = None


class Unwrapped(NamedTuple):
    trigger: Trigger
    event_id: str | None
    records: list[Record]
    batch: bool = False

    @property
    def record_batch(self) -> bool:
        return self.trigger in RECORD_BATCH_TRIGGERS


def _text_id(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _failed(code: ErrorCode, message: str, record_id: str | None) -> Record:
    return Record(record_id, error=EventError(code, message, record_id))


def parse_json_text(raw: Any) -> tuple[Any, str | None]:
    """Decode a JSON document given as str or bytes; returns (value, error message)."""
    if isinstance(raw, bytes | bytearray):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            return None, "the payload is not valid UTF-8"
    try:
        return json.loads(raw), None
    except (ValueError, RecursionError):
        return None, "the payload is not valid JSON"


class _Unwrapper:
    def __init__(self, accepted_types: Collection[str]) -> None:
        self.accepted_types = accepted_types

    def refuse_type(self, kind: str, event_type: Any, record_id: str | None) -> Record | None:
        """None when the type is accepted, else the record that refuses the event."""
        if "*" in self.accepted_types or (
            isinstance(event_type, str) and event_type in self.accepted_types
        ):
            return None
        message = f"{kind} {str(event_type)[:128]!r} is not in CLEANUP_EVENT_TYPES"
        return _failed("unsupported_event_type", message, record_id)

    def cloudevent(self, event: dict[str, Any], record_id: str | None) -> Record:
        refused = self.refuse_type("CloudEvent type", event.get("type"), record_id)
        if refused is not None:
            return refused
        data = event.get("data")
        if data is None and "data_base64" in event:
            try:
                data = base64.b64decode(event["data_base64"], validate=True)
            except (binascii.Error, TypeError, ValueError):
                return _failed("malformed_json", "data_base64 is not valid base64", record_id)
        if isinstance(data, str | bytes):
            data, problem = parse_json_text(data)
            if problem:
                return _failed("malformed_json", f"CloudEvent data: {problem}", record_id)
        return Record(record_id, payload=data, subject=_text_id(event.get("subject")))

    def eventbridge(self, event: dict[str, Any], record_id: str | None) -> Record:
        refused = self.refuse_type("EventBridge detail-type", event.get("detail-type"), record_id)
        if refused is not None:
            return refused
        detail = event.get("detail")
        if isinstance(detail, str):
            detail, problem = parse_json_text(detail)
            if problem:
                return _failed("malformed_json", f"EventBridge detail: {problem}", record_id)
        return Record(record_id, payload=detail)

    def message(self, raw: Any, record_id: str | None, *, depth: int = 0) -> Record:
        """A queue or topic message: a notice, or an event rule's event carried inside it."""
        payload = raw
        if isinstance(raw, str | bytes | bytearray):
            payload, problem = parse_json_text(raw)
            if problem:
                return _failed("malformed_json", problem, record_id)
        if isinstance(payload, dict):
            if "specversion" in payload:
                return self.cloudevent(payload, record_id)
            if "detail-type" in payload and "detail" in payload:
                return self.eventbridge(payload, record_id)
            # SNS fanned out to SQS without raw delivery wraps the message once more.
            if payload.get("Type") == "Notification" and "Message" in payload and depth == 0:
                return self.message(payload["Message"], record_id, depth=1)
        return Record(record_id, payload=payload)

    def cloudevent_batch(self, events: list[Any]) -> Unwrapped:
        records = []
        for event in events:
            record_id = _text_id(event.get("id")) if isinstance(event, dict) else None
            if isinstance(event, dict) and "specversion" in event:
                records.append(self.cloudevent(event, record_id))
            else:
                records.append(_failed("unrecognized_event", "not a CloudEvent", record_id))
        if not records:
            records.append(_failed("no_images", "the batch holds no events", None))
        return Unwrapped("cloudevent", None, records, batch=True)

    def records(self, trigger: Literal["sqs", "sns", "smn", "kafka"], entries: list[Any]) -> Unwrapped:
        records = []
        for index, entry in enumerate(entries):
            records.extend(self._record(trigger, index, entry))
        return Unwrapped(trigger, None, records, batch=True)

    def _record(self, trigger: Literal["sqs", "sns", "smn", "kafka"], index: int, entry: Any) -> list[Record]:
        if not isinstance(entry, dict):
            return [_failed("unrecognized_event", f"{trigger} record {index} is not an object", None)]
        if trigger == "sqs":
            record_id = _text_id(entry.get("messageId"))
            if entry.get("eventSource") != "aws:sqs" or "body" not in entry:
                return [_failed("unrecognized_event", "not an SQS message", record_id)]
            return [self.message(entry["body"], record_id)]
        if trigger == "sns":
            sns = entry.get("Sns")
            record_id = _text_id(sns.get("MessageId")) if isinstance(sns, dict) else None
            if not isinstance(sns, dict) or "Message" not in sns:
                return [_failed("unrecognized_event", "not an SNS record", record_id)]
            return [self.message(sns["Message"], record_id)]
        if trigger == "smn":
            smn = entry.get("smn")
            record_id = _text_id(smn.get("message_id")) if isinstance(smn, dict) else None
            if not isinstance(smn, dict) or "message" not in smn:
                return [_failed("unrecognized_event", "not an SMN record", record_id)]
            return [self.message(smn["message"], record_id)]
        # kafka: each record holds several messages
        messages = entry.get("messages")
        if not isinstance(messages, list):
            return [_failed("unrecognized_event", "Kafka record has no messages", f"{index}")]
        return [self.message(m, f"{index}.{j}") for j, m in enumerate(messages)]

    def unwrap(self, event: Any) -> Unwrapped:
        if isinstance(event, str | bytes | bytearray):
            event, problem = parse_json_text(event)
            if problem:
                return Unwrapped("unknown", None, [_failed("malformed_json", problem, None)])
        if isinstance(event, list):
            if any(isinstance(e, dict) and "specversion" in e for e in event):
                return self.cloudevent_batch(event)
            return _unrecognized("a JSON array that holds no CloudEvent")
        if not isinstance(event, dict):
            return _unrecognized("the event is not a JSON object")
        if "specversion" in event:
            return Unwrapped(
                "cloudevent", _text_id(event.get("id")), [self.cloudevent(event, None)]
            )
        if isinstance(event.get("events"), list):
            return self.cloudevent_batch(event["events"])
        if "detail-type" in event and "detail" in event:
            return Unwrapped(
                "eventbridge", _text_id(event.get("id")), [self.eventbridge(event, None)]
            )
        entries = event.get("Records")
        if isinstance(entries, list) and entries:
            if any(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in entries):
                return self.records("sqs", entries)
            if any(isinstance(r, dict) and "Sns" in r for r in entries):
                return self.records("sns", entries)
        smn_entries = event.get("record")
        if isinstance(smn_entries, list) and any(
            isinstance(r, dict) and "smn" in r for r in smn_entries
        ):
            return self.records("smn", smn_entries)
        trigger_type = event.get("trigger_type")
        if trigger_type == "KAFKA" and isinstance(event.get("records"), list):
            return self.records("kafka", event["records"])
        if trigger_type == "TIMER" and "user_event" in event:
            return Unwrapped("timer", None, [self.message(event["user_event"], None)])
        if any(key in event for key in NOTICE_KEYS):
            return Unwrapped("direct", None, [Record(None, payload=event)])
        return _unrecognized("the event matches no known envelope and holds no notice")


def _unrecognized(message: str) -> Unwrapped:
    return Unwrapped("unknown", None, [_failed("unrecognized_event", message, None)])


def unwrap(event: Any, accepted_types: Collection[str]) -> Unwrapped:
    """Find the envelope of ``event`` and the notice payload of each record inside it."""
    return _Unwrapper(accepted_types).unwrap(event)
