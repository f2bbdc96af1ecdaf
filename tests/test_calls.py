"""The call (SPEC section 6) against the emulator: outcomes, retries, APIs, auth, bodies."""

from __future__ import annotations

import json

import pytest

import handler as handler_module
from image_cleanup import RetryableCleanupError
from image_cleanup.emulator import Fault
from tests.helpers import IMAGE, PROJECT, TOKEN, FunctionGraphContext, LambdaContext, outcomes, validate

NOTICE = {"image_id": IMAGE, "project_id": PROJECT}


@pytest.mark.parametrize(
    ("status", "outcome", "reason", "retryable", "attempts"),
    [
        (400, "failed", "bad_request", False, 1),
        (401, "failed", "unauthorized", False, 1),
        (403, "failed", "forbidden", False, 1),
        (404, "already_absent", None, False, 1),
        (409, "failed", "conflict", False, 1),
        (418, "failed", "http_418", False, 1),
        (429, "failed", "throttled", True, 4),
        (500, "failed", "server_error", True, 4),
        (502, "failed", "server_error", True, 4),
        (503, "failed", "server_error", True, 4),
        (504, "failed", "server_error", True, 4),
        (501, "failed", "server_error", False, 1),
        (200, "deleted", None, False, 1),
        (202, "deleted", None, False, 1),
    ],
)
def test_status_codes(status, outcome, reason, retryable, attempts, env, emulator, invoke) -> None:
    emulator.seed([IMAGE])
    emulator.inject(IMAGE, *[Fault(status=status)] * 4)
    item = invoke(NOTICE)["items"][0]
    assert (item["outcome"], item["reason"], item["retryable"], item["attempts"]) == (
        outcome, reason, retryable, attempts)
    assert item["http_status"] == status
    assert len(emulator.requests_for(IMAGE)) == attempts


def test_retry_then_success(env, emulator, invoke) -> None:
    emulator.seed([IMAGE])
    emulator.inject(IMAGE, Fault(status=503), Fault(status=429), Fault(drop=True))
    result = invoke(NOTICE)
    assert outcomes(result) == [(IMAGE, "deleted", None)]
    assert result["items"][0]["attempts"] == 4 and result["status"] == "succeeded"


def test_replay_gives_already_absent(env, emulator, invoke) -> None:
    emulator.seed([IMAGE])
    results = [invoke(NOTICE) for _ in range(3)]
    assert [r["items"][0]["outcome"] for r in results] == ["deleted", "already_absent", "already_absent"]
    assert {r["status"] for r in results} == {"succeeded"}
    assert results[1]["items"][0]["message"] == "404: Image not found."


def test_read_timeout_then_404_is_already_absent(env, emulator, invoke) -> None:
    env.setenv("CLEANUP_READ_TIMEOUT_S", "0.3")
    emulator.seed([IMAGE])
    emulator.inject(IMAGE, Fault(hang=5, delete_first=True))
    item = invoke(NOTICE)["items"][0]
    assert (item["outcome"], item["attempts"], item["http_status"]) == ("already_absent", 2, 404)


def test_connection_errors_and_timeouts(env, emulator, invoke) -> None:
    env.setenv("CLEANUP_READ_TIMEOUT_S", "0.2")
    env.setenv("CLEANUP_MAX_ATTEMPTS", "2")
    emulator.seed([IMAGE])
    emulator.inject(IMAGE, Fault(drop=True), Fault(drop=True))
    item = invoke(NOTICE)["items"][0]
    assert (item["outcome"], item["reason"], item["retryable"], item["http_status"]) == (
        "failed", "connection_error", True, None)
    emulator.inject(IMAGE, Fault(hang=3), Fault(hang=3))
    item = invoke(NOTICE)["items"][0]
    assert (item["reason"], item["attempts"]) == ("timeout", 2)


def test_refused_connection(env, invoke) -> None:
    env.setenv("CLEANUP_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    env.setenv("CLEANUP_MAX_ATTEMPTS", "1")
    item = invoke(NOTICE)["items"][0]
    assert (item["reason"], item["retryable"]) == ("connection_error", True)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"itemNotFound": {"code": 404, "message": "gone"}}', "404: gone"),
        (b'{"error": {"code": "Ecs.0005", "message": "bad thing"}}', "Ecs.0005: bad thing"),
        (b'{"error_code": "APIGW.0308", "error_msg": "slow down", "request_id": "r"}', "APIGW.0308: slow down"),
        (b"<html>Bad Gateway</html>", "<html>Bad Gateway</html>"),
        (b"", None),
        (b"[1, 2]", None),
        (b"x" * 2_000_000, "x" * 512),
    ],
)
def test_error_bodies(body, message, env, emulator, invoke) -> None:
    emulator.inject(IMAGE, Fault(status=409, body=body))
    item = invoke(NOTICE)["items"][0]
    assert item["message"] == message and item["reason"] == "conflict"


