"""The result of an invocation (SPEC section 7) as typed models; the JSON Schema comes from them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Outcome = Literal[
    "deleted", "already_absent", "would_delete", "skipped", "rejected", "failed", "deferred"
]
Status = Literal["succeeded", "partial", "failed", "rejected"]
Trigger = Literal[
    "direct", "cloudevent", "eventbridge", "sqs", "sns", "smn", "kafka", "timer", "unknown"
]
ReasonCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
ErrorCode = Literal[
    "unrecognized_event", "unsupported_event_type", "too_many_images", "malformed_json", "no_images"
]

OK_OUTCOMES = frozenset({"deleted", "already_absent", "would_delete", "skipped"})
OUTCOMES: tuple[Outcome, ...] = (
    "deleted", "already_absent", "would_delete", "skipped", "rejected", "failed", "deferred"
)
MESSAGE_LIMIT = 512


def clip_message(value: Any) -> Any:
    return value[:MESSAGE_LIMIT] if isinstance(value, str) else value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)

    @field_validator("message", mode="before", check_fields=False)
    @classmethod
    def _clip(cls, value: Any) -> Any:
        return clip_message(value)


class ItemResult(_Model):
    """What happened to one image."""

    image_id: str | None = Field(
        description="canonical lower-case UUID, or the raw value cut to 128 characters"
    )
    project_id: str | None
    outcome: Outcome
    reason: ReasonCode | None = None
    message: Annotated[str, Field(max_length=MESSAGE_LIMIT)] | None = None
    http_status: int | None = None
    attempts: int = Field(default=0, ge=0)
    request_id: str | None = None
    retryable: bool = False
    record_id: str | None = None
    duration_ms: int = Field(default=0, ge=0)


class ErrorEntry(_Model):
    """An event-level problem: a record or the whole event was refused."""

    code: ErrorCode
    message: Annotated[str, Field(max_length=MESSAGE_LIMIT)]
    record_id: str | None = None


class Summary(_Model):
    total: int = 0
    deleted: int = 0
    already_absent: int = 0
    would_delete: int = 0
    skipped: int = 0
    rejected: int = 0
    failed: int = 0
    deferred: int = 0


class BatchItemFailure(_Model):
    itemIdentifier: str  # noqa: N815 - the name Lambda reads


class CleanupResult(_Model):
    schema_version: Literal["1"] = "1"
    status: Status
    trigger: Trigger
    event_id: str | None
    invocation_id: str
    api: Literal["ecs-v2.1", "ecs-v2", "ims"]
    dry_run: bool
    started_at: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")]
    duration_ms: int = Field(ge=0)
    summary: Summary
    items: list[ItemResult]
    errors: list[ErrorEntry]
    batchItemFailures: list[BatchItemFailure] | None = Field(  # noqa: N815 - the name Lambda reads
        default=None,
        exclude_if=lambda value: value is None,
        description="SQS only: the messages the queue must redeliver",
    )


def summarise(items: Iterable[ItemResult]) -> Summary:
    counts = dict.fromkeys(OUTCOMES, 0)
    for item in items:
        counts[item.outcome] += 1
    return Summary(total=sum(counts.values()), **counts)


def overall_status(summary: Summary, error_count: int) -> Status:
    ok = summary.deleted + summary.already_absent + summary.would_delete + summary.skipped
    bad = summary.rejected + summary.failed + summary.deferred
    if bad == 0 and error_count == 0:
        return "succeeded"
    if ok == 0:
        return "failed" if summary.failed or summary.deferred else "rejected"
    return "partial"


def needs_redelivery(item: ItemResult) -> bool:
    """Whether the message an item came from must go back to its queue."""
    return item.outcome in ("deferred", "rejected") or (item.outcome == "failed" and item.retryable)


def batch_item_failures(
    items: Iterable[ItemResult], errors: Iterable[ErrorEntry], record_ids: Iterable[str | None]
) -> list[BatchItemFailure]:
    """The messages to redeliver, in the batch's order."""
    failing = {item.record_id for item in items if needs_redelivery(item)}
    failing.update(error.record_id for error in errors)
    ordered = dict.fromkeys(r for r in record_ids if r is not None and r in failing)
    return [BatchItemFailure(itemIdentifier=record_id) for record_id in ordered]


def result_schema() -> dict[str, Any]:
    schema = CleanupResult.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/image-cleanup/image-cleanup/schemas/result.schema.json"
    return schema
