"""Property tests: validators and the envelope parser never raise on arbitrary input."""

from __future__ import annotations

import json
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from image_cleanup.envelopes import unwrap
from image_cleanup.identifiers import canonical_image_id, is_project_id, parse_rfc3339
from image_cleanup.notices import read_notices

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=25,
)
KEYS = ["specversion", "type", "data", "data_base64", "subject", "id", "events", "detail-type", "detail",
        "Records", "eventSource", "body", "messageId", "Sns", "Message", "MessageId", "record", "smn",
        "message", "message_id", "trigger_type", "records", "messages", "user_event", "image_id",
        "imageId", "project_id", "projectId", "images", "image_ids", "imageIds", "expires_at", "dry_run"]
envelope_like = st.recursive(
    json_scalars | st.sampled_from(["aws:sqs", "KAFKA", "TIMER", "image.expired", "Image Expired", "1.0"]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(KEYS), children, max_size=6)
    | children.map(json.dumps),
    max_leaves=30,
)
hex_digit = st.sampled_from("0123456789abcdefABCDEF")


@given(st.text() | st.binary() | json_values)
def test_image_id_validator_is_total(raw) -> None:
    value = canonical_image_id(raw)
    assert value is None or (len(value) == 36 and value == value.lower() and value.isascii())


@given(st.lists(hex_digit, min_size=32, max_size=32))
def test_every_canonical_uuid_is_accepted(digits) -> None:
    text = "".join(digits)
    raw = f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    assert canonical_image_id(raw) == raw.lower()
    assert canonical_image_id(raw + "\n") is None and canonical_image_id(" " + raw) is None


@given(st.text() | json_values)
def test_project_and_timestamp_validators_are_total(raw) -> None:
    assert isinstance(is_project_id(raw), bool)
    stamp = parse_rfc3339(raw)
    assert stamp is None or stamp.tzinfo is not None


@given(st.text(alphabet=string.ascii_letters + string.digits, min_size=32, max_size=32))
def test_project_ids_of_32_letters_and_digits(raw) -> None:
    assert is_project_id(raw)


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=300)
@given(envelope_like)
def test_envelope_parser_never_raises(event) -> None:
    unwrapped = unwrap(event, {"image.expired", "Image Expired"})
    assert unwrapped.trigger in {"direct", "cloudevent", "eventbridge", "sqs", "sns", "smn", "kafka", "timer", "unknown"}
    for index, record in enumerate(unwrapped.records):
        found = read_notices(record, index)
        assert found.error is None or found.error.code in {
            "unrecognized_event", "unsupported_event_type", "malformed_json", "no_images"}
        assert found.error is not None or found.notices
