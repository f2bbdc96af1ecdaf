"""A loopback emulator of the image-delete API, for the CLI's ``--emulator``, tests and benchmarks.

It serves the three DELETE forms (``/v2.1/{project}/images/{id}``, ``/v2/{project}/images/{id}``
and IMS ``/v2/images/{id}``) with the platform's status codes, request-ID headers and error
bodies; it checks the IAM token or the AK/SK signature; and it can inject faults per image or at
random rates. Every request it receives is logged, so tests can prove what reached the server.

Standalone: ``python -m image_cleanup.emulator --image ID ...`` prints its URL and token.
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import json
import random
import re
import secrets
import signal
import socket
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from image_cleanup.auth import ALGORITHM, DATE_FORMAT, canonical_request, signature

_ECS_PATH = re.compile(r"^/(v2\.1|v2)/([^/?]+)/images/([^/?]+)$")
_IMS_PATH = re.compile(r"^/v2/images/([^/?]+)$")
_AUTH = re.compile(r"^SDK-HMAC-SHA256 Access=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]+)$")
MAX_CLOCK_SKEW_S = 15 * 60

_ERROR_BODIES: dict[int, dict[str, Any]] = {
    400: {"badRequest": {"code": 400, "message": "Invalid image id"}},
    401: {"error_code": "APIGW.0301", "error_msg": "Incorrect IAM authentication information"},
    403: {"forbidden": {"code": 403, "message": "Policy doesn't allow image:delete to be performed."}},
    409: {"conflictingRequest": {"code": 409, "message": "Image is in use by a server"}},
    429: {"error_code": "APIGW.0308", "error_msg": "The throttling threshold has been reached"},
}


def error_body(status: int, request_id: str) -> bytes:
    document = _ERROR_BODIES.get(status)
    if document is None:
        document = {"error": {"code": f"Ecs.{status:04d}", "message": f"Emulated error {status}"}}
    if "error_code" in document:
        document = {**document, "request_id": request_id}
    return json.dumps(document).encode()


def _is_json_object(body: bytes) -> bool:
    try:
        return isinstance(json.loads(body), dict)
    except ValueError:
        return False


@dataclass(frozen=True)
class Fault:
    """What to do to one request for an image instead of (or before) serving it.

    ``status`` answers with that code; ``retry_after`` adds the header; ``body`` replaces the
    error body; ``delay`` waits first; ``hang`` waits that long (past the client's timeout);
    ``drop`` closes the connection without a response; ``delete_first`` deletes the image before
    the fault (the call succeeded but its answer was lost).
    """

    status: int | None = None
    retry_after: str | None = None
    body: bytes | None = None
    delay: float = 0.0
    hang: float = 0.0
    drop: bool = False
    delete_first: bool = False


@dataclass(frozen=True)
class _Response:
    status: int
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class RequestRecord:
    at: float  # time.monotonic() when the request arrived
    method: str
    path: str
    image_id: str | None
    project_id: str | None
    status: int | None  # None: dropped or hung up
    headers: dict[str, str]
    body: bytes
    in_flight: int
    peer: str  # the client's address and port: one per pooled connection

@dataclass
class _State:
    token: str | None
    credentials: dict[str, str]  # AK -> SK
    security_token: str | None
    latency: float
    rates: dict[int, float]
    rng: random.Random
    images: dict[str, str | None] = field(default_factory=dict)  # image -> owning project
    faults: dict[str, deque[Fault]] = field(default_factory=dict)
    requests: list[RequestRecord] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the client's pool is exercised
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def do_GET(self) -> None:
        state = self.server.state
        if self.path == "/_emulator/health":
            self._send(200, b'{"ok": true}')
        elif self.path == "/_emulator/images":
            with state.lock:
                body = json.dumps(sorted(state.images)).encode()
            self._send(200, body)
        else:
            self._send(404, error_body(404, "-"))

    def do_POST(self) -> None:
        body = self._read_body()
        if self.path != "/_emulator/images":
            self._send(404, error_body(404, "-"))
            return
        try:
            ids = json.loads(body)
        except ValueError:
            ids = None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            self._send(400, error_body(400, "-"))
            return
        self.server.emulator.seed(ids)
        self._send(204)

    def do_DELETE(self) -> None:
        state = self.server.state
        arrived = time.monotonic()
        body = self._read_body()
        path = self.path
        ecs = _ECS_PATH.match(path)
        ims = _IMS_PATH.match(path)
        image_id = ecs.group(3) if ecs else ims.group(1) if ims else None
        project_id = ecs.group(2) if ecs else self.headers.get("X-Project-Id")
        with state.lock:
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
            in_flight = state.in_flight
            queue = state.faults.get(image_id or "")
            fault = queue.popleft() if queue else None
            if fault is None and state.rates:
                fault = self._random_fault(state)
        response: _Response | None = None
        try:
            response = self._respond(path, image_id, project_id, ecs is not None, body, fault)
        finally:
            # Logged before the answer goes out, so a client that has its answer sees the log.
            with state.lock:
                state.in_flight -= 1
                state.requests.append(
                    RequestRecord(
                        arrived, "DELETE", path, image_id, project_id,
                        response.status if response else None, dict(self.headers.items()), body,
                        in_flight, f"{self.client_address[0]}:{self.client_address[1]}",
                    )
                )
        if response is None:  # a hang or a drop, acted out after the request was logged
            self.close_connection = True
            if fault is not None and fault.hang:
                state.stopping.wait(fault.hang)
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        else:
            self._send(response.status, response.body, response.headers)

    @staticmethod
    def _random_fault(state: _State) -> Fault | None:
        roll = state.rng.random()
        for status, rate in state.rates.items():
            if roll < rate:
                return Fault(status=status)
            roll -= rate
        return None

    def _respond(
        self, path: str, image_id: str | None, project_id: str | None, ecs: bool, body: bytes,
        fault: Fault | None,
    ) -> _Response | None:
        """The answer to a DELETE, or None to hang up without one."""
        state = self.server.state
        request_id = uuid.uuid4().hex
        headers = {"X-Request-Id": request_id}
        if ecs:
            headers["X-Openstack-Request-Id"] = f"req-{uuid.uuid4()}"
        if state.latency:
            time.sleep(state.latency)
        if image_id is None:
            return _Response(404, error_body(404, request_id), headers)
        denied = self._authenticate(path, body)
        if denied:
            document = {"error_code": "APIGW.0301", "error_msg": denied, "request_id": request_id}
            return _Response(401, json.dumps(document).encode(), headers)
        if fault is not None:
            if fault.delete_first:
                self._delete(image_id, project_id)
            if fault.delay:
                time.sleep(fault.delay)
            if fault.hang or fault.drop:
                return None
            if fault.status is not None:
                if fault.retry_after is not None:
                    headers["Retry-After"] = fault.retry_after
                payload = fault.body if fault.body is not None else error_body(fault.status, request_id)
                return _Response(fault.status, payload, headers)
        if not ecs and body and not _is_json_object(body):
            return _Response(400, error_body(400, request_id), headers)
        if self._delete(image_id, project_id):
            return _Response(204, b"", headers)
        not_found = (
            {"itemNotFound": {"code": 404, "message": "Image not found."}} if ecs
            else {"error": {"code": "Ims.0027", "message": "The image does not exist."}}
        )
        return _Response(404, json.dumps(not_found).encode(), headers)

    def _delete(self, image_id: str, project_id: str | None) -> bool:
        state = self.server.state
        with state.lock:
            if image_id not in state.images:
                return False
            owner = state.images[image_id]
            if owner is not None and owner != project_id:
                return False
            del state.images[image_id]
            return True

    def _authenticate(self, path: str, body: bytes) -> str | None:
        """None when the request carries valid credentials, else why not."""
        state = self.server.state
        token = self.headers.get("X-Auth-Token")
        if token is not None:
            if state.token and hmac.compare_digest(token, state.token):
                return None
            return "the token is invalid"
        match = _AUTH.match(self.headers.get("Authorization", ""))
        if not match:
            return "no credentials"
        access, signed, sent_signature = match.groups()
        secret = state.credentials.get(access)
        if secret is None:
            return "unknown access key"
        sdk_date = self.headers.get("X-Sdk-Date", "")
        try:
            when = datetime.strptime(sdk_date, DATE_FORMAT).replace(tzinfo=timezone.utc)
        except ValueError:
            return "bad X-Sdk-Date"
        if abs((datetime.now(timezone.utc) - when).total_seconds()) > MAX_CLOCK_SKEW_S:
            return "APIGW.0303: the request time is too far from the server's"
        names = signed.split(";")
        if state.security_token is not None and (
            "x-security-token" not in names
            or self.headers.get("X-Security-Token") != state.security_token
        ):
            return "the security token is missing or invalid"
        if "host" not in names:
            return "the Host header is not signed"
        headers = {name: self.headers.get(name, "") for name in names}
        canonical = canonical_request("DELETE", path, headers, names, body or None)
        expected = signature(secret, sdk_date, canonical)
        if not hmac.compare_digest(expected, sent_signature):
            return f"{ALGORITHM} signature does not match"
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State
    emulator: ImageApiEmulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout, dropped fault) is routine here, not worth a traceback.
        pass


class ImageApiEmulator:
    """The emulated API on a loopback port; use as a context manager or start()/stop()."""

    def __init__(
        self,
        *,
        token: str | None = None,
        credentials: dict[str, str] | None = None,
        security_token: str | None = None,
        latency: float = 0.0,
        rates: dict[int, float] | None = None,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token if token is not None or credentials else secrets.token_urlsafe(24)
        self._state = _State(
            self.token, dict(credentials or {}), security_token, latency, dict(rates or {}),
            random.Random(seed),  # noqa: S311 - fault injection, not cryptography
        )
        self._server = _Server((host, port), _Handler)
        self._server.state = self._state
        self._server.emulator = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ImageApiEmulator:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ImageApiEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def seed(self, image_ids: Iterable[str], project_id: str | None = None) -> None:
        with self._state.lock:
            for image_id in image_ids:
                self._state.images[image_id.lower()] = project_id

    def inject(self, image_id: str, *faults: Fault) -> None:
        """Queue faults for the next requests for ``image_id``, one fault per request."""
        with self._state.lock:
            self._state.faults.setdefault(image_id, deque()).extend(faults)

    @property
    def images(self) -> set[str]:
        with self._state.lock:
            return set(self._state.images)

    @property
    def requests(self) -> list[RequestRecord]:
        with self._state.lock:
            return list(self._state.requests)

    @property
    def max_in_flight(self) -> int:
        return self._state.max_in_flight

    def requests_for(self, image_id: str) -> list[RequestRecord]:
        return [r for r in self.requests if r.image_id == image_id]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m image_cleanup.emulator",
        description="Serve an emulated image-delete API on a loopback port until interrupted.",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free)")
    parser.add_argument("--image", action="append", default=[], help="seed an image ID (repeatable)")
    parser.add_argument("--token", help="the IAM token to accept (default: a random one, printed)")
    parser.add_argument("--ak", help="an access key to accept, with --sk")
    parser.add_argument("--sk", help="the secret key of --ak")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each delete")
    parser.add_argument("--rate-503", type=float, default=0.0, help="share of deletes answered 503")
    parser.add_argument("--rate-429", type=float, default=0.0, help="share of deletes answered 429")
    args = parser.parse_args(argv)
    if bool(args.ak) != bool(args.sk):
        parser.error("--ak and --sk go together")
    rates = {code: rate for code, rate in ((503, args.rate_503), (429, args.rate_429)) if rate > 0}
    emulator = ImageApiEmulator(
        token=args.token, credentials={args.ak: args.sk} if args.ak else None,
        latency=args.latency, rates=rates, port=args.port,
    )
    emulator.seed(args.image)
    with emulator:
        ready = {"url": emulator.url, "token": emulator.token, "images": len(args.image)}
        print(json.dumps(ready), flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
