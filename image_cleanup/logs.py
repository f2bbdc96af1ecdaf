"""Structured JSON log lines on standard error, scrubbed of every known secret.

Every line passes through ``Redactor`` on its way out, so a secret cannot leak even if an API
error message or an exception text were to echo one back.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from typing import Any

LOGGER_NAME = "image_cleanup"
REDACTED = "***"
# Shorter "secrets" are not scrubbed: replacing every "t" of a one-letter token would garble every
# message while protecting nothing (real tokens, AKs and SKs are tens of characters or more).
MIN_SECRET_LENGTH = 8
_logger = logging.getLogger(LOGGER_NAME)


class Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if len(secret) >= MIN_SECRET_LENGTH:
                forms.add(secret)
                forms.add(json.dumps(secret)[1:-1])  # as it appears inside a JSON string
        # longest first, so a secret that contains another is replaced whole
        self._forms = sorted(forms, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    def scrub_value(self, value: Any) -> Any:
        """A JSON-ready value with secrets replaced in every string inside it."""
        if not self._forms:
            return value
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {k: self.scrub_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub_value(v) for v in value]
        return value


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (the CLI and tests swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure(level: str) -> None:
    """Give the package's logger its own stderr handler (idempotent across invocations)."""
    if not _logger.handlers:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        _logger.addHandler(handler)
        _logger.propagate = False  # the platform's root handler would wrap our JSON in text
    _logger.setLevel(level)


def log_json(level: int, message: str, redactor: Redactor, **fields: Any) -> None:
    if not _logger.isEnabledFor(level):
        return
    line = json.dumps(
        {"level": logging.getLevelName(level), "message": message, **fields},
        ensure_ascii=False, separators=(",", ":"), default=str,
    )
    _logger.log(level, redactor.scrub(line))


def log_configuration_error(error: Exception) -> None:
    """The one JSON line for a configuration error; its message never holds a setting's value."""
    configure("INFO")
    log_json(logging.ERROR, "configuration error", Redactor(()), error=str(error),
             error_type=type(error).__name__)
