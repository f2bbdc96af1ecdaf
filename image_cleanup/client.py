"""The delete call (SPEC section 6): build the URL, send it signed, classify, retry.

One pooled ``requests.Session`` per container, sized to the concurrency, is shared by every
delete; ``ImageClient.delete`` runs one image's attempts within the invocation's budgets.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Literal, NamedTuple

import requests
from requests.adapters import HTTPAdapter

from image_cleanup.guards import Decision
from image_cleanup.results import ItemResult, item_result
from image_cleanup.retrying import Breaker, Deadline, backoff_delay, parse_retry_after
from image_cleanup.settings import Settings

SUCCESS = frozenset({200, 202, 204})
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
NAMED_STATUS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 409: "conflict", 429: "throttled"}
REQUEST_ID_HEADERS = ("X-Request-Id", "X-Openstack-Request-Id", "X-Compute-Request-Id")
ERROR_BODY_LIMIT = 64 * 1024  # enough for any error document; a huge body is not read whole
USER_AGENT = "image-cleanup/1.0"


class Attempt(NamedTuple):
    """How one HTTP attempt ended."""

    outcome: Literal["deleted", "already_absent"] | None  # None: it failed
    reason: str | None
    retryable: bool
    http_status: int | None = None
    message: str | None = None
    request_id: str | None = None
    retry_after_s: float | None = None

    @property
    def overloaded(self) -> bool:
        """Counts towards the breaker: throttled, 5xx, or no answer at all."""
        return self.reason in ("throttled", "server_error", "timeout", "connection_error")


def reason_for_status(status: int) -> str:
    if status in NAMED_STATUS:
        return NAMED_STATUS[status]
    return "server_error" if 500 <= status <= 599 else f"http_{status}"


def error_message(body: bytes) -> str | None:
    """The message of any of the platform's error-body shapes; a non-JSON body as text.

    Not cut here: ``item_result`` cuts every message to the contract's 512 characters.
    """
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return body.decode("utf-8", "replace").strip() or None
    if not isinstance(document, dict):
        return None
    if "error_msg" in document or "error_code" in document:
        return _join(document.get("error_code"), document.get("error_msg"))
    for value in document.values():  # {"itemNotFound": {...}} or {"error": {...}}
        if isinstance(value, dict) and ("message" in value or "code" in value):
            return _join(value.get("code"), value.get("message"))
    return None


def _join(code: Any, message: Any) -> str | None:
    parts = [str(p) for p in (code, message) if p not in (None, "")]
    return ": ".join(parts) if parts else None


def _read_capped(response: requests.Response) -> bytes:
    chunks = []
    size = 0
    for chunk in response.iter_content(8192):
        chunks.append(chunk)
        size += len(chunk)
        if size >= ERROR_BODY_LIMIT:
            break
    return b"".join(chunks)[:ERROR_BODY_LIMIT]


_sessions_lock = threading.Lock()
_sessions: dict[int, requests.Session] = {}


def pooled_session(pool_size: int) -> requests.Session:
    """The container's session for this pool size, reused by warm invocations."""
    with _sessions_lock:
        session = _sessions.get(pool_size)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            session.headers["User-Agent"] = USER_AGENT
            _sessions[pool_size] = session
        return session


