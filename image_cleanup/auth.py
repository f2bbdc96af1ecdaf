"""Authentication: an IAM token, or AK/SK request signing (``SDK-HMAC-SHA256``).

The signer is written out here because the official SDK may not be a runtime dependency; it
follows ``huaweicloudsdkcore/signer/signer.py`` and the tests check it against that signer.
The helpers are shared with the emulator, which verifies what the client signs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import NamedTuple
from urllib.parse import quote, unquote, urlsplit

from requests import PreparedRequest
from requests.auth import AuthBase

from image_cleanup.context import Platform
from image_cleanup.errors import ConfigurationError
from image_cleanup.settings import Settings

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_BODY_HASH = hashlib.sha256(b"").hexdigest()


def _encode(text: str) -> str:
    return quote(text, safe="~")


def canonical_uri(path: str) -> str:
    uri = "/".join(_encode(segment) for segment in unquote(path).split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(query: str) -> str:
    pairs = []
    for part in query.split("&") if query else ():
        key, _, value = part.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(pairs))


def signed_header_names(headers: Mapping[str, str]) -> list[str]:
    return sorted(name.lower() for name in headers if "_" not in name)


def canonical_request(
    method: str, url_path: str, headers: Mapping[str, str], signed: list[str], body: bytes | None
) -> str:
    path, _, query = url_path.partition("?")
    lowered = {name.lower(): str(value).strip() for name, value in headers.items()}
    header_lines = "".join(f"{name}:{lowered.get(name, '')}\n" for name in signed)
    payload_hash = hashlib.sha256(body).hexdigest() if body else EMPTY_BODY_HASH
    return "\n".join(
        [method.upper(), canonical_uri(path), canonical_query(query), header_lines,
         ";".join(signed), payload_hash]
    )


def signature(secret_key: str, sdk_date: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    string_to_sign = f"{ALGORITHM}\n{sdk_date}\n{digest}"
    return hmac.new(secret_key.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


class TokenAuth(AuthBase):
    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers["X-Auth-Token"] = self._token
        return request

    def __repr__(self) -> str:  # never show the token
        return "TokenAuth(***)"


class AkSkAuth(AuthBase):
    """Signs each request the way the official SDK does."""

    def __init__(self, access_key: str, secret_key: str, security_token: str | None = None) -> None:
        self._ak = access_key
        self._sk = secret_key
        self._security_token = security_token

    def __repr__(self) -> str:
        return "AkSkAuth(***)"

    def __call__(self, request: PreparedRequest, now: datetime | None = None) -> PreparedRequest:
        parts = urlsplit(request.url or "")
        headers = request.headers
        headers["X-Sdk-Date"] = (now or datetime.now(timezone.utc)).strftime(DATE_FORMAT)
        if "Host" not in headers:
            headers["Host"] = parts.netloc
        if self._security_token:
            headers["X-Security-Token"] = self._security_token
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        signed = signed_header_names(headers)
        canonical = canonical_request(request.method or "DELETE", path, headers, signed, body)
        sig = signature(self._sk, headers["X-Sdk-Date"], canonical)
        headers["Authorization"] = (
            f"{ALGORITHM} Access={self._ak}, SignedHeaders={';'.join(signed)}, Signature={sig}"
        )
        return request


class Credentials(NamedTuple):
    """Where the credentials came from (for logs) and the requests auth that applies them."""

    source: str
    auth: AuthBase


def resolve_credentials(settings: Settings, platform: Platform) -> Credentials | None:
    """The first credentials available, in the contract's order; None when there are none."""
    if settings.auth_token is not None:
        return Credentials("CLEANUP_AUTH_TOKEN", TokenAuth(settings.auth_token.get_secret_value()))
    if (settings.ak is None) != (settings.sk is None):
        missing = "HUAWEICLOUD_SDK_SK" if settings.sk is None else "HUAWEICLOUD_SDK_AK"
        raise ConfigurationError(f"{missing} is not set while its pair is: set both or neither")
    if settings.ak is not None and settings.sk is not None:
        token = settings.security_token.get_secret_value() if settings.security_token else None
        return Credentials(
            "HUAWEICLOUD_SDK_AK",
            AkSkAuth(settings.ak.get_secret_value(), settings.sk.get_secret_value(), token),
        )
    if platform.security_access_key and platform.security_secret_key:
        return Credentials(
            "context.getSecurityAccessKey",
            AkSkAuth(
                platform.security_access_key, platform.security_secret_key, platform.security_token
            ),
        )
    if platform.token:
        return Credentials("context.getToken", TokenAuth(platform.token))
    return None
