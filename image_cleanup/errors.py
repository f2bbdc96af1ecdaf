"""The two exceptions the handler lets escape to the platform."""


class ConfigurationError(ValueError):
    """A setting is invalid or missing. The message names the setting, never its value."""


class RetryableCleanupError(RuntimeError):
    """Some images are worth another try; raised after the result was logged.

    Raising makes FunctionGraph and Lambda apply their own retry and dead-letter handling to
    the whole event. Deletes are idempotent (404 is ``already_absent``), so a redelivery is safe.
    """

    def __init__(self, message: str, result: dict[str, object]) -> None:
        super().__init__(message)
        self.result = result