class ImageClient:
    def __init__(
        self,
        settings: Settings,
        base_url: str,
        auth: requests.auth.AuthBase,
        session: requests.Session,
        deadline: Deadline,
        breaker: Breaker,
    ) -> None:
        self._settings = settings
        self._base_url = base_url
        self._auth = auth
        self._session = session
        self._deadline = deadline
        self._breaker = breaker
        # The environment's proxies and CA bundle (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE)
        # apply as with Session.request, resolved once per invocation instead of per delete.
        environment = session.merge_environment_settings(base_url, {}, None, None, None)
        self._proxies = environment["proxies"]
        self._verify = environment["verify"]
        self._cert = environment["cert"]

    def url(self, project_id: str, image_id: str) -> str:
        api = self._settings.api
        if api == "ims":
            return f"{self._base_url}/v2/images/{image_id}"
        version = "v2.1" if api == "ecs-v2.1" else "v2"
        return f"{self._base_url}/{version}/{project_id}/images/{image_id}"

    def attempt(self, project_id: str, image_id: str) -> Attempt:
        settings = self._settings
        headers = dict(self._session.headers)
        body: bytes | None = None
        if settings.api == "ims":
            headers["X-Project-Id"] = project_id
            if settings.ims_delete_backup:
                headers["Content-Type"] = "application/json;charset=UTF-8"
                body = b'{"delete_backup": true}'
        timeouts = self._deadline.attempt_timeouts(
            settings.connect_timeout_s, settings.read_timeout_s
        )
        # Prepared here and handed to Session.send: the session's pool and adapter do the work,
        # while the per-request merging of cookies, hooks and environment settings that
        # Session.request adds (a third of the client's CPU per delete) is skipped: this client
        # uses no cookies or hooks, and the environment was read once in __init__.
        request = requests.PreparedRequest()
        request.prepare(
            method="DELETE", url=self.url(project_id, image_id), headers=headers, data=body,
            auth=self._auth,
        )
        try:
            response = self._session.send(
                request, timeout=timeouts, allow_redirects=False, stream=True,
                proxies=self._proxies, verify=self._verify, cert=self._cert,
            )
        except requests.Timeout as exc:
            return Attempt(None, "timeout", True, message=_exception_message(exc, "timed out"))
        except requests.RequestException as exc:  # refused, reset, broken chunking: no answer
            message = _exception_message(exc, "connection failed")
            return Attempt(None, "connection_error", True, message=message)
        with response:
            return self._classify(response)

    def _classify(self, response: requests.Response) -> Attempt:
        status = response.status_code
        request_id = next(
            (response.headers[h] for h in REQUEST_ID_HEADERS if response.headers.get(h)), None
        )
        try:
            # Read even an empty success body to its end: only then does the connection go
            # back to the pool instead of being closed.
            body = _read_capped(response)
        except requests.RequestException:
            body = b""
        if status in SUCCESS:
            return Attempt("deleted", None, False, status, request_id=request_id)
        message = error_message(body)
        if status == 404:
            return Attempt("already_absent", None, False, status, message, request_id)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return Attempt(
            None, reason_for_status(status), status in RETRYABLE_STATUS, status, message,
            request_id, retry_after,
        )

    def delete(self, decision: Decision) -> ItemResult:
        """All attempts for one image, or a deferral when it must not start."""
        if decision.image_id is None or decision.project_id is None:  # guards never let this through
            raise ValueError("only a validated target can be deleted")
        if self._breaker.is_open:
            return _deferred(decision, "circuit_open", "the API is failing or throttling; left for later")
        if not self._deadline.can_start_attempt():
            return _deferred(decision, "deadline_exceeded", "not started: the invocation's deadline is near")
        settings = self._settings
        started = time.monotonic()
        attempts = 0
        while True:
            attempts += 1
            result = self.attempt(decision.project_id, decision.image_id)
            self._breaker.record(overloaded=result.overloaded, healthy=result.outcome is not None)
            if not result.retryable or attempts >= settings.max_attempts:
                break
            delay = backoff_delay(
                attempts, settings.backoff_base_s, settings.backoff_max_s, result.retry_after_s
            )
            if not self._deadline.can_start_attempt(after_sleep_s=delay):
                break
            time.sleep(delay)
        return item_result(
            decision.image_id,
            decision.project_id,
            result.outcome or "failed",
            reason=result.reason,
            message=result.message,
            http_status=result.http_status,
            attempts=attempts,
            request_id=result.request_id,
            retryable=result.retryable,
            record_id=decision.record_id,
            duration_ms=int((time.monotonic() - started) * 1000),
        )


def _exception_message(exc: Exception, fallback: str) -> str:
    # requests' messages name the URL (never a credential: those travel in headers)
    return str(exc) or fallback


def _deferred(decision: Decision, reason: str, message: str) -> ItemResult:
    return decision._replace(
        outcome="deferred", reason=reason, message=message, retryable=True
    ).as_item()
