"""The result of an invocation (SPEC section 7) as typed models; the JSON Schema comes from them.

The models are ``TypedDict``s: a result is built as plain JSON-ready dicts (type-checked by
mypy), which costs nothing at import and next to nothing per image, where pydantic models would
add their build time to every cold start. pydantic still generates the JSON Schema from these
same types (``result_schema``), and the tests validate every result they produce against it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any, Literal

# typing_extensions (a dependency of pydantic): pydantic needs its TypedDict before Python 3.12
from typing_extensions import NotRequired, TypedDict

Outcome = Literal[
    "deleted", "already_absent", "would_delete", "skipped", "rejected", "failed", "deferred"
]
Status = Literal["succeeded", "partial", "failed", "rejected"]
Trigger = Literal[
    "direct", "cloudevent", "eventbridge", "sqs", "sns", "smn", "kafka", "timer", "unknown"
]
ErrorCode = Literal[
    "unrecognized_event", "unsupported_event_type", "too_many_images", "malformed_json", "no_images"
]
Api = Literal["ecs-v2.1", "ecs-v2", "ims"]

OK_OUTCOMES = frozenset({"deleted", "already_absent", "would_delete", "skipped"})
OUTCOMES: tuple[Outcome, ...] = (
    "deleted", "already_absent", "would_delete", "skipped", "rejected", "failed", "deferred"
)
MESSAGE_LIMIT = 512

if TYPE_CHECKING:  # the constraints matter to the schema only; at run time they are plain types
    ReasonCode = str
    Message = str
    Count = int
    Timestamp = str
else:
    from pydantic import Field

    ReasonCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    Message = Annotated[str, Field(max_length=MESSAGE_LIMIT)]
    Count = Annotated[int, Field(ge=0)]
    Timestamp = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")]


def clip_message(value: str | None) -> str | None:
    return value[:MESSAGE_LIMIT] if value is not None else None


class ItemResult(TypedDict):
    """What happened to one image."""

    image_id: str | None
    """The canonical lower-case UUID, or the raw value cut to 128 characters."""
    project_id: str | None
    outcome: Outcome
    reason: ReasonCode | None
    message: Message | None
    http_status: int | None
    attempts: Count
    request_id: str | None
    retryable: bool
    record_id: str | None
    duration_ms: Count


class ErrorEntry(TypedDict):
    """An event-level problem: a record or the whole event was refused."""

    code: ErrorCode
    message: Message
    record_id: str | None


class Summary(TypedDict):
    total: Count
    deleted: Count
    already_absent: Count
    would_delete: Count
    skipped: Count
    rejected: Count
    failed: Count
    deferred: Count


class BatchItemFailure(TypedDict):
    itemIdentifier: str


class CleanupResult(TypedDict):
    schema_version: Literal["1"]
    status: Status
    trigger: Trigger
    event_id: str | None
    invocation_id: str
    api: Api
    dry_run: bool
    started_at: Timestamp
    duration_ms: Count
    summary: Summary
    items: list[ItemResult]
    errors: list[ErrorEntry]
    batchItemFailures: NotRequired[list[BatchItemFailure]]
    """SQS only: the messages the queue must redeliver."""


def item_result(
    image_id: str | None,
    project_id: str | None,
    outcome: Outcome,
    *,
    reason: str | None = None,
    message: str | None = None,
    http_status: int | None = None,
    attempts: int = 0,
    request_id: str | None = None,
    retryable: bool = False,
    record_id: str | None = None,
    duration_ms: int = 0,
) -> ItemResult:
    return ItemResult(
        image_id=image_id, project_id=project_id, outcome=outcome, reason=reason,
        message=clip_message(message), http_status=http_status, attempts=attempts,
        request_id=request_id, retryable=retryable, record_id=record_id, duration_ms=duration_ms,
    )


def error_entry(code: ErrorCode, message: str, record_id: str | None) -> ErrorEntry:
    return ErrorEntry(code=code, message=message[:MESSAGE_LIMIT], record_id=record_id)


def summarise(items: Iterable[ItemResult]) -> Summary:
    counts = dict.fromkeys(OUTCOMES, 0)
    for item in items:
        counts[item["outcome"]] += 1
    return Summary(
        total=sum(counts.values()), deleted=counts["deleted"],
        already_absent=counts["already_absent"], would_delete=counts["would_delete"],
        skipped=counts["skipped"], rejected=counts["rejected"], failed=counts["failed"],
        deferred=counts["deferred"],
    )


def overall_status(summary: Summary, error_count: int) -> Status:
    ok = summary["deleted"] + summary["already_absent"] + summary["would_delete"] + summary["skipped"]
    bad = summary["rejected"] + summary["failed"] + summary["deferred"]
    if bad == 0 and error_count == 0:
        return "succeeded"
    if ok == 0:
        return "failed" if summary["failed"] or summary["deferred"] else "rejected"
    return "partial"


def needs_redelivery(item: ItemResult) -> bool:
    """Whether the message an item came from must go back to its queue."""
    outcome = item["outcome"]
    return outcome in ("deferred", "rejected") or (outcome == "failed" and item["retryable"])


def batch_item_failures(
    items: Iterable[ItemResult], errors: Iterable[ErrorEntry], record_ids: Iterable[str | None]
) -> list[BatchItemFailure]:
    """The messages to redeliver, in the batch's order."""
    failing = {item["record_id"] for item in items if needs_redelivery(item)}
    failing.update(error["record_id"] for error in errors)
    ordered = dict.fromkeys(r for r in record_ids if r is not None and r in failing)
    return [BatchItemFailure(itemIdentifier=record_id) for record_id in ordered]


def result_schema() -> dict[str, Any]:
    """The JSON Schema of ``CleanupResult``, generated by pydantic from the types above."""
    from pydantic import ConfigDict, TypeAdapter

    config = ConfigDict(extra="forbid", use_attribute_docstrings=True)
    for model in (ItemResult, ErrorEntry, Summary, BatchItemFailure, CleanupResult):
        setattr(model, "__pydantic_config__", config)  # noqa: B010 - TypedDicts take config this way
    schema = TypeAdapter(CleanupResult).json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/image-cleanup/image-cleanup/schemas/result.schema.json"
    return schema
