"""Every envelope of SPEC section 3, from the real-shaped samples in events/, over real sockets."""

from __future__ import annotations

import base64
import json

import pytest

from image_cleanup.emulator import ImageApiEmulator
from tests.helpers import IMAGE, PROJECT, image, load_event, outcomes

SECOND = "0d2b5c5e-7a4f-4b8e-9c61-3f1e2d4a5b6c"
THIRD = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"

# sample -> (trigger, event_id, [(image, record_id)])
DELIVERIES = {
    "direct.json": ("direct", None, [(IMAGE, None)]),
    "direct-camelcase.json": ("direct", None, [(IMAGE, None)]),
    "several-images.json": ("direct", None, [(IMAGE, None), (SECOND, None), (THIRD, None)]),
    "image-ids.json": ("direct", None, [(IMAGE, None), (SECOND, None), (THIRD, None)]),
    "cloudevent.json": ("cloudevent", "4b26115b-73e4-4b7c-9b9d-2f5e6c1a0d11", [(IMAGE, None)]),
    "cloudevent-data-string.json": ("cloudevent", "5c37226c-84f5-4c8d-8cad-3a7f6d2b1e22", [(IMAGE, None)]),
    "cloudevent-data-base64.json": ("cloudevent", "6d48337d-95a6-4d9e-9dbe-4b8a7e3c2f33", [(IMAGE, None)]),
    "cloudevent-subject-only.json": ("cloudevent", "7e59448e-a6a7-4fae-8ecf-5c9b8f4d3a44", [(IMAGE, None)]),
    "eventgrid-batch.json": ("cloudevent", None, [(IMAGE, "evt-0001"), (SECOND, "evt-0002")]),
    "cloudevent-array.json": ("cloudevent", None, [(IMAGE, "evt-0001"), (SECOND, "evt-0002")]),
    "eventbridge.json": ("eventbridge", "17793124-05d4-b198-2fde-7ededc63b103", [(IMAGE, None)]),
    "sqs.json": ("sqs", None, [
        (IMAGE, "059f36b4-87a3-44ab-83d2-661975830a7d"),
        (SECOND, "2e1424d4-f796-459a-8184-9c92662be6da"),
        (THIRD, "2e1424d4-f796-459a-8184-9c92662be6da")]),
    "sqs-eventbridge.json": ("sqs", None, [(IMAGE, "8b1f0e2a-4c3d-4e5f-a6b7-c8d9e0f1a2b3")]),
    "sns.json": ("sns", None, [(IMAGE, "95df01b4-ee98-5cb9-9903-4c221d41eb5e")]),
    "smn.json": ("smn", None, [(IMAGE, "a51671f77d4a479cacb09e2cd591a983")]),
    "smn-cloudevent.json": ("smn", None, [(IMAGE, "b62782f88e5b48a0bdc1af3de6a2b094")]),
    "kafka.json": ("kafka", None, [(IMAGE, "0.0"), (SECOND, "0.1")]),
    "timer.json": ("timer", None, [(IMAGE, None), (SECOND, None)]),
}


@pytest.mark.parametrize("sample", sorted(DELIVERIES))
def test_every_envelope_deletes_its_images(sample, env, emulator: ImageApiEmulator, invoke) -> None:
    trigger, event_id, expected = DELIVERIES[sample]
    emulator.seed([img for img, _ in expected])
    result = invoke(load_event(sample))
    assert result["status"] == "succeeded"
    assert result["trigger"] == trigger
    assert result["event_id"] == event_id
    assert [(i["image_id"], i["record_id"]) for i in result["items"]] == expected
    assert all(i["outcome"] == "deleted" and i["http_status"] == 204 for i in result["items"])
    assert emulator.images == set()
    assert ("batchItemFailures" in result) == (trigger == "sqs")
    assert len(emulator.requests) == len(expected)


def test_event_given_as_json_string_is_parsed(env, emulator, invoke) -> None:
    emulator.seed([IMAGE])
    result = invoke(json.dumps(load_event("cloudevent.json")))
    assert outcomes(result) == [(IMAGE, "deleted", None)]


def test_sns_fanned_out_to_sqs_is_unwrapped_twice(env, emulator, invoke) -> None:
    emulator.seed([IMAGE])
    sns_message = {"Type": "Notification", "MessageId": "m-1",
                   "Message": json.dumps({"image_id": IMAGE, "project_id": PROJECT})}
    event = load_event("sqs.json")
    event["Records"] = [{**event["Records"][0], "body": json.dumps(sns_message)}]
    result = invoke(event)
    assert outcomes(result) == [(IMAGE, "deleted", None)]


def test_wrong_cloudevent_type_deletes_nothing(env, emulator, invoke) -> None:
    emulator.seed([IMAGE])
    result = invoke(load_event("wrong-event-type.json"))
    assert result["status"] == "rejected"
    assert result["errors"] == [{"code": "unsupported_event_type", "record_id": None,
                                 "message": result["errors"][0]["message"]}]
    assert emulator.requests == [] and emulator.images == {IMAGE}


def test_wrong_eventbridge_detail_type_is_refused(env, emulator, invoke) -> None:
    event = load_event("eventbridge.json")
    event["detail-type"] = "Image Created"
    result = invoke(event)
    assert [e["code"] for e in result["errors"]] == ["unsupported_event_type"]
    assert result["trigger"] == "eventbridge" and emulator.requests == []


