"""No token, AK, SK or security token in any log line, result, exception message or CLI output."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

import handler as handler_module
from image_cleanup import ConfigurationError, RetryableCleanupError
from image_cleanup.emulator import Fault, ImageApiEmulator
from image_cleanup.settings import load_settings
from tests.helpers import EVENTS, IMAGE, PROJECT, ROOT, FunctionGraphContext, validate

SECRET_TOKEN = "tok-Zq7!secret\"token"
SECRET_AK = "AKSECRETAKVALUE77"
SECRET_SK = "sk-Zq7/secret+key=="
SECRET_ST = "st-Zq7-security-token"
SECRETS = [SECRET_TOKEN, SECRET_AK, SECRET_SK, SECRET_ST]
NOTICE = {"image_id": IMAGE, "project_id": PROJECT}


def assert_clean(*texts: str, secrets: list[str] = SECRETS) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text
            assert json.dumps(secret)[1:-1] not in text


@pytest.fixture
def secret_server():
    with ImageApiEmulator(token=SECRET_TOKEN, credentials={SECRET_AK: SECRET_SK}, security_token=SECRET_ST) as server:
        yield server


@pytest.fixture
def secret_env(monkeypatch, secret_server):
    monkeypatch.setenv("CLEANUP_ENDPOINT", secret_server.url)
    monkeypatch.setenv("CLEANUP_BACKOFF_BASE_S", "0.01")
    monkeypatch.setenv("CLEANUP_BACKOFF_MAX_S", "0.02")
    monkeypatch.setenv("CLEANUP_READ_TIMEOUT_S", "0.2")
    return monkeypatch


SCENARIOS = {
    "deleted": [],
    "already absent": [Fault(status=404)],
    "throttled": [Fault(status=429, retry_after="0")] * 4,
    "server error echoing the token": [Fault(status=500, body=json.dumps(
        {"error": {"code": "X", "message": f"bad token {SECRET_TOKEN} sk {SECRET_SK}"}}).encode())] * 4,
    "forbidden echoing every secret": [Fault(status=403, body=f"AK {SECRET_AK} / ST {SECRET_ST} / {SECRET_TOKEN}".encode())],
    "dropped": [Fault(drop=True)] * 4,
    "hang": [Fault(hang=5)] * 4,
}


@pytest.mark.parametrize("auth", ["token", "aksk", "agency"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_no_secret_in_logs_results_or_exceptions(auth, scenario, secret_env, secret_server, capsys, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    context = None
    in_play = SECRETS  # the invocation can scrub only the secrets it was given
    if auth == "token":
        secret_env.setenv("CLEANUP_AUTH_TOKEN", SECRET_TOKEN)
        in_play = [SECRET_TOKEN]
    elif auth == "aksk":
        in_play = [SECRET_AK, SECRET_SK, SECRET_ST]
        secret_env.setenv("HUAWEICLOUD_SDK_AK", SECRET_AK)
        secret_env.setenv("HUAWEICLOUD_SDK_SK", SECRET_SK)
        secret_env.setenv("HUAWEICLOUD_SDK_SECURITY_TOKEN", SECRET_ST)
    else:
        context = FunctionGraphContext(access_key=SECRET_AK, secret_key=SECRET_SK, security_token=SECRET_ST,
                                       token=SECRET_TOKEN)
    secret_server.seed([IMAGE])
    secret_server.inject(IMAGE, *SCENARIOS[scenario])
    texts = []
    try:
        result = handler_module.handler(NOTICE, context)
    except RetryableCleanupError as exc:
        result = exc.result
        texts += [str(exc), repr(exc)]
    validate(result)
    captured = capsys.readouterr()
    texts += [json.dumps(result), captured.out, captured.err, caplog.text]
    assert_clean(*texts, secrets=in_play)
    assert captured.err.count('"message":"cleanup finished"') == 1
    if scenario == "deleted":
        assert result["items"][0]["outcome"] == "deleted"  # the credentials did work
    if "echoing" in scenario:
        assert "***" in result["items"][0]["message"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CLEANUP_ENDPOINT", f"https://user:{SECRET_SK}@host.example.com"),
        ("CLEANUP_ENDPOINT", f"http://{SECRET_AK}.example.com"),
        ("CLEANUP_ENDPOINT", f"https://host.example.com:{SECRET_AK}/x"),
        ("CLEANUP_ENDPOINT", f"https://host.example.com/{SECRET_SK} x"),
        ("CLEANUP_CONCURRENCY", SECRET_TOKEN),
        ("CLEANUP_REGION", SECRET_ST),
        ("HUAWEICLOUD_SDK_PROJECT_ID", SECRET_SK),
        ("CLEANUP_ALLOWED_PROJECT_IDS", SECRET_AK),
    ],
)
def test_configuration_errors_never_echo_values(name, value, monkeypatch, capsys) -> None:
    monkeypatch.setenv(name, value)
    monkeypatch.setenv("CLEANUP_AUTH_TOKEN", SECRET_TOKEN)
    with pytest.raises(ConfigurationError) as raised:
        handler_module.handler(NOTICE)
    captured = capsys.readouterr()
    assert name in str(raised.value)
    assert_clean(str(raised.value), repr(raised.value), captured.out, captured.err)


def test_half_a_key_pair_is_named_not_shown(monkeypatch) -> None:
    monkeypatch.setenv("CLEANUP_REGION", "cn-north-4")
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", SECRET_SK)
    with pytest.raises(ConfigurationError) as raised:
        handler_module.handler(NOTICE)
    assert "HUAWEICLOUD_SDK_AK" in str(raised.value)
    assert_clean(str(raised.value))


def test_settings_repr_hides_secrets(monkeypatch) -> None:
    for name, value in [("CLEANUP_AUTH_TOKEN", SECRET_TOKEN), ("HUAWEICLOUD_SDK_AK", SECRET_AK),
                        ("HUAWEICLOUD_SDK_SK", SECRET_SK), ("HUAWEICLOUD_SDK_SECURITY_TOKEN", SECRET_ST)]:
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert_clean(repr(settings), str(settings), settings.model_dump_json())
    from image_cleanup.context import read_context

    assert_clean(repr(read_context(FunctionGraphContext(access_key=SECRET_AK, secret_key=SECRET_SK,
                                                        security_token=SECRET_ST, token=SECRET_TOKEN))))


@pytest.mark.parametrize("args", [["--emulator"], [], ["--dry-run"]])
def test_cli_output_carries_no_secret(args, secret_server) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEANUP_", "HUAWEICLOUD_SDK_"))}
    env.update({"CLEANUP_ENDPOINT": secret_server.url, "HUAWEICLOUD_SDK_AK": SECRET_AK,
                "HUAWEICLOUD_SDK_SK": SECRET_SK, "HUAWEICLOUD_SDK_SECURITY_TOKEN": SECRET_ST})
    secret_server.seed([IMAGE])
    run = subprocess.run([sys.executable, str(ROOT / "handler.py"), str(EVENTS / "direct.json"), *args],
                         capture_output=True, env=env, timeout=60, check=False, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert_clean(run.stdout.decode(), run.stderr.decode())
    validate(json.loads(run.stdout))


def test_short_values_are_not_scrubbed_into_garbled_messages() -> None:
    from image_cleanup.logs import Redactor

    redactor = Redactor(["t", SECRET_TOKEN])
    text = f"connection to host timed out; token {SECRET_TOKEN}"
    assert redactor.scrub(text) == "connection to host timed out; token ***"
