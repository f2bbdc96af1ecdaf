"""image-cleanup: delete expired private cloud images when an event says so.

The public surface is small on purpose: ``handler.handler`` is the entry point; this package
exports the exceptions the handler raises and ``run``, which returns the result without raising
the retryable error (the CLI and tests use it). Submodules load lazily so a cold start pays only
for what the invocation uses.
"""

from typing import TYPE_CHECKING, Any

from image_cleanup.errors import ConfigurationError, RetryableCleanupError

if TYPE_CHECKING:
    from image_cleanup.cleanup import Invocation
    from image_cleanup.settings import Settings

__all__ = ["ConfigurationError", "RetryableCleanupError", "run"]
__version__ = "1.0.0"


def run(
    event: Any, context: Any = None, *, force_dry_run: bool = False, settings: "Settings | None" = None
) -> "Invocation":
    """Run one invocation and return it, without raising for retryable images.

    ``settings`` defaults to the environment's; see ``image_cleanup.cleanup.run``.
    """
    from image_cleanup.cleanup import run as _run

    return _run(event, context, force_dry_run=force_dry_run, settings=settings)
