"""Our AK/SK signature against the official SDK's signer (a test-only dependency)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from image_cleanup.auth import AkSkAuth

AK, SK = "HPUAEXAMPLEAK12345", "sEcReT/with+chars=="
WHEN = datetime(2026, 12, 4, 10, 0, 0, tzinfo=timezone.utc)


def _ours(url: str, headers: dict[str, str], body: bytes | None, token: str | None) -> dict[str, str]:
    prepared = requests.Request("DELETE", url, headers=headers, data=body).prepare()
    AkSkAuth(AK, SK, token)(prepared, now=WHEN)
    return dict(prepared.headers)


def _official(host: str, path: str, headers: dict[str, str], body: bytes | None) -> str:
    request = SdkRequest(
        method="DELETE", schema="https", host=host, resource_path=path, query_params=[],
        header_params=dict(headers), body=body or "",
    )
    signed = Signer(BasicCredentials(AK, SK)).sign(request)
    return signed.header_params["Authorization"]


@pytest.mark.parametrize("token", [None, "temporary-security-token-xyz"])
@pytest.mark.parametrize(
    ("url", "extra", "body"),
    [
        ("https://ecs.cn-north-4.myhuaweicloud.com/v2.1/9c53a566cb3443ab910cf0daebca90c4/images/"
         "6cad483b-e281-4985-a345-7afef1f3c5b7", {}, None),
        ("https://ims.ap-southeast-1.myhuaweicloud.com/v2/images/6cad483b-e281-4985-a345-7afef1f3c5b7",
         {"X-Project-Id": "9c53a566cb3443ab910cf0daebca90c4",
          "Content-Type": "application/json;charset=UTF-8"}, b'{"delete_backup": true}'),
        ("http://127.0.0.1:8080/v2/9c53a566cb3443ab910cf0daebca90c4/images/"
         "6cad483b-e281-4985-a345-7afef1f3c5b7", {}, None),
    ],
)
def test_signature_matches_the_official_sdk(url, extra, body, token) -> None:
    headers = _ours(url, extra, body, token)
    # The SDK signs exactly the headers it is given: give it what we sent, less our signature.
    sent = {k: v for k, v in headers.items() if k != "Authorization"}
    assert sent["X-Sdk-Date"] == "20261204T100000Z"
    if token:
        assert sent["X-Security-Token"] == token
    host = sent["Host"]
    path = url.split(host, 1)[1]
    assert headers["Authorization"] == _official(host, path, sent, body)


def test_signature_changes_with_every_signed_part() -> None:
    url = "https://ims.cn-north-4.myhuaweicloud.com/v2/images/6cad483b-e281-4985-a345-7afef1f3c5b7"
    base = _ours(url, {}, None, None)["Authorization"]
    assert _ours(url, {}, None, "t")["Authorization"] != base
    assert _ours(url.replace("6cad", "7cad"), {}, None, None)["Authorization"] != base
    assert _ours(url, {"X-Project-Id": "p"}, None, None)["Authorization"] != base
