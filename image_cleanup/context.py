"""Read the platform's invocation context: FunctionGraph, Lambda, the CLI's, or none.

FunctionGraph spells its methods in camelCase and hands out the agency's temporary credentials;
Lambda has ``aws_request_id`` and ``get_remaining_time_in_millis``. Everything past this module
sees one ``Platform`` value and never the context object itself.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Platform(NamedTuple):
    request_id: str | None = None
    remaining_s: float | None = None
    project_id: str | None = None
    security_access_key: str | None = None
    security_secret_key: str | None = None
    security_token: str | None = None
    token: str | None = None

    def secret_values(self) -> list[str]:
        secrets = (self.security_access_key, self.security_secret_key, self.security_token, self.token)
        return [s for s in secrets if s]

    def __repr__(self) -> str:  # the credentials must never reach a log line
        return f"Platform(request_id={self.request_id!r}, remaining_s={self.remaining_s!r})"


def _call(context: Any, name: str) -> Any:
    """Call a context method if it exists; a broken or missing one reads as absent."""
    method = getattr(context, name, None)
    if not callable(method):
        return None
    try:
        return method()
    except Exception:  # noqa: BLE001 - a context method failing must not fail the invocation
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _milliseconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return max(0.0, float(value) / 1000.0)


def read_context(context: Any) -> Platform:
    if context is None:
        return Platform()
    request_id = _text(_call(context, "getRequestID")) or _text(
        getattr(context, "aws_request_id", None)
    )
    remaining = _milliseconds(_call(context, "get_remaining_time_in_millis"))
    if remaining is None:
        remaining = _milliseconds(_call(context, "getRemainingTimeInMilliSeconds"))
    return Platform(
        request_id=request_id,
        remaining_s=remaining,
        project_id=_text(_call(context, "getProjectID")),
        security_access_key=_text(_call(context, "getSecurityAccessKey")),
        security_secret_key=_text(_call(context, "getSecuritySecretKey")),
        security_token=_text(_call(context, "getSecurityToken")),
        token=_text(_call(context, "getToken")),
    )
