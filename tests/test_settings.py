"""Configuration (SPEC section 5): every variable is read, bad values name the setting."""

from __future__ import annotations

import json

import pytest

import handler as handler_module
from image_cleanup import ConfigurationError
from image_cleanup.settings import Settings, load_settings
from tests.helpers import IMAGE, PROJECT

NOTICE = {"image_id": IMAGE, "project_id": PROJECT}


def test_defaults() -> None:
    s = Settings()
    assert (s.api, s.max_images, s.concurrency, s.max_attempts) == ("ecs-v2.1", 100, 8, 4)
    assert (s.backoff_base_s, s.backoff_max_s, s.connect_timeout_s, s.read_timeout_s) == (1.0, 20.0, 3.0, 10.0)
    assert (s.deadline_margin_s, s.breaker_threshold, s.fail_on_retryable, s.dry_run) == (2.0, 5, True, False)
    assert s.event_types == {"image.expired", "Image Expired"} and s.log_level == "INFO"


def test_every_variable_is_read(monkeypatch) -> None:
    values = {
        "CLEANUP_REGION": "ap-southeast-1", "CLEANUP_API": "ims", "CLEANUP_IMS_DELETE_BACKUP": "true",
        "CLEANUP_AUTH_TOKEN": "tok", "HUAWEICLOUD_SDK_AK": "ak", "HUAWEICLOUD_SDK_SK": "sk",
        "HUAWEICLOUD_SDK_SECURITY_TOKEN": "st", "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT,
        "CLEANUP_ALLOWED_PROJECT_IDS": f"{PROJECT}, ,", "CLEANUP_PROTECTED_IMAGE_IDS": f" {IMAGE.upper()} ",
        "CLEANUP_EVENT_TYPES": "a,b", "CLEANUP_DRY_RUN": "true", "CLEANUP_MAX_IMAGES": "7",
        "CLEANUP_CONCURRENCY": "64", "CLEANUP_MAX_ATTEMPTS": "2", "CLEANUP_BACKOFF_BASE_S": "0.5",
        "CLEANUP_BACKOFF_MAX_S": "4", "CLEANUP_CONNECT_TIMEOUT_S": "1", "CLEANUP_READ_TIMEOUT_S": "2",
        "CLEANUP_DEADLINE_MARGIN_S": "1.5", "CLEANUP_BREAKER_THRESHOLD": "0",
        "CLEANUP_FAIL_ON_RETRYABLE": "false", "CLEANUP_LOG_LEVEL": "debug",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    s = load_settings()
    assert s.base_url == "https://ims.ap-southeast-1.myhuaweicloud.com"
    assert s.ims_delete_backup and s.dry_run and not s.fail_on_retryable
    assert s.allowed_project_ids == {PROJECT} and s.protected_image_ids == {IMAGE}
    assert s.event_types == {"a", "b"} and s.log_level == "DEBUG"
    assert (s.max_images, s.concurrency, s.max_attempts, s.breaker_threshold) == (7, 64, 2, 0)
    assert (s.backoff_base_s, s.backoff_max_s, s.connect_timeout_s, s.read_timeout_s, s.deadline_margin_s) == (
        0.5, 4.0, 1.0, 2.0, 1.5)
    assert s.project_id == PROJECT
    assert sorted(s.secret_values()) == ["ak", "sk", "st", "tok"]


def test_region_gives_ecs_host_and_endpoint_overrides(monkeypatch) -> None:
    monkeypatch.setenv("CLEANUP_REGION", "cn-north-4")
    assert load_settings().base_url == "https://ecs.cn-north-4.myhuaweicloud.com"
    monkeypatch.setenv("CLEANUP_ENDPOINT", "https://proxy.example.com/ecs/")
    assert load_settings().base_url == "https://proxy.example.com/ecs"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CLEANUP_REGION", "north"), ("CLEANUP_REGION", "cn-north-4\n"), ("CLEANUP_REGION", "cn-north-\uff14"),
        ("CLEANUP_REGION", "cn-north-4.evil.example.com/x"), ("CLEANUP_API", "v3"), ("CLEANUP_CONCURRENCY", "0"),
        ("CLEANUP_CONCURRENCY", "65"), ("CLEANUP_MAX_ATTEMPTS", "zero"), ("CLEANUP_MAX_IMAGES", "-1"),
        ("CLEANUP_DRY_RUN", "maybe"), ("CLEANUP_LOG_LEVEL", "LOUD"), ("CLEANUP_BACKOFF_BASE_S", "nope"),
        ("CLEANUP_BACKOFF_MAX_S", "0.1"), ("CLEANUP_READ_TIMEOUT_S", "0"),
        ("CLEANUP_ENDPOINT", "ftp://x"), ("CLEANUP_ENDPOINT", "http://example.com"),
        ("CLEANUP_ENDPOINT", "http://10.0.0.1"), ("CLEANUP_ENDPOINT", "https://u:p@host"),
        ("HUAWEICLOUD_SDK_PROJECT_ID", "abc"), ("CLEANUP_ALLOWED_PROJECT_IDS", "abc,def"),
        ("CLEANUP_BREAKER_THRESHOLD", "-1"),
    ],
)
def test_invalid_setting_names_the_variable(name, value, monkeypatch) -> None:
    monkeypatch.setenv("CLEANUP_DRY_RUN", "true")
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as raised:
        handler_module.handler(NOTICE)
    message = str(raised.value)
    assert name in message or (name == "CLEANUP_BACKOFF_MAX_S" and "CLEANUP_BACKOFF_MAX_S" in message)
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.8.9.10", "[::1]"])
def test_plain_http_is_allowed_for_loopback_only(host, monkeypatch) -> None:
    monkeypatch.setenv("CLEANUP_ENDPOINT", f"http://{host}:8080")
    assert load_settings().base_url == f"http://{host}:8080"


@pytest.mark.parametrize("host", ["localhost.example.com", "127.0.0.1.nip.io", "0.0.0.0", "[::2]", "169.254.1.1"])
def test_plain_http_is_refused_elsewhere(host, monkeypatch) -> None:
    monkeypatch.setenv("CLEANUP_ENDPOINT", f"http://{host}:8080")
    with pytest.raises(ConfigurationError, match="CLEANUP_ENDPOINT"):
        load_settings()


def test_missing_endpoint_or_credentials_outside_dry_run(monkeypatch, capsys) -> None:
    with pytest.raises(ConfigurationError, match="CLEANUP_REGION"):
        handler_module.handler(NOTICE)
    line = json.loads(capsys.readouterr().err.strip())
    assert line["level"] == "ERROR" and "CLEANUP_REGION" in line["error"]
    monkeypatch.setenv("CLEANUP_REGION", "cn-north-4")
    with pytest.raises(ConfigurationError, match="CLEANUP_AUTH_TOKEN"):
        handler_module.handler(NOTICE)
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "only-the-ak")
    with pytest.raises(ConfigurationError, match="HUAWEICLOUD_SDK_SK"):
        handler_module.handler(NOTICE)


def test_settings_are_cached_until_the_environment_changes(monkeypatch) -> None:
    monkeypatch.setenv("CLEANUP_MAX_IMAGES", "5")
    first = load_settings()
    assert load_settings() is first
    monkeypatch.setenv("CLEANUP_MAX_IMAGES", "6")
    assert load_settings().max_images == 6
    monkeypatch.setenv("CLEANUP_MAX_IMAGES", "bad")
    for _ in range(2):  # the cached error is raised again, not forgotten
        with pytest.raises(ConfigurationError):
            load_settings()
