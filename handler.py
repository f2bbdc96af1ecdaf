"""Platform entry point: ``handler.handler(event, context)`` on FunctionGraph and Lambda.

Run as a script, it is the command line (``python handler.py --help``).
"""

from __future__ import annotations

import sys
from typing import Any

from image_cleanup import ConfigurationError, RetryableCleanupError
from image_cleanup.cleanup import run
from image_cleanup.logs import log_configuration_error


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """Delete the expired images the event names and return the result (SPEC section 7).

    Raises ConfigurationError for bad settings, and RetryableCleanupError (after logging the
    result) when some image is worth another try and the trigger is not SQS.
    """
    try:
        invocation = run(event, context)
    except ConfigurationError as exc:
        log_configuration_error(exc)
        raise
    if invocation.raise_retryable:
        raise RetryableCleanupError(invocation.summary_line(), invocation.result)
    return invocation.result


if __name__ == "__main__":
    from image_cleanup.cli import main

    sys.exit(main())
