from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import handler as handler_module
from image_cleanup.emulator import ImageApiEmulator
from tests.helpers import TOKEN, validate

_PREFIXES = ("CLEANUP_", "HUAWEICLOUD_SDK_", "RUNTIME_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's or CI's cleanup settings or proxies."""
    for name in list(os.environ):
        if name.upper().startswith(_PREFIXES):
            monkeypatch.delenv(name)


@pytest.fixture
def emulator() -> Iterator[ImageApiEmulator]:
    with ImageApiEmulator(token=TOKEN, credentials={"TESTAK000000000000": "test-secret-key-000"}) as server:
        yield server


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, emulator: ImageApiEmulator) -> pytest.MonkeyPatch:
    """Settings pointing at the emulator with a token, and quick backoff."""
    monkeypatch.setenv("CLEANUP_ENDPOINT", emulator.url)
    monkeypatch.setenv("CLEANUP_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("CLEANUP_BACKOFF_BASE_S", "0.01")
    monkeypatch.setenv("CLEANUP_BACKOFF_MAX_S", "0.05")
    monkeypatch.setenv("CLEANUP_FAIL_ON_RETRYABLE", "false")
    return monkeypatch


@pytest.fixture
def invoke() -> Callable[..., dict[str, Any]]:
    """Call the real handler and validate what it returns against the committed schema."""

    def call(event: Any, context: Any = None) -> dict[str, Any]:
        return validate(handler_module.handler(event, context))

    return call
