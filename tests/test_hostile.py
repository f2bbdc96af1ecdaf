"""Bad and hostile input: nothing undocumented escapes, nothing bad reaches the server."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import handler as handler_module
from image_cleanup.emulator import ImageApiEmulator
from tests.helpers import IMAGE, PROJECT, TOKEN, load_event, validate
from tests.test_properties import envelope_like, json_values

HOSTILE_IDS = [
    "../" + IMAGE, IMAGE + "/../../other", "..%2F..%2Fv2%2Fimages", IMAGE.replace("-", "%2D"),
    IMAGE[:8] + "%2F" + IMAGE[9:], IMAGE + "%00", IMAGE + "\x00", "\x00" * 36,
    IMAGE.replace("a", "\uff41"),  # full-width latin a
    IMAGE.replace("4", "\uff14"),  # full-width digit four
    IMAGE.replace("e", "\u0435"),  # Cyrillic e
    IMAGE.replace("1", "\u0661"),  # Arabic-Indic digit one
    " " + IMAGE, IMAGE + " ", IMAGE + "\n", "\t" + IMAGE, "{" + IMAGE + "}", "urn:uuid:" + IMAGE,
    IMAGE.replace("-", ""), IMAGE + "?x=1", IMAGE + "#f", "x" * 100_000, "", "null",
    "https://evil.example.com/" + IMAGE,
]


def _sent_anything(server: ImageApiEmulator) -> bool:
    return bool(server.requests)


@pytest.mark.parametrize("raw", HOSTILE_IDS, ids=range(len(HOSTILE_IDS)))
def test_hostile_image_ids_never_reach_the_server(raw, env, emulator, invoke) -> None:
    emulator.seed([IMAGE])
    result = invoke({"image_id": raw, "project_id": PROJECT})
    item = result["items"][0]
    assert (item["outcome"], item["reason"]) == ("rejected", "invalid_image_id")
    assert item["image_id"] == raw[:128]
    assert not _sent_anything(emulator) and emulator.images == {IMAGE}


@pytest.mark.parametrize("raw", ["../" + PROJECT[3:], PROJECT + "/", PROJECT.upper()[:31] + "\uff10", PROJECT[:31]])
def test_hostile_project_ids_never_reach_the_server(raw, env, emulator, invoke) -> None:
    result = invoke({"image_id": IMAGE, "project_id": raw})
    assert result["items"][0]["reason"] == "invalid_project_id"
    assert not _sent_anything(emulator)


def test_hostile_ids_inside_every_batch_shape(env, emulator, invoke) -> None:
    sqs = load_event("sqs.json")
    sqs["Records"][0]["body"] = json.dumps({"project_id": PROJECT, "image_ids": HOSTILE_IDS})
    sqs["Records"] = sqs["Records"][:1]
    result = invoke(sqs)
    assert {i["reason"] for i in result["items"]} == {"invalid_image_id"}
    assert not _sent_anything(emulator)
    assert result["batchItemFailures"] == [{"itemIdentifier": sqs["Records"][0]["messageId"]}]


def test_event_cannot_choose_endpoint_api_or_credentials(env, emulator, invoke) -> None:
    with ImageApiEmulator(token="attacker") as attacker:
        event = {
            "image_id": IMAGE, "project_id": PROJECT, "endpoint": attacker.url, "CLEANUP_ENDPOINT": attacker.url,
            "api": "ims", "CLEANUP_API": "ims", "auth_token": "attacker", "X-Auth-Token": "attacker",
            "region": "cn-north-1", "url": attacker.url + "/v2/images/" + IMAGE, "headers": {"Host": "evil"},
        }
        emulator.seed([IMAGE])
        result = invoke(event)
        assert result["api"] == "ecs-v2.1" and result["items"][0]["outcome"] == "deleted"
        assert attacker.requests == []
        sent = emulator.requests[0]
        assert sent.path == f"/v2.1/{PROJECT}/images/{IMAGE}" and sent.headers["X-Auth-Token"] == TOKEN


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
          max_examples=150, deadline=None)
@given(event=json_values | envelope_like)
def test_handler_on_arbitrary_events_only_returns_valid_results(event, monkeypatch) -> None:
    monkeypatch.setenv("CLEANUP_DRY_RUN", "true")
    monkeypatch.setenv("CLEANUP_EVENT_TYPES", "*")
    result = validate(handler_module.handler(event))
    assert result["summary"]["total"] == len(result["items"])
    assert all(i["outcome"] in {"would_delete", "skipped", "rejected"} for i in result["items"])


_corruptions = st.sampled_from([None, 0, -1, "", "[]", "{", [], {}, "x" * 300, True, 1.5, ["a"], {"a": None}])


@pytest.mark.parametrize("sample", ["cloudevent.json", "eventgrid-batch.json", "eventbridge.json", "sqs.json",
                                    "sns.json", "smn.json", "kafka.json", "timer.json", "several-images.json"])
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
          max_examples=40, deadline=None)
@given(data=st.data())
def test_each_envelope_with_corrupted_fields(sample, data, monkeypatch) -> None:
    monkeypatch.setenv("CLEANUP_DRY_RUN", "true")
    event = load_event(sample)

    def corrupt(node, depth=0):
        if isinstance(node, dict) and node:
            key = data.draw(st.sampled_from(sorted(node)))
            if depth < 3 and isinstance(node[key], dict | list) and data.draw(st.booleans()):
                corrupt(node[key], depth + 1)
            else:
                node[key] = data.draw(_corruptions)
        elif isinstance(node, list) and node:
            index = data.draw(st.integers(0, len(node) - 1))
            if depth < 3 and isinstance(node[index], dict | list) and data.draw(st.booleans()):
                corrupt(node[index], depth + 1)
            else:
                node[index] = data.draw(_corruptions)

    corrupt(event)
    result = validate(handler_module.handler(event))
    assert result["status"] in {"succeeded", "partial", "failed", "rejected"}
