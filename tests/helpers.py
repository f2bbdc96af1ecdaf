"""Shared helpers: platform contexts and schema validation for every result a test produces."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jsonschema

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
PROJECT = "9c53a566cb3443ab910cf0daebca90c4"
OTHER_PROJECT = "0123456789abcdef0123456789abcdef"
IMAGE = "6cad483b-e281-4985-a345-7afef1f3c5b7"
TOKEN = "test-iam-token-9f8e7d6c5b4a"

_schema = json.loads((ROOT / "schemas" / "result.schema.json").read_text(encoding="utf-8"))
_validator = jsonschema.Draft202012Validator(_schema)


def image(n: int) -> str:
    return f"{n:08x}-0000-4000-8000-{n:012x}"


def load_event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def validate(result: dict[str, Any]) -> dict[str, Any]:
    """Every result a test sees goes through the committed JSON Schema."""
    _validator.validate(result)
    return result


def outcomes(result: dict[str, Any]) -> list[tuple[str | None, str, str | None]]:
    return [(i["image_id"], i["outcome"], i["reason"]) for i in result["items"]]


class LambdaContext:
    def __init__(self, remaining_s: float = 60.0, request_id: str = "lambda-req-1") -> None:
        self.aws_request_id = request_id
        self.function_name = "image-cleanup"
        self._ends = time.monotonic() + remaining_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._ends - time.monotonic()) * 1000))


class FunctionGraphContext:
    """The FunctionGraph context's methods, with agency credentials when given."""

    def __init__(
        self, remaining_s: float = 60.0, *, request_id: str = "fg-req-1", project_id: str | None = None,
        access_key: str | None = None, secret_key: str | None = None, security_token: str | None = None,
        token: str | None = None,
    ) -> None:
        self._ends = time.monotonic() + remaining_s
        self._values = {
            "getRequestID": request_id, "getProjectID": project_id,
            "getSecurityAccessKey": access_key, "getSecuritySecretKey": secret_key,
            "getSecurityToken": security_token, "getToken": token,
        }

    def getRemainingTimeInMilliSeconds(self) -> int:
        return max(0, int((self._ends - time.monotonic()) * 1000))

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values", {})
        if name in values:
            return lambda: values[name]
        raise AttributeError(name)
