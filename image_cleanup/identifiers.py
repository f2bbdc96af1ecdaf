"""Pure validators for the values an event supplies: image IDs, project IDs, timestamps.

Regular expressions with ``fullmatch`` and ASCII classes, not ``uuid.UUID``: the standard parser
accepts braces, ``urn:uuid:`` prefixes and missing hyphens, and ``\\d`` would admit full-width
digits. Nothing but the canonical form may reach a URL.
"""

from __future__ import annotations

import re
from datetime import datetime

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_PROJECT = re.compile(r"[0-9A-Za-z]{32}")
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def canonical_image_id(raw: object) -> str | None:
    """The lower-case canonical UUID, or None when ``raw`` is anything else."""
    if isinstance(raw, str) and _UUID.fullmatch(raw):
        return raw.lower()
    return None


def is_project_id(raw: object) -> bool:
    return isinstance(raw, str) and _PROJECT.fullmatch(raw) is not None


def parse_rfc3339(raw: object) -> datetime | None:
    """An aware datetime for an RFC 3339 timestamp with an offset, else None."""
    if not isinstance(raw, str) or not _RFC3339.fullmatch(raw):
        return None
    # Python 3.10's fromisoformat knows neither "Z" nor more than 6 fraction digits
    text = raw.replace("t", "T").replace(" ", "T").replace("z", "+00:00").replace("Z", "+00:00")
    seconds, dot, rest = text.partition(".")
    if dot:
        # datetime.fromisoformat takes at most 6 fraction digits; RFC 3339 allows more.
        fraction = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        text = f"{seconds}.{fraction[:6].ljust(6, '0')}{rest[len(fraction):]}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # e.g. month 13 or hour 25: the shape was right, the date was not
        return None


def clip(raw: object, limit: int = 128) -> str | None:
    """A raw value for reporting: strings cut to ``limit`` characters, anything else None."""
    return raw[:limit] if isinstance(raw, str) else None