def test_request_id_is_taken_from_the_response(env, emulator, invoke) -> None:
    emulator.seed([IMAGE])
    item = invoke(NOTICE)["items"][0]
    sent = emulator.requests[0]
    assert item["request_id"] and len(item["request_id"]) == 32
    assert sent.headers["X-Auth-Token"] == TOKEN


@pytest.mark.parametrize(
    ("api", "path"),
    [
        ("ecs-v2.1", f"/v2.1/{PROJECT}/images/{IMAGE}"),
        ("ecs-v2", f"/v2/{PROJECT}/images/{IMAGE}"),
        ("ims", f"/v2/images/{IMAGE}"),
    ],
)
def test_each_api_form(api, path, env, emulator, invoke) -> None:
    env.setenv("CLEANUP_API", api)
    emulator.seed([IMAGE])
    result = invoke(NOTICE)
    assert result["api"] == api and outcomes(result) == [(IMAGE, "deleted", None)]
    sent = emulator.requests[0]
    assert sent.path == path and sent.body == b""
    assert sent.headers.get("X-Project-Id") == (PROJECT if api == "ims" else None)


def test_ims_delete_backup_sends_the_body(env, emulator, invoke) -> None:
    env.setenv("CLEANUP_API", "ims")
    env.setenv("CLEANUP_IMS_DELETE_BACKUP", "true")
    emulator.seed([IMAGE])
    assert outcomes(invoke(NOTICE)) == [(IMAGE, "deleted", None)]
    sent = emulator.requests[0]
    assert json.loads(sent.body) == {"delete_backup": True}
    assert sent.headers["Content-Type"] == "application/json;charset=UTF-8"


def test_ak_sk_signing_is_accepted(env, emulator, invoke) -> None:
    env.delenv("CLEANUP_AUTH_TOKEN")
    env.setenv("HUAWEICLOUD_SDK_AK", "TESTAK000000000000")
    env.setenv("HUAWEICLOUD_SDK_SK", "test-secret-key-000")
    for api in ("ecs-v2.1", "ims"):
        env.setenv("CLEANUP_API", api)
        emulator.seed([IMAGE])
        assert outcomes(invoke(NOTICE)) == [(IMAGE, "deleted", None)]
    auth = emulator.requests[-1].headers["Authorization"]
    assert auth.startswith("SDK-HMAC-SHA256 Access=TESTAK000000000000, SignedHeaders=")
    assert "X-Auth-Token" not in emulator.requests[-1].headers


def test_wrong_secret_key_is_unauthorized(env, emulator, invoke) -> None:
    env.delenv("CLEANUP_AUTH_TOKEN")
    env.setenv("HUAWEICLOUD_SDK_AK", "TESTAK000000000000")
    env.setenv("HUAWEICLOUD_SDK_SK", "not-the-secret")
    emulator.seed([IMAGE])
    item = invoke(NOTICE)["items"][0]
    assert (item["reason"], item["http_status"], item["attempts"]) == ("unauthorized", 401, 1)
    assert "signature does not match" in item["message"]
    assert emulator.images == {IMAGE}


def test_security_token_is_sent_and_signed(monkeypatch, invoke) -> None:
    from image_cleanup.emulator import ImageApiEmulator

    with ImageApiEmulator(credentials={"TMPAK": "tmp-sk"}, security_token="sts-token-1") as server:
        server.seed([IMAGE])
        monkeypatch.setenv("CLEANUP_ENDPOINT", server.url)
        monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "TMPAK")
        monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "tmp-sk")
        monkeypatch.setenv("HUAWEICLOUD_SDK_SECURITY_TOKEN", "wrong-token")
        assert invoke(NOTICE)["items"][0]["reason"] == "unauthorized"
        monkeypatch.setenv("HUAWEICLOUD_SDK_SECURITY_TOKEN", "sts-token-1")
        assert outcomes(invoke(NOTICE)) == [(IMAGE, "deleted", None)]
        sent = server.requests[-1].headers
        assert sent["X-Security-Token"] == "sts-token-1"
        assert "x-security-token" in sent["Authorization"]


def test_functiongraph_agency_credentials_and_project(monkeypatch, invoke) -> None:
    from image_cleanup.emulator import ImageApiEmulator

    with ImageApiEmulator(credentials={"AGENCYAK": "agency-sk"}, security_token="agency-st") as server:
        server.seed([IMAGE])
        monkeypatch.setenv("CLEANUP_ENDPOINT", server.url)
        context = FunctionGraphContext(
            request_id="fg-123", project_id=PROJECT, access_key="AGENCYAK", secret_key="agency-sk",
            security_token="agency-st")
        result = invoke({"image_id": IMAGE}, context)
        assert outcomes(result) == [(IMAGE, "deleted", None)]
        assert result["invocation_id"] == "fg-123"
        assert result["items"][0]["project_id"] == PROJECT