def test_star_accepts_any_event_type(env, emulator, invoke) -> None:
    env.setenv("CLEANUP_EVENT_TYPES", "*")
    emulator.seed([IMAGE])
    result = invoke(load_event("wrong-event-type.json"))
    assert outcomes(result) == [(IMAGE, "deleted", None)]


def test_custom_event_types_replace_the_defaults(env, emulator, invoke) -> None:
    env.setenv("CLEANUP_EVENT_TYPES", " com.example.image.expired , ")
    result = invoke(load_event("cloudevent.json"))
    assert [e["code"] for e in result["errors"]] == ["unsupported_event_type"]


@pytest.mark.parametrize(
    ("event", "code"),
    [
        ({"hello": "world"}, "unrecognized_event"),
        ([1, 2, 3], "unrecognized_event"),
        (42, "unrecognized_event"),
        (None, "unrecognized_event"),
        ("{not json", "malformed_json"),
        (b"\xff\xfe", "malformed_json"),
        ({"project_id": PROJECT, "images": []}, "no_images"),
        ({"project_id": PROJECT, "image_ids": "not a list"}, "unrecognized_event"),
        ({"events": []}, "no_images"),
    ],
)
def test_event_level_problems_are_results_not_exceptions(event, code, env, emulator, invoke) -> None:
    result = invoke(event)
    assert result["status"] == "rejected"
    assert [e["code"] for e in result["errors"]] == [code]
    assert result["items"] == [] and emulator.requests == []


def test_unknown_shapes_have_trigger_unknown(env, invoke) -> None:
    assert invoke({"Records": [{"eventSource": "aws:s3"}]})["trigger"] == "unknown"


def test_batch_problems_carry_their_record_id_and_the_rest_goes_on(env, emulator, invoke) -> None:
    good = load_event("cloudevent.json")
    bad_type = {**good, "id": "evt-bad-type", "type": "image.created"}
    bad_data = {**good, "id": "evt-bad-data", "data": "{oops"}
    bad_b64 = {k: v for k, v in good.items() if k != "data"} | {"id": "evt-bad-b64", "data_base64": "%%%"}
    not_ce = {"id": "evt-not-ce", "hello": 1}
    emulator.seed([IMAGE])
    result = invoke({"events": [bad_type, good, bad_data, bad_b64, not_ce]})
    assert result["status"] == "partial"
    assert outcomes(result) == [(IMAGE, "deleted", None)]
    assert [(e["code"], e["record_id"]) for e in result["errors"]] == [
        ("unsupported_event_type", "evt-bad-type"),
        ("malformed_json", "evt-bad-data"),
        ("malformed_json", "evt-bad-b64"),
        ("unrecognized_event", "evt-not-ce"),
    ]


def test_kafka_record_ids_name_record_and_message(env, emulator, invoke) -> None:
    emulator.seed([image(1), image(2), image(3)])
    event = {"trigger_type": "KAFKA", "records": [
        {"messages": [json.dumps({"image_id": image(1), "project_id": PROJECT})]},
        {"messages": ["not json", json.dumps({"image_id": image(2), "project_id": PROJECT}),
                      json.dumps({"image_id": image(3), "project_id": PROJECT})]},
    ]}
    result = invoke(event)
    assert [(i["image_id"], i["record_id"]) for i in result["items"]] == [
        (image(1), "0.0"), (image(2), "1.1"), (image(3), "1.2")]
    assert [(e["code"], e["record_id"]) for e in result["errors"]] == [("malformed_json", "1.0")]


def test_timer_user_event_may_be_an_object_or_a_cloudevent(env, emulator, invoke) -> None:
    emulator.seed([IMAGE, image(9)])
    timer = load_event("timer.json")
    as_object = invoke({**timer, "user_event": {"image_id": IMAGE, "project_id": PROJECT}})
    assert outcomes(as_object) == [(IMAGE, "deleted", None)]
    cloudevent = load_event("cloudevent.json") | {"data": {"image_id": image(9), "project_id": PROJECT}}
    nested = invoke({**timer, "user_event": json.dumps(cloudevent)})
    assert outcomes(nested) == [(image(9), "deleted", None)] and nested["trigger"] == "timer"


def test_subject_supplies_image_id_only_when_data_lacks_it(env, emulator, invoke) -> None:
    emulator.seed([IMAGE, image(5)])
    event = load_event("cloudevent.json") | {"subject": image(5), "data": {"image_id": IMAGE, "project_id": PROJECT}}
    assert outcomes(invoke(event)) == [(IMAGE, "deleted", None)]
    event = load_event("cloudevent.json") | {"subject": f"ims/images/{image(5)}", "data": {"projectId": PROJECT}}
    assert outcomes(invoke(event)) == [(image(5), "deleted", None)]


def test_cloudevent_with_base64_data_decodes(env, emulator, invoke) -> None:
    emulator.seed([image(7)])
    data = base64.b64encode(json.dumps({"imageId": image(7), "projectId": PROJECT}).encode()).decode()
    event = {"specversion": "1.0", "id": "x", "source": "s", "type": "image.expired", "data_base64": data}
    assert outcomes(invoke(event)) == [(image(7), "deleted", None)]
