"""One invocation, end to end: event -> records -> notices -> decisions -> deletes -> result.

``run`` returns an ``Invocation`` and never raises for the event's content; it raises
``ConfigurationError`` for bad settings, before the event is looked at. Whether to raise
``RetryableCleanupError`` is the handler's business, so the CLI can still print the result.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any, NamedTuple

from image_cleanup.auth import Credentials, resolve_credentials
from image_cleanup.context import Platform, read_context
from image_cleanup.envelopes import EventError, Unwrapped, unwrap
from image_cleanup.errors import ConfigurationError
from image_cleanup.guards import Decision, Policy, decide
from image_cleanup.logs import Redactor, configure, log_json
from image_cleanup.notices import Notice, read_notices
from image_cleanup.results import (
    OK_OUTCOMES,
    CleanupResult,
    ItemResult,
    batch_item_failures,
    error_entry,
    overall_status,
    summarise,
)
from image_cleanup.retrying import Breaker, Deadline
from image_cleanup.settings import Settings, load_settings


class Invocation(NamedTuple):
    result: dict[str, Any]
    raise_retryable: bool  # the handler should hand the event back to the platform

    @property
    def status(self) -> str:
        return str(self.result["status"])

    def summary_line(self) -> str:
        keys = ("status", "summary", "invocation_id")
        return json.dumps({k: self.result[k] for k in keys}, separators=(",", ":"))


class _Target(NamedTuple):
    """Where and how to call: resolved once per invocation, only when something is called."""

    base_url: str
    credentials: Credentials


def _require_target(settings: Settings, platform: Platform) -> _Target:
    base_url = settings.base_url
    if base_url is None:
        raise ConfigurationError(
            "no endpoint: set CLEANUP_REGION or CLEANUP_ENDPOINT (or CLEANUP_DRY_RUN=true)"
        )
    credentials = resolve_credentials(settings, platform)
    if credentials is None:
        raise ConfigurationError(
            "no credentials: set CLEANUP_AUTH_TOKEN, or HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK, "
            "or give the FunctionGraph function an agency (or CLEANUP_DRY_RUN=true)"
        )
    return _Target(base_url, credentials)


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _execute(
    decisions: Sequence[Decision], settings: Settings, target: _Target | None, deadline: Deadline
) -> list[ItemResult]:
    """Item results in event order; only targets outside dry-run reach the client."""
    finals = [None if d.is_target and not d.dry_run else d.as_item() for d in decisions]
    calls = [index for index, final in enumerate(finals) if final is None]
    if not calls:
        return [final for final in finals if final is not None]
    if target is None:  # run() resolves a target whenever the run is not dry
        raise RuntimeError("deletes to make but no endpoint resolved")
    from image_cleanup.client import ImageClient, pooled_session  # only when something is called

    client = ImageClient(
        settings, target.base_url, target.credentials.auth, pooled_session(settings.concurrency),
        deadline, Breaker(settings.breaker_threshold),
    )
    targets = [decisions[index] for index in calls]
    workers = min(settings.concurrency, len(calls))
    if workers == 1:
        deleted = list(map(client.delete, targets))
    else:
        from concurrent.futures import ThreadPoolExecutor  # a single delete needs no threads

        with ThreadPoolExecutor(workers, thread_name_prefix="image-cleanup") as pool:
            deleted = list(pool.map(client.delete, targets))  # workers take images in order
    by_index = dict(zip(calls, deleted, strict=True))
    return [final if final is not None else by_index[index] for index, final in enumerate(finals)]


def _read_event(event: Any, settings: Settings) -> tuple[Unwrapped, list[Notice], list[EventError], bool]:
    """Unwrap the event; its notices, its event-level errors, and whether it asks for dry-run."""
    unwrapped = unwrap(event, settings.event_types)
    notices: list[Notice] = []
    errors: list[EventError] = []
    dry_run = False
    for index, record in enumerate(unwrapped.records):
        found = read_notices(record, index)
        notices.extend(found.notices)
        if found.error is not None:
            errors.append(found.error)
        # a single event's top-level dry_run makes the whole run dry; in a batch, its record only
        dry_run = dry_run or (found.dry_run and not unwrapped.batch)
    return unwrapped, notices, errors, dry_run


def _log(document: dict[str, Any], redactor: Redactor) -> None:
    ids = {"invocation_id": document["invocation_id"], "event_id": document["event_id"]}
    for item in document["items"]:
        level = logging.INFO if item["outcome"] in OK_OUTCOMES else logging.WARNING
        log_json(level, "image", redactor, **ids, item=item)
    for error in document["errors"]:
        log_json(logging.WARNING, "event error", redactor, **ids, error=error)
    log_json(logging.INFO, "cleanup finished", redactor, **ids, result=document)


def run(
    event: Any,
    context: Any = None,
    *,
    force_dry_run: bool = False,
    settings: Settings | None = None,
) -> Invocation:
    """Handle one event; ``settings`` defaults to the environment's (cached per container)."""
    started_at = datetime.now(timezone.utc)
    started = time.monotonic()
    platform = read_context(context)
    settings = settings or load_settings()
    deadline = Deadline(platform.remaining_s, settings.deadline_margin_s, started)
    configure(settings.log_level)
    dry_run = settings.dry_run or force_dry_run
    target = None if dry_run else _require_target(settings, platform)
    redactor = Redactor([*settings.secret_values(), *platform.secret_values()])

    unwrapped, notices, errors, event_dry_run = _read_event(event, settings)
    dry_run = dry_run or event_dry_run
    policy = Policy(
        default_project_id=settings.project_id or platform.project_id or settings.runtime_project_id,
        allowed_project_ids=settings.allowed_project_ids,
        protected_image_ids=settings.protected_image_ids,
        max_images=settings.max_images,
        dry_run=dry_run,
        now=started_at,
    )
    decisions, cap_errors = decide(notices, policy, record_batch=unwrapped.record_batch)
    items = _execute(decisions, settings, target, deadline)

    error_entries = [error_entry(e.code, e.message, e.record_id) for e in [*errors, *cap_errors]]
    summary = summarise(items)
    result = CleanupResult(
        schema_version="1",
        status=overall_status(summary, len(error_entries)),
        trigger=unwrapped.trigger,
        event_id=unwrapped.event_id,
        invocation_id=platform.request_id or str(uuid.uuid4()),
        api=settings.api,
        dry_run=dry_run,
        started_at=_rfc3339(started_at),
        duration_ms=int((time.monotonic() - started) * 1000),
        summary=summary,
        items=items,
        errors=error_entries,
    )
    if unwrapped.trigger == "sqs":
        result["batchItemFailures"] = batch_item_failures(
            items, error_entries, (r.record_id for r in unwrapped.records)
        )
    document: dict[str, Any] = redactor.scrub_value(result)
    _log(document, redactor)
    retryable = any(item["retryable"] for item in items)
    return Invocation(
        document,
        raise_retryable=retryable and settings.fail_on_retryable and unwrapped.trigger != "sqs",
    )