def test_functiongraph_token_is_the_last_resort(env, emulator, invoke) -> None:
    env.delenv("CLEANUP_AUTH_TOKEN")
    emulator.seed([IMAGE])
    result = invoke(NOTICE, FunctionGraphContext(token=TOKEN))
    assert outcomes(result) == [(IMAGE, "deleted", None)]
    assert emulator.requests[0].headers["X-Auth-Token"] == TOKEN


def test_token_wins_over_ak_sk(env, emulator, invoke) -> None:
    env.setenv("HUAWEICLOUD_SDK_AK", "TESTAK000000000000")
    env.setenv("HUAWEICLOUD_SDK_SK", "test-secret-key-000")
    emulator.seed([IMAGE])
    invoke(NOTICE)
    assert "Authorization" not in emulator.requests[0].headers


def test_runtime_project_id_is_the_last_default(env, emulator, invoke) -> None:
    env.setenv("RUNTIME_PROJECT_ID", PROJECT)
    emulator.seed([IMAGE])
    assert outcomes(invoke({"image_id": IMAGE})) == [(IMAGE, "deleted", None)]


def test_lambda_context_gives_the_invocation_id(env, emulator, invoke) -> None:
    result = invoke(NOTICE, LambdaContext(request_id="aws-req-42"))
    assert result["invocation_id"] == "aws-req-42"


def test_retryable_failure_raises_after_logging(env, emulator, capsys) -> None:
    env.setenv("CLEANUP_FAIL_ON_RETRYABLE", "true")
    env.setenv("CLEANUP_MAX_ATTEMPTS", "1")
    emulator.inject(IMAGE, Fault(status=503))
    with pytest.raises(RetryableCleanupError) as raised:
        handler_module.handler(NOTICE, LambdaContext(request_id="r-1"))
    summary = json.loads(str(raised.value))
    assert summary == {"status": "failed", "summary": summary["summary"], "invocation_id": "r-1"}
    assert summary["summary"]["failed"] == 1
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert logged[-1]["result"]["status"] == "failed"
    validate(raised.value.result)


def test_sqs_never_raises_and_reports_batch_item_failures(env, emulator, invoke) -> None:
    env.setenv("CLEANUP_FAIL_ON_RETRYABLE", "true")
    env.setenv("CLEANUP_MAX_ATTEMPTS", "1")
    from tests.helpers import image, load_event

    event = load_event("sqs.json")
    template = event["Records"][0]
    bodies = {
        "ok": {"image_id": image(1), "project_id": PROJECT},
        "throttled": {"image_id": image(2), "project_id": PROJECT},
        "forbidden": {"image_id": image(3), "project_id": PROJECT},
        "absent": {"image_id": image(4), "project_id": PROJECT},
        "bad-id": {"image_id": "nope", "project_id": PROJECT},
        "protected": {"image_id": image(5), "project_id": PROJECT},
    }
    env.setenv("CLEANUP_PROTECTED_IMAGE_IDS", image(5))
    event["Records"] = [{**template, "messageId": k, "body": json.dumps(v)} for k, v in bodies.items()]
    event["Records"].append({**template, "messageId": "garbage", "body": "]["})
    emulator.seed([image(1), image(2), image(3)])
    emulator.inject(image(2), Fault(status=429))
    emulator.inject(image(3), Fault(status=403))
    result = invoke(event)
    assert result["batchItemFailures"] == [
        {"itemIdentifier": "throttled"}, {"itemIdentifier": "bad-id"}, {"itemIdentifier": "garbage"}]
    assert result["status"] == "partial"


def test_proxy_from_the_environment_is_honoured(env, emulator, invoke) -> None:
    from image_cleanup.emulator import ImageApiEmulator

    with ImageApiEmulator(token=TOKEN) as proxy:
        env.setenv("HTTP_PROXY", proxy.url)
        invoke(NOTICE)
        assert emulator.requests == []
        assert [r.path for r in proxy.requests] == [f"{emulator.url}/v2.1/{PROJECT}/images/{IMAGE}"]
        env.setenv("NO_PROXY", "127.0.0.1")
        emulator.seed([IMAGE])
        assert outcomes(invoke(NOTICE)) == [(IMAGE, "deleted", None)]
        assert len(proxy.requests) == 1


def test_log_lines_one_per_image_and_a_summary_with_ids(env, emulator, capsys) -> None:
    from tests.helpers import image, load_event

    emulator.seed([image(1)])
    event = load_event("cloudevent.json") | {"data": {"project_id": PROJECT, "image_ids": [image(1), image(2), "bad"]}}
    result = validate(handler_module.handler(event, LambdaContext(request_id="req-logs")))
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    per_image = [line for line in lines if line["message"] == "image"]
    assert [line["item"]["image_id"] for line in per_image] == [image(1), image(2), "bad"]
    assert [line["level"] for line in per_image] == ["INFO", "INFO", "WARNING"]  # 404 is fine
    assert lines[-1]["message"] == "cleanup finished" and lines[-1]["result"] == result
    for line in lines:
        assert (line["invocation_id"], line["event_id"]) == ("req-logs", event["id"])
