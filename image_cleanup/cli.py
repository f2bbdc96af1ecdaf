"""The command line (SPEC section 8): one invocation on an event file, result JSON on stdout.

Exit status: 0 succeeded; 1 partial or failed; 2 rejected, a configuration error or a usage error.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, NoReturn

from image_cleanup.errors import ConfigurationError

EXIT_CODES = {"succeeded": 0, "partial": 1, "failed": 1, "rejected": 2}
USAGE_ERROR = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # one line on standard error, as the contract asks (argparse would print the usage too)
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see --help)\n")


class CliContext:
    """A Lambda-style context for command-line runs, with the ``--timeout`` deadline."""

    def __init__(self, timeout_s: float | None) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._ends = None if timeout_s is None else time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int | None:
        if self._ends is None:
            return None
        return max(0, int((self._ends - time.monotonic()) * 1000))


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python handler.py",
        description="Run one image-cleanup invocation on EVENT_FILE and print the result JSON.",
        epilog="Exit status: 0 succeeded; 1 partial or failed; 2 rejected, configuration or usage error.",
    )
    parser.add_argument("event_file", metavar="EVENT_FILE", help="the event as JSON; - reads standard input")
    parser.add_argument("--dry-run", action="store_true", help="decide and report, delete nothing")
    parser.add_argument(
        "--emulator", action="store_true",
        help="run against the built-in emulator of the image API, seeded with the event's images "
        "(ignores CLEANUP_ENDPOINT, CLEANUP_REGION and the credential settings)",
    )
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="give the run a deadline")
    return parser


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as handle:
        return handle.read()


def image_ids_in(event: Any) -> list[str]:
    """Every valid image ID the event names, whatever its envelope or event type."""
    from image_cleanup.envelopes import unwrap
    from image_cleanup.identifiers import canonical_image_id
    from image_cleanup.notices import read_notices

    ids = []
    for index, record in enumerate(unwrap(event, {"*"}).records):
        for notice in read_notices(record, index).notices:
            image_id = canonical_image_id(notice.image_id)
            if image_id:
                ids.append(image_id)
    return ids


@contextmanager
def _emulated(event: Any) -> Iterator[dict[str, Any]]:
    from image_cleanup.emulator import ImageApiEmulator

    # The emulator is on loopback: a proxy configured for the real endpoint must not take it.
    bypass = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1"]))
    os.environ["NO_PROXY"] = bypass
    with ImageApiEmulator() as emulator:
        emulator.seed(image_ids_in(event))
        yield {
            "endpoint": emulator.url, "region": None, "auth_token": emulator.token,
            "ak": None, "sk": None, "security_token": None,
        }


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.timeout is not None and not (math.isfinite(args.timeout) and args.timeout > 0):
        _parser().error("--timeout must be a positive number of seconds")
    try:
        raw = _read(args.event_file)
    except OSError as exc:
        _parser().error(f"cannot read {args.event_file}: {exc.strerror or exc}")

    from image_cleanup.cleanup import run
    from image_cleanup.settings import load_settings

    try:
        target: AbstractContextManager[dict[str, Any]] = (
            _emulated(raw) if args.emulator else nullcontext({})
        )
        with target as overrides:
            settings = load_settings(**overrides)
            invocation = run(raw, CliContext(args.timeout), force_dry_run=args.dry_run, settings=settings)
    except ConfigurationError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    print(json.dumps(invocation.result, indent=2, ensure_ascii=False))
    return EXIT_CODES[invocation.status]

