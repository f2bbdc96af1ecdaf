"""Configuration from the environment (SPEC section 5), read with pydantic-settings.

Settings are read once per container and reused while the environment is unchanged: a warm
invocation pays nothing, yet a changed variable (or a broken one) is seen on the next invocation.
"""

from __future__ import annotations

import ipaddress
import os
import re
import threading
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from image_cleanup.errors import ConfigurationError
from image_cleanup.identifiers import canonical_image_id, is_project_id

ApiName = Literal["ecs-v2.1", "ecs-v2", "ims"]
REGION_PATTERN = re.compile(r"[a-z]{2}-[a-z]+-[0-9]{1,3}")  # fullmatch: no trailing newline
_ENV_PREFIXES = ("CLEANUP_", "HUAWEICLOUD_SDK_", "RUNTIME_PROJECT_ID")

CsvSet = Annotated[frozenset[str], NoDecode]


def is_loopback_host(host: str | None) -> bool:
    """``localhost``, 127.0.0.0/8 and ::1 only: the hosts for which plain http is allowed."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return frozenset(entry.strip() for entry in value.split(",") if entry.strip())
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CLEANUP_", populate_by_name=True, extra="ignore", frozen=True,
        env_ignore_empty=True,  # a deployment template sets unused variables to ""
    )

    region: str | None = None
    endpoint: str | None = None
    api: ApiName = "ecs-v2.1"
    ims_delete_backup: bool = False
    auth_token: SecretStr | None = None
    ak: SecretStr | None = Field(default=None, validation_alias="HUAWEICLOUD_SDK_AK")
    sk: SecretStr | None = Field(default=None, validation_alias="HUAWEICLOUD_SDK_SK")
    security_token: SecretStr | None = Field(
        default=None, validation_alias="HUAWEICLOUD_SDK_SECURITY_TOKEN"
    )
    project_id: str | None = Field(default=None, validation_alias="HUAWEICLOUD_SDK_PROJECT_ID")
    runtime_project_id: str | None = Field(default=None, validation_alias="RUNTIME_PROJECT_ID")
    allowed_project_ids: CsvSet = frozenset()
    protected_image_ids: CsvSet = frozenset()
    event_types: CsvSet = frozenset({"image.expired", "Image Expired"})
    dry_run: bool = False
    max_images: int = Field(default=100, ge=1)
    concurrency: int = Field(default=8, ge=1, le=64)
    max_attempts: int = Field(default=4, ge=1, le=20)
    backoff_base_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=20.0, ge=0)
    connect_timeout_s: float = Field(default=3.0, gt=0)
    read_timeout_s: float = Field(default=10.0, gt=0)
    deadline_margin_s: float = Field(default=2.0, ge=0)
    breaker_threshold: int = Field(default=5, ge=0)
    fail_on_retryable: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    @field_validator("allowed_project_ids", "protected_image_ids", "event_types", mode="before")
    @classmethod
    def _csv(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("protected_image_ids")
    @classmethod
    def _lower_images(cls, value: frozenset[str]) -> frozenset[str]:
        # Protected IDs are compared case-insensitively; an entry that is not a UUID still
        # protects nothing by accident, so it is kept (lowered) rather than refused.
        return frozenset(canonical_image_id(v) or v.lower() for v in value)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and not REGION_PATTERN.fullmatch(value):
            raise ValueError("must look like cn-north-4")
        return value

    @field_validator("project_id", "runtime_project_id")
    @classmethod
    def _project(cls, value: str | None) -> str | None:
        if value is not None and not is_project_id(value):
            raise ValueError("must be 32 ASCII letters and digits")
        return value

    @field_validator("allowed_project_ids")
    @classmethod
    def _projects(cls, value: frozenset[str]) -> frozenset[str]:
        if not all(is_project_id(v) for v in value):
            raise ValueError("every entry must be 32 ASCII letters and digits")
        return value

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if "@" in value or not value.isprintable() or " " in value:
            raise ValueError("must not carry credentials, spaces or control characters")
        parts = urlsplit(value)
        try:
            parts.port  # noqa: B018 - urlsplit checks the port only when asked
        except ValueError:
            raise ValueError("has an invalid port") from None
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("must be an https URL such as https://ims.cn-north-4.myhuaweicloud.com")
        if parts.scheme == "http" and not is_loopback_host(parts.hostname):
            raise ValueError("plain http is allowed only for loopback hosts")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("must not carry a query, a fragment or credentials")
        return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"

    @model_validator(mode="after")
    def _backoff(self) -> Settings:
        if self.backoff_max_s < self.backoff_base_s:
            raise ValueError("CLEANUP_BACKOFF_MAX_S must not be below CLEANUP_BACKOFF_BASE_S")
        return self

    @property
    def base_url(self) -> str | None:
        if self.endpoint:
            return self.endpoint
        if self.region:
            service = "ims" if self.api == "ims" else "ecs"
            return f"https://{service}.{self.region}.myhuaweicloud.com"
        return None

    def secret_values(self) -> list[str]:
        secrets = (self.auth_token, self.ak, self.sk, self.security_token)
        return [s.get_secret_value() for s in secrets if s is not None and s.get_secret_value()]


def env_name(field: str) -> str:
    """The environment variable behind a settings field, for error messages."""
    info = Settings.model_fields.get(field)
    if info is not None and isinstance(info.validation_alias, str):
        return info.validation_alias
    return f"CLEANUP_{field.upper()}"


def _describe(error: ValidationError) -> str:
    # pydantic's own message echoes the input value, which may be a secret: build ours from
    # the location and the rule alone.
    parts = []
    for detail in error.errors(include_input=False, include_url=False):
        loc = detail.get("loc") or ()
        name = env_name(str(loc[0])) if loc else "settings"
        message = str(detail.get("msg", "invalid value")).removeprefix("Value error, ")
        parts.append(f"{name}: {message}")
    return "invalid setting: " + "; ".join(parts)


_cache_lock = threading.Lock()
# the last (environment, settings-or-error) pair; one entry is enough for a container
_cache: dict[str, tuple[tuple[tuple[str, str], ...], Settings | ConfigurationError]] = {}


def _relevant_environment() -> tuple[tuple[str, str], ...]:
    return tuple(
        sorted((k, v) for k, v in os.environ.items() if k.upper().startswith(_ENV_PREFIXES))
    )


def load_settings(**overrides: Any) -> Settings:
    """The settings for this invocation; raises ConfigurationError naming the bad setting."""
    if overrides:
        return _build(overrides)
    key = _relevant_environment()
    with _cache_lock:
        cached = _cache.get("last")
    if cached is None or cached[0] != key:
        try:
            built: Settings | ConfigurationError = _build({})
        except ConfigurationError as exc:
            built = exc
        cached = (key, built)
        with _cache_lock:
            _cache["last"] = cached
    if isinstance(cached[1], ConfigurationError):
        raise ConfigurationError(str(cached[1]))
    return cached[1]


def _build(overrides: dict[str, Any]) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigurationError(_describe(exc)) from None
